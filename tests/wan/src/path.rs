//! One direction between two parties: a FIFO link with a rate, a delay,
//! jitter, random loss, a bounded buffer and scheduled outages. Pure (it is
//! handed packets and the time), so its timing is tested without a network.

use crate::profile::Profile;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The least buffer a link has, so that a slow path still takes a burst.
const MIN_BUFFER_BYTES: u64 = 1 << 20;

/// Why a packet was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// The profile's random loss.
    Loss,
    /// The link's buffer was full (the sender outran the rate).
    BufferFull,
    /// The link was down (a scheduled outage).
    Outage,
}

/// Counters for one direction.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PathStats {
    pub delivered: u64,
    pub lost: u64,
    pub buffer_full: u64,
    pub outage: u64,
}

/// One direction of one pair of parties.
#[derive(Debug)]
pub struct Path {
    profile: Profile,
    /// When the link has sent every byte it accepted so far.
    busy_until: Option<Instant>,
    /// When the last accepted packet is delivered; none may be earlier.
    last_delivery: Option<Instant>,
    queue: VecDeque<(Instant, Vec<u8>)>,
    /// The longest a packet may wait for the link before it is dropped.
    max_backlog: Duration,
    outages: Vec<(Instant, Instant)>,
    rng: u64,
    stats: PathStats,
}

impl Path {
    /// A path with `profile`, whose randomness starts from `seed`.
    pub fn new(profile: Profile, seed: u64) -> Path {
        let buffer = profile.bdp_bytes().max(MIN_BUFFER_BYTES);
        Path {
            profile,
            busy_until: None,
            last_delivery: None,
            queue: VecDeque::new(),
            max_backlog: transmit_time(buffer as usize, profile.rate_bps),
            outages: Vec::new(),
            rng: seed | 1,
            stats: PathStats::default(),
        }
    }

    /// The link is down from `from` for `length`.
    pub fn add_outage(&mut self, from: Instant, length: Duration) {
        self.outages.push((from, from + length));
    }

    /// Takes a packet the sender wrote at `now`: queued for delivery, or dropped.
    pub fn offer(&mut self, now: Instant, packet: Vec<u8>) -> Result<(), Drop> {
        if self.outages.iter().any(|&(a, b)| now >= a && now < b) {
            self.stats.outage += 1;
            return Err(Drop::Outage);
        }
        if self.profile.loss > 0.0 && self.uniform() < self.profile.loss {
            self.stats.lost += 1;
            return Err(Drop::Loss);
        }
        let start = self.busy_until.map_or(now, |b| b.max(now));
        if start - now > self.max_backlog {
            self.stats.buffer_full += 1;
            return Err(Drop::BufferFull);
        }
        let sent = start + transmit_time(packet.len(), self.profile.rate_bps);
        self.busy_until = Some(sent);
        let jitter = self.profile.jitter.mul_f64(self.uniform());
        let due = sent + self.profile.delay + jitter;
        let due = self.last_delivery.map_or(due, |last| due.max(last));
        self.last_delivery = Some(due);
        self.queue.push_back((due, packet));
        Ok(())
    }

    /// When the next packet is due, if one is queued.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.front().map(|&(due, _)| due)
    }

    /// The next packet, if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_due()? > now {
            return None;
        }
        self.stats.delivered += 1;
        self.queue.pop_front().map(|(_, packet)| packet)
    }

    pub fn stats(&self) -> PathStats {
        self.stats
    }

    /// A uniform sample in [0, 1) (xorshift64*: emulation, not cryptography).
    fn uniform(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How long `bytes` take on a link of `rate_bps`.
fn transmit_time(bytes: usize, rate_bps: u64) -> Duration {
    Duration::from_nanos((bytes as u128 * 8 * 1_000_000_000 / rate_bps.max(1) as u128) as u64)
}

#[cfg(test)]
mod test {
    use super::*;

    fn flat(delay_ms: u64, rate_bps: u64) -> Profile {
        Profile {
            delay: Duration::from_millis(delay_ms),
            jitter: Duration::ZERO,
            loss: 0.0,
            rate_bps,
            mtu: 9000,
        }
    }

    #[test]
    fn a_packet_arrives_after_its_transmit_time_and_the_delay() {
        let t0 = Instant::now();
        let mut p = Path::new(flat(10, 8_000_000), 1);
        p.offer(t0, vec![0; 1000]).unwrap();
        // 1000 bytes at 8 Mbit/s take 1 ms.
        assert_eq!(p.next_due(), Some(t0 + Duration::from_millis(11)));
        assert!(p.pop_due(t0 + Duration::from_millis(10)).is_none());
        assert_eq!(
            p.pop_due(t0 + Duration::from_millis(11)).unwrap().len(),
            1000
        );
    }

    #[test]
    fn back_to_back_packets_are_spaced_by_the_rate() {
        let t0 = Instant::now();
        let mut p = Path::new(flat(0, 8_000_000), 1);
        for _ in 0..3 {
            p.offer(t0, vec![0; 1000]).unwrap();
        }
        let mut dues = Vec::new();
        while let Some(due) = p.next_due() {
            dues.push(due - t0);
            p.pop_due(due);
        }
        assert_eq!(dues, [1, 2, 3].map(Duration::from_millis));
    }

    #[test]
    fn jitter_spreads_sparse_packets_and_never_reorders_dense_ones() {
        let t0 = Instant::now();
        let jittery = Profile {
            jitter: Duration::from_millis(5),
            ..flat(10, 10_000_000_000)
        };
        // Packets further apart than the jitter: each gets its own delay.
        let mut p = Path::new(jittery, 7);
        let mut delays = Vec::new();
        for i in 0..200u64 {
            let sent = t0 + Duration::from_millis(6 * i);
            p.offer(sent, vec![0; 4]).unwrap();
            let due = p.next_due().unwrap();
            delays.push(due - sent);
            p.pop_due(due).unwrap();
        }
        let (lo, hi) = (delays.iter().min().unwrap(), delays.iter().max().unwrap());
        assert!(*lo >= Duration::from_millis(10) && *hi <= Duration::from_millis(15));
        assert!(
            *hi - *lo > Duration::from_millis(4),
            "jitter is applied: {lo:?}..{hi:?}"
        );
        // Packets 1 µs apart: delivered in the order sent.
        let mut p = Path::new(jittery, 7);
        for i in 0..1000u32 {
            p.offer(
                t0 + Duration::from_micros(i as u64),
                i.to_le_bytes().to_vec(),
            )
            .unwrap();
        }
        let mut last = None;
        for i in 0..1000u32 {
            let due = p.next_due().unwrap();
            assert!(last.is_none_or(|l| due >= l));
            last = Some(due);
            assert_eq!(p.pop_due(due).unwrap(), i.to_le_bytes());
        }
    }

    #[test]
    fn loss_drops_about_the_share_asked_for() {
        let t0 = Instant::now();
        let mut p = Path::new(
            Profile {
                loss: 0.01,
                ..flat(0, 10_000_000_000)
            },
            3,
        );
        let lost = (0..100_000)
            .filter(|_| p.offer(t0, vec![0; 1]) == Err(Drop::Loss))
            .count();
        assert!((800..1200).contains(&lost), "{lost} of 100000 lost");
    }

    #[test]
    fn a_full_buffer_drops_and_an_outage_drops_everything() {
        let t0 = Instant::now();
        // 1 MiB of buffer at 8 Mbit/s is about 1 s of backlog.
        let mut p = Path::new(flat(0, 8_000_000), 1);
        let accepted = (0..2000)
            .take_while(|_| p.offer(t0, vec![0; 1000]).is_ok())
            .count();
        assert!((1040..1060).contains(&accepted), "{accepted} accepted");
        assert_eq!(p.stats().buffer_full, 1);
        let later = t0 + Duration::from_secs(10);
        p.add_outage(later, Duration::from_secs(2));
        assert_eq!(
            p.offer(later + Duration::from_secs(1), vec![0]),
            Err(Drop::Outage)
        );
        assert!(p.offer(later + Duration::from_secs(2), vec![0]).is_ok());
    }
}
