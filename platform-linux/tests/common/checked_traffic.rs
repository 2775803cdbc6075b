//! Traffic whose every byte the receiver checks.
//!
//! What each party sends each peer in a round (how many messages, how long,
//! which bytes) is a function of (seed, round, sender, receiver), so the
//! receiver knows what must arrive without being told. A message lost,
//! duplicated, reordered, cut short or altered on the way fails the check
//! of the round it lands in.
//!
//! Shared by the integration tests (`tests/common`) and the soak program
//! (`examples/soak.rs`, which includes this file by path).

use std::fmt;
use ternion::{Party, Rank, Source, TagFilter};

/// The tag every checked message travels with, so that receives match in
/// posting order.
pub const TAG: u32 = 11;

/// Most messages one party sends one peer in one round.
const MAX_MESSAGES: u64 = 3;

/// A seeded plan of rounds.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    /// Chooses the whole plan.
    pub seed: u64,
    /// The longest message is `1 << max_len_log2` bytes; lengths are spread
    /// evenly over the powers of two up to it, so most rounds are quick and
    /// some carry megabytes.
    pub max_len_log2: u32,
}

/// What one party received and checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages that arrived intact, in their place.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.messages += other.messages;
        self.bytes += other.bytes;
    }
}

/// Why a round failed.
#[derive(Debug)]
pub enum TrafficError {
    /// A ternion call failed.
    Api(ternion::Error),
    /// A message arrived, but not the one that belongs in this receive.
    Wrong {
        /// The round.
        round: u64,
        /// The peer it should have come from.
        from: Rank,
        /// Its place among that peer's messages of the round.
        index: usize,
        /// What is wrong with it.
        what: String,
    },
}

impl From<ternion::Error> for TrafficError {
    fn from(e: ternion::Error) -> Self {
        TrafficError::Api(e)
    }
}

impl fmt::Display for TrafficError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrafficError::Api(e) => write!(f, "{e}"),
            TrafficError::Wrong {
                round,
                from,
                index,
                what,
            } => write!(
                f,
                "round {round}: message {index} from {from} is not what was sent: {what}"
            ),
        }
    }
}

/// xorshift64*: fast, and good enough to make every message's bytes
/// distinct (and to pick moments to cut at).
pub struct XorShift(u64);

impl XorShift {
    /// A generator whose whole sequence `seed` decides.
    pub fn new(seed: u64) -> XorShift {
        // The all-zero state would stay zero.
        XorShift(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..bound` (bound > 0; the slight bias does not matter here).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// Hashes the fields that name a message into one seed (splitmix64 steps).
fn mix(fields: [u64; 5]) -> u64 {
    fields.into_iter().fold(0, |h, field| {
        let mut z = (h ^ field).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

impl Traffic {
    /// Lengths of the messages `from` sends `to` in `round`, in sending order.
    pub fn lengths(&self, round: u64, from: Rank, to: Rank) -> Vec<usize> {
        let mut rng = XorShift::new(mix([self.seed, round, rank(from), rank(to), u64::MAX]));
        let count = 1 + rng.below(MAX_MESSAGES);
        (0..count)
            .map(|_| {
                let bits = rng.below(u64::from(self.max_len_log2) + 1);
                1 + rng.below(1 << bits) as usize
            })
            .collect()
    }

    /// The bytes of message `index` from `from` to `to` in `round`.
    fn pattern(&self, round: u64, from: Rank, to: Rank, index: usize) -> XorShift {
        XorShift::new(mix([self.seed, round, rank(from), rank(to), index as u64]))
    }

    /// Fills `buf` with the bytes that message must carry.
    pub fn fill(&self, round: u64, from: Rank, to: Rank, index: usize, buf: &mut [u8]) {
        let mut pattern = self.pattern(round, from, to, index);
        for chunk in buf.chunks_mut(8) {
            let word = pattern.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    /// The offset of the first byte of `buf` that differs from what the
    /// message must carry.
    fn first_difference(
        &self,
        round: u64,
        from: Rank,
        to: Rank,
        index: usize,
        buf: &[u8],
    ) -> Option<usize> {
        let mut pattern = self.pattern(round, from, to, index);
        buf.chunks(8).enumerate().find_map(|(i, chunk)| {
            let word = pattern.next().to_le_bytes();
            let at = chunk.iter().zip(word).position(|(got, want)| *got != want);
            at.map(|at| i * 8 + at)
        })
    }

    /// What `me` must receive over rounds `0..rounds`.
    pub fn expected(&self, rounds: u64, me: Rank) -> Tally {
        let mut tally = Tally::default();
        for round in 0..rounds {
            for from in me.others() {
                for len in self.lengths(round, from, me) {
                    tally += Tally {
                        messages: 1,
                        bytes: len as u64,
                    };
                }
            }
        }
        tally
    }
}

fn rank(r: Rank) -> u64 {
    r.index() as u64
}

/// Message buffers kept for reuse, so a long run's memory stays flat and
/// its time goes to moving bytes rather than faulting in new pages.
#[derive(Default)]
pub struct Buffers(Vec<Vec<u8>>);

impl Buffers {
    fn take(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.0.pop().unwrap_or_default();
        buf.resize(len, 0);
        buf
    }

    fn give(&mut self, buf: Vec<u8>) {
        self.0.push(buf);
    }
}

/// One round for `party`: posts every receive and send of the round at
/// once, waits for all of them, and checks each message received.
pub fn run_round(
    party: &Party,
    traffic: &Traffic,
    round: u64,
    buffers: &mut Buffers,
) -> Result<Tally, TrafficError> {
    let me = party.rank();
    let mut expected = Vec::new();
    let mut requests = Vec::new();
    for from in me.others() {
        for (index, len) in traffic.lengths(round, from, me).into_iter().enumerate() {
            let buf = buffers.take(len);
            requests.push(party.irecv(Source::Rank(from), TagFilter::Tag(TAG), buf)?);
            expected.push((from, index, len));
        }
    }
    for to in me.others() {
        for (index, len) in traffic.lengths(round, me, to).into_iter().enumerate() {
            let mut buf = buffers.take(len);
            traffic.fill(round, me, to, index, &mut buf);
            requests.push(party.isend_vec(to, TAG, buf)?);
        }
    }
    let mut completed = party.wait_all(requests)?.into_iter();
    let mut tally = Tally::default();
    // `wait_all` returns the receives' results first, in posting order.
    for ((from, index, len), received) in expected.into_iter().zip(&mut completed) {
        let wrong = |what: String| TrafficError::Wrong {
            round,
            from,
            index,
            what,
        };
        if received.status.peer != from {
            return Err(wrong(format!("it came from {}", received.status.peer)));
        }
        if received.status.len != len as u64 {
            return Err(wrong(format!(
                "{} bytes where {len} were sent",
                received.status.len
            )));
        }
        let bytes = received.into_bytes();
        if let Some(at) = traffic.first_difference(round, from, me, index, &bytes) {
            return Err(wrong(format!("byte {at} of {len} differs")));
        }
        buffers.give(bytes);
        tally += Tally {
            messages: 1,
            bytes: len as u64,
        };
    }
    for sent in completed {
        buffers.give(sent.into_bytes());
    }
    Ok(tally)
}
