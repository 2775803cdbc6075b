//! The secure channel: a Noise KK handshake after the hellos, then every
//! frame sealed in one authenticated-encryption record.
//!
//! Why KK: every party's static public key is in every party's
//! configuration, so both ends can authenticate each other in one round
//! trip, before any application byte moves, and no identity needs hiding
//! (ranks are public). The prologue binds both hellos, so the session id,
//! both ranks and the capabilities are authenticated too. Records are
//! Noise transport messages, sealed in place by [`cipher`] under the
//! handshake's split keys with per-direction counters as nonces: a record
//! that is altered, replayed, reordered or dropped fails authentication and
//! ends the link. See `docs/security.md`.

pub mod cipher;

use crate::error::{HandshakeFailure, LinkError, SecurityError};
use crate::rank::{Rank, PARTIES};
use crate::wire::{RecordRepr, MAX_RECORD_BODY, RECORD_PREFIX_LEN};
use alloc::boxed::Box;
pub use cipher::{CipherProvider, RecordCipher};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use zeroize::Zeroize;

/// Length of a Curve25519 key.
pub const KEY_LEN: usize = 32;
/// Authentication tag added to every record.
pub const TAG_LEN: usize = 16;
/// The largest frame (header and payload) one record can carry.
pub const MAX_SEALED_FRAME: usize = MAX_RECORD_BODY - TAG_LEN;

/// Bound into every handshake, with both hellos.
const PROLOGUE_LABEL: &[u8] = b"ternion/1";

/// The authenticated-encryption algorithm of the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aead {
    /// AES-256-GCM: the fastest where the CPU has AES instructions.
    AesGcm,
    /// ChaCha20-Poly1305: fast everywhere in software.
    ChaChaPoly,
}

impl Aead {
    /// The algorithm a configuration names: `aes-gcm` or `chacha20-poly1305`.
    pub fn from_name(name: &str) -> Option<Aead> {
        match name {
            "aes-gcm" => Some(Aead::AesGcm),
            "chacha20-poly1305" => Some(Aead::ChaChaPoly),
            _ => None,
        }
    }

    fn pattern(self) -> &'static str {
        match self {
            Aead::AesGcm => "Noise_KK_25519_AESGCM_SHA256",
            Aead::ChaChaPoly => "Noise_KK_25519_ChaChaPoly_SHA256",
        }
    }
}

/// A party's keys and the keys it expects of the others.
#[derive(Clone)]
pub struct SecureConfig {
    /// This party's static private key.
    pub private_key: [u8; KEY_LEN],
    /// Every party's static public key, indexed by rank (our own entry is unused).
    pub public_keys: [[u8; KEY_LEN]; PARTIES],
    /// The record algorithm; both ends must agree.
    pub aead: Aead,
    /// Fresh randomness from the platform, for the handshakes' ephemeral keys.
    pub seed: [u8; 32],
    /// Faster record ciphers the platform offers, if any.
    pub ciphers: Option<CipherProvider>,
}

impl core::fmt::Debug for SecureConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys and seeds never reach a log.
        f.debug_struct("SecureConfig")
            .field("aead", &self.aead)
            .finish_non_exhaustive()
    }
}

impl Drop for SecureConfig {
    fn drop(&mut self) {
        self.private_key.zeroize();
        self.seed.zeroize();
    }
}

/// The public key of a private key, for `ternion keygen` and configurations.
pub fn public_key(private_key: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    let dh = DefaultResolver.resolve_dh(&DHChoice::Curve25519);
    let mut public = [0u8; KEY_LEN];
    if let Some(mut dh) = dh {
        dh.set(private_key);
        public.copy_from_slice(dh.pubkey());
    }
    public
}

/// Supplies snow's primitives, with randomness from the platform's seed
/// instead of an operating-system call (there is none in a kernel).
struct SeededResolver {
    seed: [u8; 32],
}

struct SeededRandom(ChaCha20Rng);

impl snow::types::Random for SeededRandom {
    fn try_fill_bytes(&mut self, out: &mut [u8]) -> Result<(), snow::Error> {
        self.0.fill_bytes(out);
        Ok(())
    }
}

impl CryptoResolver for SeededResolver {
    fn resolve_rng(&self) -> Option<Box<dyn snow::types::Random>> {
        Some(Box::new(SeededRandom(ChaCha20Rng::from_seed(self.seed))))
    }
    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn snow::types::Dh>> {
        DefaultResolver.resolve_dh(choice)
    }
    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn snow::types::Hash>> {
        DefaultResolver.resolve_hash(choice)
    }
    /// The handshake's own few encryptions; the records use [`cipher`].
    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn snow::types::Cipher>> {
        DefaultResolver.resolve_cipher(choice)
    }
}

/// Why the secure channel refused something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureError {
    /// The handshake failed, for the reason snow gave.
    Handshake(HandshakeFailure),
    /// A record failed authentication: altered, replayed, reordered or dropped.
    RecordRejected,
    /// A length outside what a record can be.
    BadLength,
    /// A direction has used every record number Noise allows under one key.
    NoncesExhausted,
}

/// snow's reason for a failed handshake, in ternion's terms.
fn handshake_failure(e: snow::Error) -> SecureError {
    SecureError::Handshake(match e {
        snow::Error::Decrypt => HandshakeFailure::Decrypt,
        snow::Error::Input => HandshakeFailure::BadMessage,
        snow::Error::Dh => HandshakeFailure::BadKey,
        snow::Error::State(_) => HandshakeFailure::OutOfOrder,
        snow::Error::Rng => HandshakeFailure::Randomness,
        _ => HandshakeFailure::Setup,
    })
}

impl From<SecureError> for LinkError {
    fn from(e: SecureError) -> Self {
        match e {
            SecureError::Handshake(reason) => reason.into(),
            SecureError::RecordRejected => LinkError::Security(SecurityError::RecordRejected),
            SecureError::NoncesExhausted => LinkError::Security(SecurityError::NoncesExhausted),
            // Only a handshake message can come in with a bad length.
            SecureError::BadLength => HandshakeFailure::BadMessage.into(),
        }
    }
}

/// One link's handshake in progress.
pub struct Handshake {
    state: snow::HandshakeState,
    aead: Aead,
    ciphers: Option<CipherProvider>,
}

/// One link's established channel: a record cipher and a record counter
/// for each direction.
pub struct Channel {
    sealer: Box<dyn RecordCipher>,
    opener: Box<dyn RecordCipher>,
    sealed: u64,
    opened: u64,
}

impl core::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Handshake")
    }
}

impl core::fmt::Debug for Channel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Channel")
    }
}

/// The prologue both ends must agree on: the label and both hellos, the
/// dialler's first.
pub fn prologue(dialler_hello: &[u8], acceptor_hello: &[u8]) -> alloc::vec::Vec<u8> {
    let mut p = alloc::vec::Vec::with_capacity(
        PROLOGUE_LABEL.len() + dialler_hello.len() + acceptor_hello.len(),
    );
    p.extend_from_slice(PROLOGUE_LABEL);
    p.extend_from_slice(dialler_hello);
    p.extend_from_slice(acceptor_hello);
    p
}

impl Handshake {
    /// Starts the handshake with `peer`; the dialler initiates.
    pub fn new(
        config: &SecureConfig,
        peer: Rank,
        initiator: bool,
        prologue: &[u8],
        nonce: u64,
    ) -> Result<Handshake, SecureError> {
        let params = config.aead.pattern().parse().map_err(handshake_failure)?;
        // Each handshake draws its ephemeral key from its own stream of the seed.
        let mut seed = config.seed;
        for (b, n) in seed.iter_mut().zip(nonce.to_le_bytes()) {
            *b ^= n;
        }
        let resolver = SeededResolver { seed };
        let builder = snow::Builder::with_resolver(params, Box::new(resolver))
            .local_private_key(&config.private_key)
            .and_then(|b| b.remote_public_key(&config.public_keys[peer.index()]))
            .and_then(|b| b.prologue(prologue));
        seed.zeroize();
        let builder = builder.map_err(handshake_failure)?;
        let state = if initiator {
            builder.build_initiator()
        } else {
            builder.build_responder()
        };
        state
            .map(|state| Handshake {
                state,
                aead: config.aead,
                ciphers: config.ciphers,
            })
            .map_err(handshake_failure)
    }

    /// Writes our next handshake message, length-prefixed, into `out`.
    pub fn write(&mut self, out: &mut alloc::vec::Vec<u8>) -> Result<(), SecureError> {
        let mut buf = [0u8; 256];
        let n = self
            .state
            .write_message(&[], &mut buf)
            .map_err(handshake_failure)?;
        let mut prefix = [0u8; RECORD_PREFIX_LEN];
        RecordRepr { body_len: n }
            .emit(&mut prefix)
            .map_err(|_| SecureError::BadLength)?;
        out.extend_from_slice(&prefix);
        out.extend_from_slice(&buf[..n]);
        Ok(())
    }

    /// Reads the peer's handshake message (without its length prefix).
    pub fn read(&mut self, message: &[u8]) -> Result<(), SecureError> {
        let mut buf = [0u8; 256];
        self.state
            .read_message(message, &mut buf)
            .map(drop)
            .map_err(handshake_failure)
    }

    /// True once both messages have passed.
    pub fn is_finished(&self) -> bool {
        self.state.is_handshake_finished()
    }

    /// Switches to the records, keyed from the handshake's split: the
    /// initiator seals with the first key and opens with the second.
    pub fn into_channel(mut self) -> Result<Channel, SecureError> {
        if !self.state.is_handshake_finished() {
            return Err(SecureError::Handshake(HandshakeFailure::OutOfOrder));
        }
        let (mut first, mut second) = self.state.dangerously_get_raw_split();
        let (seal_key, open_key) = if self.state.is_initiator() {
            (&first, &second)
        } else {
            (&second, &first)
        };
        let channel = Channel {
            sealer: cipher::record_cipher(self.ciphers, self.aead, seal_key),
            opener: cipher::record_cipher(self.ciphers, self.aead, open_key),
            sealed: 0,
            opened: 0,
        };
        first.zeroize();
        second.zeroize();
        Ok(channel)
    }
}

/// The next record number of a direction; Noise reserves the last one.
fn take_nonce(counter: &mut u64) -> Result<u64, SecureError> {
    if *counter == u64::MAX {
        return Err(SecureError::NoncesExhausted);
    }
    *counter += 1;
    Ok(*counter - 1)
}

impl Channel {
    /// Appends one length-prefixed record to `out` whose plaintext (at most
    /// [`MAX_SEALED_FRAME`] bytes) `write` appends straight into place, to
    /// be sealed there. On failure `out` is as it was.
    pub fn seal_with(
        &mut self,
        out: &mut alloc::vec::Vec<u8>,
        write: impl FnOnce(&mut alloc::vec::Vec<u8>),
    ) -> Result<(), SecureError> {
        let at = out.len();
        out.extend_from_slice(&[0; RECORD_PREFIX_LEN]);
        write(out);
        let sealed = self.seal_appended(out, at);
        if sealed.is_err() {
            out.truncate(at);
        }
        sealed
    }

    /// Seals `plaintext` as one length-prefixed record appended to `out`.
    pub fn seal(
        &mut self,
        plaintext: &[u8],
        out: &mut alloc::vec::Vec<u8>,
    ) -> Result<(), SecureError> {
        self.seal_with(out, |out| out.extend_from_slice(plaintext))
    }

    fn seal_appended(
        &mut self,
        out: &mut alloc::vec::Vec<u8>,
        at: usize,
    ) -> Result<(), SecureError> {
        let body_at = at + RECORD_PREFIX_LEN;
        let plain_len = out.len() - body_at;
        if plain_len > MAX_SEALED_FRAME {
            return Err(SecureError::BadLength);
        }
        let nonce = take_nonce(&mut self.sealed)?;
        let tag = self
            .sealer
            .seal_in_place(nonce, &mut out[body_at..])
            .ok_or(SecureError::BadLength)?;
        out.extend_from_slice(&tag);
        RecordRepr {
            body_len: plain_len + TAG_LEN,
        }
        .emit(&mut out[at..])
        .map_err(|_| SecureError::BadLength)
    }

    /// Opens the next record, whose body (ciphertext, then tag) is
    /// `in_out[body_at..]`, into the front of `in_out`; returns the
    /// plaintext's length.
    pub fn open_within(&mut self, in_out: &mut [u8], body_at: usize) -> Result<usize, SecureError> {
        if in_out.len().saturating_sub(body_at) < TAG_LEN {
            return Err(SecureError::BadLength);
        }
        let nonce = take_nonce(&mut self.opened)?;
        self.opener
            .open_within(nonce, in_out, body_at)
            .ok_or(SecureError::RecordRejected)
    }

    /// Opens one record body into `out`, returning the plaintext length.
    #[cfg(test)]
    pub(crate) fn open(&mut self, record: &[u8], out: &mut [u8]) -> Result<usize, SecureError> {
        let Some(room) = out.get_mut(..record.len()) else {
            return Err(SecureError::BadLength);
        };
        room.copy_from_slice(record);
        self.open_within(room, 0)
    }
}

/// The two ends of an established channel, for tests of what runs over one.
#[cfg(test)]
pub(crate) fn test_channel_pair() -> (Channel, Channel) {
    test::pair(test::KEYS, test::KEYS, b"p").expect("matching keys")
}

#[cfg(test)]
mod test {
    use super::*;
    use alloc::vec::Vec;

    fn config(me: u8, keys: &[[u8; 32]; 3]) -> SecureConfig {
        SecureConfig {
            private_key: keys[me as usize],
            public_keys: [
                public_key(&keys[0]),
                public_key(&keys[1]),
                public_key(&keys[2]),
            ],
            aead: Aead::AesGcm,
            seed: [me + 1; 32],
            ciphers: None,
        }
    }

    pub(super) fn pair(
        keys_a: [[u8; 32]; 3],
        keys_b: [[u8; 32]; 3],
        prologue_b: &[u8],
    ) -> Result<(Channel, Channel), SecureError> {
        let r = |i| Rank::new(i).unwrap();
        let mut a = Handshake::new(&config(1, &keys_a), r(0), true, b"p", 1)?;
        let mut b = Handshake::new(&config(0, &keys_b), r(1), false, prologue_b, 2)?;
        let mut m1 = Vec::new();
        a.write(&mut m1)?;
        b.read(&m1[2..])?;
        let mut m2 = Vec::new();
        b.write(&mut m2)?;
        a.read(&m2[2..])?;
        Ok((a.into_channel()?, b.into_channel()?))
    }

    pub(super) const KEYS: [[u8; 32]; 3] = [[11; 32], [22; 32], [33; 32]];

    #[test]
    fn records_round_trip_and_reject_tampering() {
        let (mut a, mut b) = pair(KEYS, KEYS, b"p").unwrap();
        let mut wire = Vec::new();
        a.seal(b"share", &mut wire).unwrap();
        a.seal(b"again", &mut wire).unwrap();
        assert!(
            !wire.windows(5).any(|w| w == b"share"),
            "plaintext must not appear on the wire"
        );
        let first_len = crate::wire::Record::new_checked(&wire[..])
            .unwrap()
            .total_len();
        let (first, second) = wire.split_at(first_len);
        let mut out = [0u8; 64];
        // Out of order: the second record is refused where the first belongs.
        let mut b2 = pair(KEYS, KEYS, b"p").unwrap().1;
        assert_eq!(
            b2.open(&second[2..], &mut out),
            Err(SecureError::RecordRejected)
        );
        // A flipped bit is refused.
        let mut flipped = first.to_vec();
        flipped[5] ^= 1;
        assert_eq!(
            b.open(&flipped[2..], &mut out),
            Err(SecureError::RecordRejected)
        );
        let (mut _a, mut b) = pair(KEYS, KEYS, b"p").unwrap();
        let mut wire = Vec::new();
        _a.seal(b"share", &mut wire).unwrap();
        let n = b.open(&wire[2..], &mut out).unwrap();
        assert_eq!(&out[..n], b"share");
        // Replaying it is refused.
        assert_eq!(
            b.open(&wire[2..], &mut out),
            Err(SecureError::RecordRejected)
        );
    }

    #[test]
    fn wrong_keys_or_prologue_fail_the_handshake() {
        let mut other = KEYS;
        other[1] = [99; 32];
        // B expects A's real key, but A holds another one.
        assert!(pair(other, KEYS, b"p").is_err());
        assert!(pair(KEYS, KEYS, b"different hello").is_err());
    }

    #[test]
    fn debug_output_hides_keys() {
        let text = alloc::format!("{:?}", config(0, &KEYS));
        assert!(!text.contains("11"));
    }

    /// Both handshakes of a pair, finished.
    fn finished_handshakes(aead: Aead) -> (Handshake, Handshake) {
        let r = |i| Rank::new(i).unwrap();
        let (mut ca, mut cb) = (config(1, &KEYS), config(0, &KEYS));
        ca.aead = aead;
        cb.aead = aead;
        let mut a = Handshake::new(&ca, r(0), true, b"p", 1).unwrap();
        let mut b = Handshake::new(&cb, r(1), false, b"p", 2).unwrap();
        let mut m1 = Vec::new();
        a.write(&mut m1).unwrap();
        b.read(&m1[2..]).unwrap();
        let mut m2 = Vec::new();
        b.write(&mut m2).unwrap();
        a.read(&m2[2..]).unwrap();
        (a, b)
    }

    /// The records sealed and opened in place are exactly Noise transport
    /// messages: snow's own transport state, on the other end, reads ours
    /// and writes what ours opens, in both directions and for both AEADs.
    #[test]
    fn records_are_noise_transport_messages() {
        for aead in [Aead::AesGcm, Aead::ChaChaPoly] {
            for ours_initiates in [true, false] {
                let (a, b) = finished_handshakes(aead);
                let (ours, theirs) = if ours_initiates { (a, b) } else { (b, a) };
                let mut ours = ours.into_channel().unwrap();
                let mut theirs = theirs.state.into_transport_mode().unwrap();
                for round in 0..3u8 {
                    let message = [round; 300];
                    let mut record = Vec::new();
                    ours.seal(&message, &mut record).unwrap();
                    let mut read = [0u8; 300];
                    let n = theirs.read_message(&record[2..], &mut read).unwrap();
                    assert_eq!(&read[..n], &message[..]);

                    let mut written = [0u8; 316];
                    let n = theirs.write_message(&message, &mut written).unwrap();
                    let mut opened = [0u8; 316];
                    let n = ours.open(&written[..n], &mut opened).unwrap();
                    assert_eq!(&opened[..n], &message[..]);
                }
            }
        }
    }

    #[test]
    fn a_record_opens_behind_bytes_already_staged() {
        let (mut a, mut b) = pair(KEYS, KEYS, b"p").unwrap();
        let mut staged = b"parsed?".to_vec();
        a.seal_with(&mut staged, |out| out.extend_from_slice(b"frame"))
            .unwrap();
        let n = b.open_within(&mut staged[7..], RECORD_PREFIX_LEN).unwrap();
        assert_eq!(&staged[..7 + n], b"parsed?frame");
    }

    #[test]
    fn the_last_record_number_is_never_used() {
        let (mut a, _) = pair(KEYS, KEYS, b"p").unwrap();
        a.sealed = u64::MAX;
        let mut out = b"kept".to_vec();
        assert_eq!(a.seal(b"x", &mut out), Err(SecureError::NoncesExhausted));
        assert_eq!(out, b"kept", "a refused record leaves nothing behind");
    }
}
