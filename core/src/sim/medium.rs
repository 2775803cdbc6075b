//! The wire between the three interfaces: it knows only IPv4 packets, and
//! decides when (and whether, and how intact) each one arrives.

use super::impairments::Impairments;
use super::rng::SimRng;
use crate::time::{Duration, Instant};
use alloc::collections::BinaryHeap;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};
use smoltcp::wire::{Ipv4Address, Ipv4Packet};

/// Counters of what the medium did, to check that a test's faults happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediumStats {
    /// Packets handed to the medium.
    pub sent: u64,
    /// Copies handed to a receiving port.
    pub delivered: u64,
    /// Packets dropped by random loss.
    pub lost: u64,
    /// Packets sent twice.
    pub duplicated: u64,
    /// Copies delivered with a flipped bit.
    pub corrupted: u64,
    /// Packets (or copies) dropped because their pair was partitioned.
    pub partitioned: u64,
    /// Packets for an address no port has (or not IPv4 at all).
    pub unroutable: u64,
    /// Copies delivered after a packet sent later between the same pair.
    pub reordered: u64,
}

/// A period during which every packet between two addresses is dropped.
#[derive(Debug, Clone, Copy)]
struct Partition {
    a: Ipv4Address,
    b: Ipv4Address,
    from: Instant,
    until: Instant,
}

impl Partition {
    fn cuts(&self, x: Ipv4Address, y: Ipv4Address, at: Instant) -> bool {
        let pair = (x == self.a && y == self.b) || (x == self.b && y == self.a);
        pair && self.from <= at && at < self.until
    }
}

/// One copy of a packet on its way.
#[derive(Debug)]
struct InFlight {
    due: Instant,
    /// Unique per copy, in the order copies were made: breaks ties between
    /// copies due at the same instant, the same way every run.
    order: u64,
    /// Which packet this is, in send order (both copies of a duplicate share it).
    packet_number: u64,
    src: Ipv4Address,
    dst: Ipv4Address,
    to: usize,
    bytes: Vec<u8>,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for InFlight {}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// Carries packets between ports, one port per address, applying
/// [`Impairments`] and partitions.
#[derive(Debug)]
pub struct Medium {
    impairments: Impairments,
    rng: SimRng,
    ports: Vec<Ipv4Address>,
    /// Per port: when the packets it has sent so far will have left it.
    wire_free_at: Vec<Instant>,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    copies_made: u64,
    partitions: Vec<Partition>,
    /// Per (source port, destination port): the highest packet number delivered.
    last_delivered: Vec<Option<u64>>,
    stats: MediumStats,
}

impl Medium {
    /// A medium joining one port per address in `ports`, drawing its faults from `rng`.
    pub fn new(impairments: Impairments, rng: SimRng, ports: Vec<Ipv4Address>) -> Medium {
        let pairs = ports.len() * ports.len();
        Medium {
            impairments,
            rng,
            wire_free_at: vec![Instant::default(); ports.len()],
            ports,
            in_flight: BinaryHeap::new(),
            copies_made: 0,
            partitions: Vec::new(),
            last_delivered: vec![None; pairs],
            stats: MediumStats::default(),
        }
    }

    /// What the medium has done so far.
    pub fn stats(&self) -> MediumStats {
        self.stats
    }

    /// Drops every packet between `a` and `b` (either way) that is sent or
    /// due in `from..until`, as a cut cable would, including those already
    /// on their way when the cut begins.
    pub fn partition(&mut self, a: Ipv4Address, b: Ipv4Address, from: Instant, until: Instant) {
        self.partitions.push(Partition { a, b, from, until });
    }

    /// Packets (copies) still on their way.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// When the next packet is due, if any is on its way.
    pub fn next_due(&self) -> Option<Instant> {
        self.in_flight.peek().map(|Reverse(p)| p.due)
    }

    /// Takes a packet sent at `now`: routes it by its IPv4 destination, queues
    /// it behind its host's earlier packets, and schedules zero, one or two
    /// copies according to the impairments.
    pub fn send(&mut self, now: Instant, bytes: Vec<u8>) {
        self.stats.sent += 1;
        let packet_number = self.stats.sent;
        let Some((src, dst)) = addresses(&bytes) else {
            self.stats.unroutable += 1;
            return;
        };
        let Some(to) = self.ports.iter().position(|&a| a == dst) else {
            self.stats.unroutable += 1;
            return;
        };
        let departs = self.put_on_wire(now, src, bytes.len());
        if self.is_cut(src, dst, departs) {
            self.stats.partitioned += 1;
            return;
        }
        // Draws happen in a fixed order for every packet, so a run replays exactly.
        if self.rng.chance(self.impairments.loss) {
            self.stats.lost += 1;
            return;
        }
        if self.rng.chance(self.impairments.duplicate) {
            self.stats.duplicated += 1;
            let twin = bytes.clone();
            self.schedule(departs, packet_number, (src, dst, to), twin);
        }
        self.schedule(departs, packet_number, (src, dst, to), bytes);
    }

    /// When a packet of `len` bytes sent by `src` at `now` has left its
    /// host, behind the packets that host sent before it.
    fn put_on_wire(&mut self, now: Instant, src: Ipv4Address, len: usize) -> Instant {
        let Some(port) = self.ports.iter().position(|&a| a == src) else {
            return now;
        };
        let bandwidth = self.impairments.bandwidth;
        if bandwidth == 0 {
            return now;
        }
        let micros = (len as u64).saturating_mul(1_000_000).div_ceil(bandwidth);
        let departs = self.wire_free_at[port].max(now) + Duration::from_micros(micros);
        self.wire_free_at[port] = departs;
        departs
    }

    /// Puts one copy that left its host at `departs` on its way, with its
    /// own delay and maybe a flipped bit.
    fn schedule(
        &mut self,
        departs: Instant,
        packet_number: u64,
        (src, dst, to): (Ipv4Address, Ipv4Address, usize),
        mut bytes: Vec<u8>,
    ) {
        let jitter_us = u64::try_from(self.impairments.jitter.as_micros()).unwrap_or(u64::MAX);
        let extra = Duration::from_micros(self.rng.below(jitter_us.saturating_add(1)));
        if self.rng.chance(self.impairments.corrupt) && !bytes.is_empty() {
            let bit = self.rng.below(bytes.len() as u64 * 8) as usize;
            bytes[bit / 8] ^= 1 << (bit % 8);
            self.stats.corrupted += 1;
        }
        self.copies_made += 1;
        self.in_flight.push(Reverse(InFlight {
            due: departs + self.impairments.base_delay + extra,
            order: self.copies_made,
            packet_number,
            src,
            dst,
            to,
            bytes,
        }));
    }

    /// Hands every copy due by `now` to `deliver(port, bytes)`, earliest first.
    pub fn deliver_due(&mut self, now: Instant, mut deliver: impl FnMut(usize, Vec<u8>)) {
        while self.next_due().is_some_and(|due| due <= now) {
            let Some(Reverse(copy)) = self.in_flight.pop() else {
                return;
            };
            if self.is_cut(copy.src, copy.dst, copy.due) {
                self.stats.partitioned += 1;
                continue;
            }
            self.note_order(&copy);
            self.stats.delivered += 1;
            deliver(copy.to, copy.bytes);
        }
    }

    fn is_cut(&self, src: Ipv4Address, dst: Ipv4Address, at: Instant) -> bool {
        self.partitions.iter().any(|p| p.cuts(src, dst, at))
    }

    fn note_order(&mut self, copy: &InFlight) {
        let Some(from) = self.ports.iter().position(|&a| a == copy.src) else {
            return;
        };
        let last = &mut self.last_delivered[from * self.ports.len() + copy.to];
        match *last {
            Some(n) if copy.packet_number < n => self.stats.reordered += 1,
            _ => *last = Some(copy.packet_number),
        }
    }
}

/// The source and destination of an IPv4 packet, if it is one.
fn addresses(bytes: &[u8]) -> Option<(Ipv4Address, Ipv4Address)> {
    let packet = Ipv4Packet::new_checked(bytes).ok()?;
    Some((packet.src_addr(), packet.dst_addr()))
}
