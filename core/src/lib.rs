//! The ternion protocol: three parties, one standing link per pair, MPI-style
//! matching and non-blocking requests, as a sans-IO state machine.
//!
//! The core performs no I/O and reads no clock. A platform hands it sockets
//! through the [`socket::Network`] and [`socket::Socket`] traits, passes the
//! time to [`Endpoint::poll`], and sleeps on the sockets the endpoint lists in
//! [`Endpoint::for_each_socket`] until [`Endpoint::poll_at`]. Everything else
//! (handshake, framing, matching, request completion, failure handling) lives
//! here, so every platform behaves the same and the whole protocol can be
//! tested in memory.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod collective;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod hex;
mod link;
pub mod matching;
pub mod rank;
mod replay;
pub mod request;
pub mod secure;
#[cfg(feature = "sim")]
pub mod sim;
pub mod socket;
pub mod stats;
pub mod testing;
pub mod time;
pub mod wire;

pub use config::{EndpointConfig, MAX_FRAME_PAYLOAD};
pub use endpoint::{Endpoint, Event, Interest};
pub use error::{
    Error, HandshakeFailure, Incompatibility, LinkError, Misbehaviour, Refusal, SecurityError,
    TransportError,
};
pub use link::LinkState;
pub use matching::{Source, TagFilter, FIRST_RESERVED_TAG};
pub use rank::{Rank, PARTIES};
pub use request::{Buffer, Completion, RequestId, Status};
pub use stats::LinkStats;
pub use time::{Duration, Instant};

/// The protocol version this build speaks, carried in every hello.
pub const PROTOCOL_VERSION: u16 = 1;
