//! ternion on Linux: standing TCP connections between three parties, an
//! asynchronous communication thread, and the Rust API for MPC code.
//!
//! ```no_run
//! use ternion::Party;
//! # fn main() -> ternion::Result<()> {
//! let party = Party::from_env()?; // as set by `ternion run`
//! let mine = [party.rank().index() as u64; 4];
//! let mut from_succ = [0u64; 4];
//! party.exchange(&mine, &mut from_succ)?; // to the predecessor, from the successor
//! party.barrier()?;
//! party.close()
//! # }
//! ```
//!
//! All protocol logic lives in `ternion-core`; this crate supplies sockets,
//! a clock, a waker and the threads that drive the core.

mod c_backend;
mod clock;
pub mod config;
mod driver;
mod element;
mod error;
pub mod failure_report;
pub mod guest;
pub mod keys;
mod mpc;
mod net;
mod party;
mod ring_cipher;
mod sys;

pub use config::{Config, ConfigArgs, ConfigLayer};
pub use element::Element;
pub use error::{Error, Result};
pub use net::{TcpTuning, UnsentLimit};
pub use party::{Completed, Party, Request};
pub use ternion_core::collective::Combine;
pub use ternion_core::{LinkStats, Rank, Source, Status, TagFilter};
