//! The checks behind ternion-core's fuzz targets.
//!
//! Each module holds one target's whole check as a plain function of the
//! input bytes; the files in `fuzz_targets/` only hand libFuzzer's input to
//! it. Keeping the checks here lets the seed generator
//! (`examples/make_seeds.rs`) run every seed it writes through its target,
//! so a seed that no longer passes is caught when the corpus is made.
//!
//! Every check uses only ternion-core's public API, so the targets keep
//! building while the core's internals change.

mod allocation_limit;
mod fixed_size_codec;
pub mod frame_decoder;
pub mod handshake;
pub mod hello;
pub mod link;

use ternion_core::{Duration, Instant};

/// Every target, and the seed generator, runs under the cap.
#[global_allocator]
static ALLOCATOR: allocation_limit::CappedAllocator = allocation_limit::CappedAllocator;

/// Chunk sizes in which a simulated peer can hand its bytes to the socket,
/// selected by two bits of an input's first byte. Whole-at-once delivery is
/// what a fast peer looks like; small chunks make the endpoint meet every
/// header, hello and record split across reads.
const CHUNK_LENS: [usize; 4] = [usize::MAX, 1, 7, 64];

/// The chunk size that `selector` (any value; only its two low bits count) names.
fn chunk_len(selector: u8) -> usize {
    CHUNK_LENS[usize::from(selector & 3)]
}

/// The bits of `chunk_len` that select `len`, for encoding seeds.
fn chunk_selector(len: usize) -> u8 {
    CHUNK_LENS
        .iter()
        .position(|&l| l == len)
        .expect("a chunk size from CHUNK_LENS") as u8
}

/// Where the simulated clock starts (zero is avoided so no deadline
/// computed from it is the clock's origin).
const START: Instant = Instant::from_micros(1);

/// The next instant to run at when a poll moved nothing: the earliest
/// deadline any endpoint asked for, but always later than `now`, so the
/// clock cannot stall on a deadline an endpoint fails to act on.
fn next_instant(now: Instant, deadlines: impl IntoIterator<Item = Option<Instant>>) -> Instant {
    let soonest = deadlines.into_iter().flatten().min();
    let step = now + Duration::from_micros(1);
    soonest.map_or(step, |at| at.max(step))
}
