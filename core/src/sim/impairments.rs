//! What the medium does to each packet.

use crate::time::Duration;

/// How the medium carries packets, and the faults it draws independently
/// for every packet sent.
///
/// Reordering is not a separate knob: it follows from `jitter`, since a
/// packet sent later with a shorter delay overtakes an earlier one. The
/// `bandwidth` keeps that realistic: it spaces a host's packets out as a
/// real link does, so a packet can overtake only those sent less than
/// `jitter` before it. Without it a whole TCP window leaves at one instant
/// and any jitter shuffles it completely, which no TCP handles well
/// (smoltcp's receiver keeps at most four out-of-order ranges and drops
/// segments beyond them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairments {
    /// One-way delay every packet takes at least.
    pub base_delay: Duration,
    /// Extra delay, uniform in `0..=jitter`, drawn per packet (and per copy).
    pub jitter: Duration,
    /// Bytes per second each host puts on the wire: a packet leaves once
    /// the ones its host sent before it have, and takes `len / bandwidth`
    /// to do so. 0 sends every packet at once.
    pub bandwidth: u64,
    /// Probability that a packet is dropped.
    pub loss: f64,
    /// Probability that a packet that survived loss is delivered twice
    /// (each copy with its own delay).
    pub duplicate: f64,
    /// Probability that a delivered copy has one bit flipped. The Internet
    /// checksum detects every single-bit error, so a corrupted packet is
    /// always rejected by the receiving stack (IPv4 header or TCP checksum)
    /// and acts as a loss. Multi-bit flips could slip past the checksum, as
    /// they occasionally do on real networks; that would corrupt the byte
    /// stream itself, which plaintext links do not claim to detect, so the
    /// medium never makes them.
    pub corrupt: f64,
}

impl Impairments {
    /// A perfect network: 1 ms one way at 1 Gbit/s, nothing lost, nothing reordered.
    pub const PERFECT: Impairments = Impairments {
        base_delay: Duration::from_millis(1),
        jitter: Duration::ZERO,
        bandwidth: 125_000_000,
        loss: 0.0,
        duplicate: 0.0,
        corrupt: 0.0,
    };

    /// A bad network: 5% loss, 2% duplication, 1% corruption, and 1–1.3 ms
    /// of delay at 100 Mbit/s, so a full-sized packet (120 µs on the wire)
    /// can be overtaken by the two or three sent after it.
    pub const HOSTILE: Impairments = Impairments {
        base_delay: Duration::from_millis(1),
        jitter: Duration::from_micros(300),
        bandwidth: 12_500_000,
        loss: 0.05,
        duplicate: 0.02,
        corrupt: 0.01,
    };
}

impl Default for Impairments {
    fn default() -> Self {
        Impairments::PERFECT
    }
}
