//! The simulation's only source of randomness.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded ChaCha8 generator. Each user of randomness takes its own
/// stream of the same seed, so adding draws in one place (say, a new
/// impairment on the medium) does not shift the numbers another sees.
#[derive(Debug, Clone)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    /// Stream `stream` of the generator seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> SimRng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        SimRng { inner }
    }

    /// A uniformly random 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A value in `0..bound` (0 when `bound` is 0), by multiply-shift: the
    /// bias is below 2^-32 for the bounds a simulation uses.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// True with probability `p` (never for `p <= 0` or NaN, always for `p >= 1`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p >= 1.0 {
            return true;
        }
        // `as` saturates: negative and NaN become 0, so they never fire.
        let threshold = (p * 18_446_744_073_709_551_616.0) as u64;
        self.next_u64() < threshold
    }
}
