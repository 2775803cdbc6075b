//! Correlated randomness: fresh shares of zero, made without communication.

use super::ring::Ring;
use alloc::vec::Vec;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Size of a key seeding one party's zero-sharing generator.
pub(super) const KEY_LEN: usize = 32;

/// Party `i`'s two generators, seeded with the key `k_i` it drew and the key
/// `k_{i+1}` its successor drew.
///
/// Resharing a product must hide it with a random mask that the three parties'
/// masks cancel out of: `alpha_i = F(k_i) - F(k_{i+1})` sums to zero over the
/// ring of parties. Each key is held by exactly two parties, whose copies of
/// the generator stay in step because every party draws the same number of
/// values in the same order.
#[derive(Debug)]
pub(super) struct ZeroSharing {
    own: ChaCha20Rng,
    next: ChaCha20Rng,
}

impl ZeroSharing {
    /// Generators from this party's key and its successor's key.
    pub(super) fn new(own_key: [u8; KEY_LEN], next_key: [u8; KEY_LEN]) -> Self {
        ZeroSharing {
            own: ChaCha20Rng::from_seed(own_key),
            next: ChaCha20Rng::from_seed(next_key),
        }
    }

    /// This party's share `alpha_i` of `len` zeros in ring `R`.
    pub(super) fn next_zero_shares<R: Ring>(&mut self, len: usize) -> Vec<u64> {
        (0..len)
            .map(|_| R::sub(self.own.next_u64(), self.next.next_u64()))
            .collect()
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::ring::{Arithmetic, Boolean};

    fn assert_shares_cancel<R: Ring>(parties: &mut [ZeroSharing]) {
        let shares: Vec<Vec<u64>> = parties
            .iter_mut()
            .map(|p| p.next_zero_shares::<R>(16))
            .collect();
        for ((a, b), c) in shares[0].iter().zip(&shares[1]).zip(&shares[2]) {
            assert_eq!(R::add(R::add(*a, *b), *c), 0);
            assert_ne!(*a, 0, "a mask must not be trivially zero");
        }
    }

    #[test]
    fn shares_of_zero_cancel() {
        let keys = [[1u8; KEY_LEN], [2u8; KEY_LEN], [3u8; KEY_LEN]];
        let mut parties: Vec<ZeroSharing> = (0..3)
            .map(|i| ZeroSharing::new(keys[i], keys[(i + 1) % 3]))
            .collect();
        assert_shares_cancel::<Arithmetic>(&mut parties);
        assert_shares_cancel::<Boolean>(&mut parties);
        assert_shares_cancel::<Arithmetic>(&mut parties);
    }
}
