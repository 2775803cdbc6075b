//! The record ciphers: Noise's transport encryption, run in place.
//!
//! A record is exactly a Noise transport message: sealed under the key the
//! handshake's split gives its direction, with the record's number in that
//! direction as the nonce and no associated data. The channel runs it
//! itself rather than through snow's transport state because snow's cipher
//! interface takes the plaintext and the output as separate buffers, which
//! costs a copy of every byte on each side: here a frame is written once,
//! straight into the outgoing buffer, and sealed there, and a record is
//! opened where it arrived.

use super::{Aead, KEY_LEN, TAG_LEN};
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes256Gcm;
use alloc::boxed::Box;
use chacha20poly1305::ChaCha20Poly1305;

/// One direction's record cipher, in place.
///
/// A platform may supply its own (assembly AES-GCM on a hosted system)
/// through a [`CipherProvider`]; every implementation must produce Noise's
/// records bit for bit, so that parties on different platforms interoperate.
pub trait RecordCipher: Send + Sync {
    /// Encrypts `in_out` in place as record number `nonce` and returns its
    /// tag; `None` only if the implementation refuses the length.
    fn seal_in_place(&self, nonce: u64, in_out: &mut [u8]) -> Option<[u8; TAG_LEN]>;

    /// Opens record number `nonce`, whose body (ciphertext, then tag) is
    /// `in_out[body_at..]`, writing its plaintext to the front of `in_out`;
    /// returns the plaintext's length, or `None` if the record fails
    /// authentication (the plaintext area then holds nothing of use).
    fn open_within(&self, nonce: u64, in_out: &mut [u8], body_at: usize) -> Option<usize>;
}

/// A platform's faster record cipher for `aead` under `key`, if it has one;
/// `None` falls back to the portable implementation.
pub type CipherProvider = fn(aead: Aead, key: &[u8; KEY_LEN]) -> Option<Box<dyn RecordCipher>>;

/// The 96-bit nonce Noise derives from a record number: four zero bytes,
/// then the number, big-endian for AES-GCM and little-endian for
/// ChaCha20-Poly1305 (the Noise specification, section 12).
pub fn noise_nonce(aead: Aead, number: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&match aead {
        Aead::AesGcm => number.to_be_bytes(),
        Aead::ChaChaPoly => number.to_le_bytes(),
    });
    nonce
}

/// The record cipher `provider` offers for `aead` under `key`, or the
/// portable one.
pub(super) fn record_cipher(
    provider: Option<CipherProvider>,
    aead: Aead,
    key: &[u8; KEY_LEN],
) -> Box<dyn RecordCipher> {
    provider
        .and_then(|provide| provide(aead, key))
        .unwrap_or_else(|| portable(aead, key))
}

/// RustCrypto's implementation, which builds for every target (the
/// soft-float kernel included).
pub fn portable(aead: Aead, key: &[u8; KEY_LEN]) -> Box<dyn RecordCipher> {
    match aead {
        Aead::AesGcm => Box::new(Portable {
            aead,
            cipher: Aes256Gcm::new(GenericArray::from_slice(key)),
        }),
        Aead::ChaChaPoly => Box::new(Portable {
            aead,
            cipher: ChaCha20Poly1305::new(GenericArray::from_slice(key)),
        }),
    }
}

struct Portable<C> {
    aead: Aead,
    cipher: C,
}

impl<C> RecordCipher for Portable<C>
where
    C: AeadInPlace<NonceSize = U12, TagSize = U16> + Send + Sync,
{
    fn seal_in_place(&self, nonce: u64, in_out: &mut [u8]) -> Option<[u8; TAG_LEN]> {
        let nonce = noise_nonce(self.aead, nonce);
        let tag = self
            .cipher
            .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &[], in_out)
            .ok()?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&tag);
        Some(out)
    }

    fn open_within(&self, nonce: u64, in_out: &mut [u8], body_at: usize) -> Option<usize> {
        let body_len = in_out.len().checked_sub(body_at)?;
        let plain_len = body_len.checked_sub(TAG_LEN)?;
        in_out.copy_within(body_at.., 0);
        let (plaintext, rest) = in_out.split_at_mut(plain_len);
        let tag = &rest[..TAG_LEN];
        let nonce = noise_nonce(self.aead, nonce);
        self.cipher
            .decrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                &[],
                plaintext,
                GenericArray::from_slice(tag),
            )
            .ok()?;
        Some(plain_len)
    }
}
