//! One party of a three-party computation and its set-up.

use super::comm::Comm;
use super::counting::{CommCounts, CountingComm};
use super::zero_sharing::{ZeroSharing, KEY_LEN};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use ternion_core::rank::Rank;

/// Number of `u64` words that carry one zero-sharing key.
const KEY_WORDS: usize = KEY_LEN / 8;

/// This party's side of a three-party computation: its connections (counted),
/// its private randomness and the correlated randomness shared with its
/// neighbours.
///
/// The operations live with the concept they implement: inputs
/// ([`Party::share_input`]), opening ([`Party::reveal`], [`Party::open`]),
/// multiplication ([`Party::multiply`]) and comparison
/// ([`Party::greater_than`]). All three parties must call the same operations
/// in the same order on arrays of the same length.
#[derive(Debug)]
pub struct Party<C: Comm> {
    pub(super) comm: CountingComm<C>,
    pub(super) zero_sharing: ZeroSharing,
    /// Private randomness for splitting this party's inputs.
    pub(super) rng: ChaCha20Rng,
}

impl<C: Comm> Party<C> {
    /// Sets up the correlated randomness: one round in which each party sends
    /// a fresh key, drawn from a generator seeded with `seed`, to its
    /// predecessor.
    ///
    /// `seed` must be secret and fresh for every run: it determines every
    /// random share this party makes.
    pub fn setup(comm: C, seed: [u8; 32]) -> Result<Self, C::Error> {
        let mut comm = CountingComm::new(comm);
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut own_key = [0u8; KEY_LEN];
        rng.fill_bytes(&mut own_key);

        let mut next_words = [0u64; KEY_WORDS];
        comm.exchange_u64s(&key_to_words(own_key), &mut next_words)?;
        Ok(Party {
            comm,
            zero_sharing: ZeroSharing::new(own_key, words_to_key(next_words)),
            rng,
        })
    }

    /// This party's rank.
    pub fn rank(&self) -> Rank {
        self.comm.rank()
    }

    /// Communication used since [`Party::setup`] began, set-up included.
    pub fn counts(&self) -> CommCounts {
        self.comm.counts()
    }

    /// The underlying (counted) layer, for messages outside the protocol.
    pub fn comm_mut(&mut self) -> &mut CountingComm<C> {
        &mut self.comm
    }
}

fn key_to_words(key: [u8; KEY_LEN]) -> [u64; KEY_WORDS] {
    let mut words = [0u64; KEY_WORDS];
    for (word, bytes) in words.iter_mut().zip(key.chunks_exact(8)) {
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        *word = u64::from_le_bytes(array);
    }
    words
}

fn words_to_key(words: [u64; KEY_WORDS]) -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    for (bytes, word) in key.chunks_exact_mut(8).zip(words) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    key
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn key_survives_the_trip_as_words() {
        let key: [u8; KEY_LEN] = core::array::from_fn(|i| i as u8 * 7);
        assert_eq!(words_to_key(key_to_words(key)), key);
    }
}
