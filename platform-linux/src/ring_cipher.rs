//! ring's assembly AES-GCM and ChaCha20-Poly1305 as the record ciphers:
//! several times faster than the core's portable ones on x86-64 (AES-NI,
//! VAES, AVX-512), and able to open a record while moving its plaintext to
//! where the parser reads it, in the same pass.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, CHACHA20_POLY1305};
use ternion_core::secure::cipher::{noise_nonce, RecordCipher};
use ternion_core::secure::{Aead, KEY_LEN, TAG_LEN};

/// One direction's key. `LessSafeKey` because the nonces are the channel's
/// record counter, which never repeats under a key.
struct RingRecords {
    aead: Aead,
    key: LessSafeKey,
}

/// The [`ternion_core::secure::CipherProvider`] of hosted parties.
pub fn ring_records(aead: Aead, key: &[u8; KEY_LEN]) -> Option<Box<dyn RecordCipher>> {
    let algorithm = match aead {
        Aead::AesGcm => &AES_256_GCM,
        Aead::ChaChaPoly => &CHACHA20_POLY1305,
    };
    let key = UnboundKey::new(algorithm, key).ok()?;
    Some(Box::new(RingRecords {
        aead,
        key: LessSafeKey::new(key),
    }))
}

impl RingRecords {
    fn nonce(&self, number: u64) -> Nonce {
        Nonce::assume_unique_for_key(noise_nonce(self.aead, number))
    }
}

impl RecordCipher for RingRecords {
    fn seal_in_place(&self, nonce: u64, in_out: &mut [u8]) -> Option<[u8; TAG_LEN]> {
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(nonce), Aad::empty(), in_out)
            .ok()?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Some(out)
    }

    fn open_within(&self, nonce: u64, in_out: &mut [u8], body_at: usize) -> Option<usize> {
        self.key
            .open_within(self.nonce(nonce), Aad::empty(), in_out, body_at..)
            .ok()
            .map(|plaintext| plaintext.len())
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use ternion_core::secure::cipher::portable;

    /// ring's records and the portable ones are the same bytes, both ways,
    /// so a hosted party and an in-kernel one can talk.
    #[test]
    fn ring_and_portable_records_interoperate() {
        for aead in [Aead::AesGcm, Aead::ChaChaPoly] {
            let key = [7u8; KEY_LEN];
            let ring = ring_records(aead, &key).unwrap();
            let soft = portable(aead, &key);
            let plaintext: Vec<u8> = (0..1000u32).map(|i| (i * 31) as u8).collect();
            for (sealer, opener) in [(&ring, &soft), (&soft, &ring)] {
                let mut by_one = plaintext.clone();
                let tag = sealer.seal_in_place(5, &mut by_one).unwrap();
                assert_ne!(by_one, plaintext);
                // A 3-byte prefix in front, as a record lies behind staged bytes.
                let mut lying = vec![0xAA; 3];
                lying.extend_from_slice(&by_one);
                lying.extend_from_slice(&tag);
                let n = opener.open_within(5, &mut lying, 3).unwrap();
                assert_eq!(&lying[..n], &plaintext[..]);
                // Under another record number it does not open.
                let mut again = by_one.clone();
                again.extend_from_slice(&tag);
                assert_eq!(opener.open_within(6, &mut again, 0), None);
            }
        }
    }
}
