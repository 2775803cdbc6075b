//! Three parties, their stacks and the medium between them, in virtual time.

use super::address::address_of;
use super::config::SimConfig;
use super::host::SimHost;
use super::medium::Medium;
use super::network::SimNetwork;
use super::rng::SimRng;
use super::socket::SimSocket;
use crate::config::EndpointConfig;
use crate::endpoint::Endpoint;
use crate::rank::{Rank, PARTIES};
use crate::time::{earliest, Instant};
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

/// An endpoint on the simulated network.
pub type SimEndpoint<Tx, Rx> = Endpoint<SimSocket, Tx, Rx>;

/// Steps allowed at one instant before the world declares a livelock. A
/// healthy run takes a few steps per instant (even a zero-delay medium
/// moves a whole socket buffer per step); this only stops a run whose
/// parts keep reporting progress without end.
const MAX_STEPS_PER_INSTANT: u64 = 10_000_000;

/// The stream of the world's seed each user of randomness draws from.
const MEDIUM_STREAM: u64 = 0;
const FIRST_HOST_STREAM: u64 = 1;

/// Why [`SimWorld::run_until`] stopped before its condition held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunError {
    /// Nothing is due ever again: no packet on its way, no timer, no deadline.
    Idle {
        /// The virtual time when the world went quiet.
        at: Instant,
    },
    /// The time limit passed.
    TimeLimit {
        /// The virtual time reached.
        at: Instant,
    },
    /// The world kept stepping at one instant without end.
    Livelock {
        /// The instant it was stuck at.
        at: Instant,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Idle { at } => write!(f, "nothing left to happen at {} us", at.as_micros()),
            RunError::TimeLimit { at } => write!(f, "time limit passed at {} us", at.as_micros()),
            RunError::Livelock { at } => write!(f, "no end of steps at {} us", at.as_micros()),
        }
    }
}

impl core::error::Error for RunError {}

/// A reset of every connection between two parties, due at an instant.
#[derive(Debug, Clone, Copy)]
struct ScheduledReset {
    at: Instant,
    a: Rank,
    b: Rank,
}

/// Three endpoints on three smoltcp hosts joined by one [`Medium`], with a
/// virtual clock.
///
/// Each step polls the endpoints (which read and write their sockets'
/// buffers), then the interfaces (which turn those buffers into packets and
/// back), then hands the medium's due packets to their hosts. When a step
/// moves nothing, the clock jumps to the next thing due: a packet's
/// arrival, a TCP timer, an endpoint's deadline, or a scheduled reset.
#[derive(Debug)]
pub struct SimWorld<Tx: AsRef<[u8]>, Rx: AsMut<[u8]>> {
    now: Instant,
    medium: Medium,
    hosts: [Rc<RefCell<SimHost>>; PARTIES],
    networks: [SimNetwork; PARTIES],
    endpoints: [SimEndpoint<Tx, Rx>; PARTIES],
    /// Ordered by due time, then by when they were scheduled.
    resets: Vec<ScheduledReset>,
    connections_reset: u64,
    steps: u64,
    steps_at_this_instant: u64,
}

impl<Tx: AsRef<[u8]>, Rx: AsMut<[u8]>> SimWorld<Tx, Rx> {
    /// A world at virtual time zero whose every random choice follows from
    /// `seed`. Party `r`'s endpoint is built from `endpoint_config(r)`,
    /// placed at rank `r` whatever rank that config names.
    pub fn new(
        seed: u64,
        config: SimConfig,
        mut endpoint_config: impl FnMut(Rank) -> EndpointConfig,
    ) -> Self {
        let now = Instant::from_micros(0);
        let hosts = Rank::ALL.map(|rank| {
            let stream = FIRST_HOST_STREAM + rank.index() as u64;
            let random_seed = SimRng::new(seed, stream).next_u64();
            Rc::new(RefCell::new(SimHost::new(rank, &config, random_seed, now)))
        });
        let networks = Rank::ALL.map(|rank| SimNetwork::new(hosts[rank.index()].clone()));
        let endpoints = Rank::ALL.map(|rank| {
            let mut ep_config = endpoint_config(rank);
            ep_config.rank = rank;
            Endpoint::new(ep_config, now)
        });
        let medium = Medium::new(
            config.impairments,
            SimRng::new(seed, MEDIUM_STREAM),
            Rank::ALL.iter().map(|&r| address_of(r)).collect(),
        );
        SimWorld {
            now,
            medium,
            hosts,
            networks,
            endpoints,
            resets: Vec::new(),
            connections_reset: 0,
            steps: 0,
            steps_at_this_instant: 0,
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Party `rank`'s endpoint.
    pub fn endpoint(&self, rank: Rank) -> &SimEndpoint<Tx, Rx> {
        &self.endpoints[rank.index()]
    }

    /// Party `rank`'s endpoint, to post requests on and take completions from.
    pub fn endpoint_mut(&mut self, rank: Rank) -> &mut SimEndpoint<Tx, Rx> {
        &mut self.endpoints[rank.index()]
    }

    /// The medium, for its statistics.
    pub fn medium(&self) -> &Medium {
        &self.medium
    }

    /// Cuts `a` off from `b` (both ways) from `from` until `until`: every
    /// packet between them sent or due in that period is dropped. The
    /// connections themselves live on; whether they survive is up to TCP's
    /// retransmissions and the endpoints' timeouts.
    pub fn partition(&mut self, a: Rank, b: Rank, from: Instant, until: Instant) {
        self.medium
            .partition(address_of(a), address_of(b), from, until);
    }

    /// Resets every TCP connection between `a` and `b` at `at`, as a
    /// middlebox's RST would: both ends' sockets are aborted, and their next
    /// read or write reports the reset. Connections opened later are untouched.
    pub fn reset_connections_at(&mut self, a: Rank, b: Rank, at: Instant) {
        let position = self.resets.partition_point(|r| r.at <= at);
        self.resets.insert(position, ScheduledReset { at, a, b });
    }

    /// TCP connections aborted by scheduled resets so far (both ends count).
    pub fn connections_reset(&self) -> u64 {
        self.connections_reset
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One pass at the current instant: due resets, endpoints, interfaces,
    /// then the medium's due packets. Returns true if anything moved, in
    /// which case another pass at the same instant may move more.
    pub fn step(&mut self) -> bool {
        let now = self.now;
        self.steps += 1;
        let mut moved = self.fire_due_resets();
        for (endpoint, network) in self.endpoints.iter_mut().zip(self.networks.iter_mut()) {
            moved |= endpoint.poll(network, now);
        }
        for host in &self.hosts {
            let mut host = host.borrow_mut();
            moved |= host.poll(now);
            for packet in host.take_sent() {
                self.medium.send(now, packet);
                moved = true;
            }
        }
        let hosts = &self.hosts;
        self.medium.deliver_due(now, |port, packet| {
            if let Some(host) = hosts.get(port) {
                host.borrow_mut().deliver(packet);
                moved = true;
            }
        });
        moved
    }

    /// Steps once; if nothing moved, jumps the clock to the next thing due.
    pub fn advance(&mut self) -> Result<(), RunError> {
        if self.step() {
            self.steps_at_this_instant += 1;
            if self.steps_at_this_instant > MAX_STEPS_PER_INSTANT {
                return Err(RunError::Livelock { at: self.now });
            }
            return Ok(());
        }
        let next = self.next_due().ok_or(RunError::Idle { at: self.now })?;
        self.now = next;
        self.steps_at_this_instant = 0;
        Ok(())
    }

    /// Advances until `done` holds (checked before every step), or fails
    /// once virtual time passes `limit` or nothing is left to happen.
    pub fn run_until(
        &mut self,
        limit: Instant,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> Result<(), RunError> {
        loop {
            if done(self) {
                return Ok(());
            }
            if self.now > limit {
                return Err(RunError::TimeLimit { at: self.now });
            }
            self.advance()?;
        }
    }

    /// The earliest instant after now at which something is due. Deadlines
    /// at or before now are skipped: this instant's passes have just served
    /// them and nothing moved.
    fn next_due(&mut self) -> Option<Instant> {
        let now = self.now;
        let later = |at: Option<Instant>| at.filter(|&t| t > now);
        let mut next = later(self.medium.next_due());
        next = earliest(next, later(self.resets.first().map(|r| r.at)));
        for host in &self.hosts {
            next = earliest(next, later(host.borrow_mut().poll_at(now)));
        }
        for endpoint in &self.endpoints {
            next = earliest(next, later(endpoint.poll_at()));
        }
        next
    }

    /// Aborts the connections of every reset due by now. True if any was due.
    fn fire_due_resets(&mut self) -> bool {
        let due = self.resets.partition_point(|r| r.at <= self.now);
        for reset in self.resets.drain(..due) {
            let (a, b) = (reset.a.index(), reset.b.index());
            let aborted_at_a = self.hosts[a]
                .borrow_mut()
                .abort_connections_with(address_of(reset.b));
            let aborted_at_b = self.hosts[b]
                .borrow_mut()
                .abort_connections_with(address_of(reset.a));
            self.connections_reset += (aborted_at_a + aborted_at_b) as u64;
        }
        due > 0
    }
}
