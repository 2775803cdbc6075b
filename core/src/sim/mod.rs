//! A deterministic network for three parties, over a real TCP/IP stack.
//!
//! The in-memory pipes of [`crate::testing`] deliver every byte at once and
//! in order, so they cannot show how the protocol fares on a real network.
//! This module runs the three endpoints over [smoltcp]'s TCP instead, across
//! a simulated medium that delays, drops, duplicates, corrupts and reorders
//! packets, and that can partition a pair of parties or reset their
//! connections at chosen instants.
//!
//! It keeps smoltcp's layering, one concept per file:
//! - [`Medium`] (`medium.rs`) knows only packets: when each is due, and what
//!   the [`Impairments`] do to it. It routes by destination address.
//! - `SimDevice` (`device.rs`) is smoltcp's `phy` layer: one party's port
//!   onto the medium, a queue each way.
//! - `SimHost` (`host.rs`) is one party's smoltcp interface and its TCP
//!   sockets, with a standing backlog of listeners, so links that reconnect
//!   are accepted too.
//! - [`SimSocket`] and `SimNetwork` (`socket.rs`, `network.rs`) implement
//!   the core's [`Socket`](crate::socket::Socket) and
//!   [`Network`](crate::socket::Network) traits over that host's sockets.
//! - [`SimWorld`] (`world.rs`) owns the three hosts, the medium and the three
//!   endpoints, and advances virtual time: it polls the endpoints, polls the
//!   interfaces, moves packets between the devices and the medium, and when
//!   nothing moves jumps the clock to the next thing due.
//!
//! Party `r` is at [`address_of`]`(r)` (`10.0.0.(r+1)`) and listens on
//! [`port_of`]`(r)`.
//!
//! ```
//! use ternion_core::sim::{Impairments, SimConfig, SimWorld};
//! use ternion_core::{Duration, EndpointConfig, Instant, Rank};
//!
//! let config = SimConfig { impairments: Impairments::HOSTILE, ..SimConfig::default() };
//! let mut world: SimWorld<Vec<u8>, Vec<u8>> =
//!     SimWorld::new(7, config, |rank| EndpointConfig::new(rank, *b"an example job.."));
//! let limit = Instant::from_micros(0) + Duration::from_secs(60);
//! world
//!     .run_until(limit, |w| Rank::ALL.iter().all(|&r| w.endpoint(r).is_established()))
//!     .unwrap();
//! ```
//!
//! # Determinism
//!
//! A run is a function of its seed and configuration. The only randomness is
//! [`SimRng`], a ChaCha8 generator seeded from the world's seed: the medium
//! draws from one stream of it, and each smoltcp interface's `random_seed`
//! (initial sequence numbers) comes from another. Time is virtual and passes
//! only when the world says so. Nothing iterates a hash map: sockets, ports
//! and packets live in vectors and a heap ordered by (due time, send order),
//! so ties break the same way every run.
//!
//! # smoltcp's TCP is not Linux's
//!
//! It is a correct TCP (every byte arrives once, in order), but it recovers
//! from loss and reordering more slowly than Linux, so it goes quiet for
//! seconds more often:
//! - its minimum retransmission timeout is 1 s (RFC 6298; Linux 200 ms);
//! - it fast-retransmits one segment per three duplicate ACKs, with neither
//!   selective-acknowledgement nor NewReno recovery, so a second loss in a
//!   window waits out a timeout;
//! - it discards a segment whose acknowledgement number is older than one
//!   it has seen, data included (RFC 9293 ignores only the stale
//!   acknowledgement), so reordering costs retransmissions;
//! - it discards a pure ACK whose sequence number lies on the right edge of
//!   its receive window, which is where a peer that has filled the window
//!   sends them from (Linux accepts them);
//! - after a timeout it resends from the oldest unacknowledged byte and
//!   sends its pure ACKs from there too; when both ends do so at once each
//!   discards the other's ACKs as out of window. With congestion control
//!   (one segment after a timeout) that deadlocks the connection for good,
//!   which is why the hosts run without it: a whole window goes out, and
//!   its end reaches the peer's window again.
//!
//! [`SimConfig`]'s default buffer sizes make the second and the fourth rare
//! (few segments in flight, and a receive window no peer can fill). Even so,
//! endpoint timeouts tuned for Linux (the 5 s peer and handshake timeouts)
//! can fire on a lossy simulated network where Linux would have recovered
//! in time.
//!
//! [smoltcp]: https://docs.rs/smoltcp

mod address;
mod config;
mod device;
mod host;
mod impairments;
mod medium;
mod network;
mod rng;
mod socket;
mod world;

pub use address::{address_of, port_of};
pub use config::SimConfig;
pub use impairments::Impairments;
pub use medium::{Medium, MediumStats};
pub use rng::SimRng;
pub use socket::SimSocket;
pub use world::{RunError, SimEndpoint, SimWorld};
