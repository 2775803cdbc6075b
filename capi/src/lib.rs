//! ternion's C interfaces, written once: the native API of
//! `include/ternion.h` and the MPI subset of `include/mpi.h`.
//!
//! Every entry point is a generic function over a [`Backend`], the narrow
//! interface a platform provides (connect, raw-buffer send and receive,
//! wait, abort). A platform's C library instantiates them for its backend
//! with [`export_mpi`] and [`export_native`], so the Linux library and the
//! in-kernel UKL library export the same functions with the same behaviour.
//! No protocol logic lives here: messages, matching and failures are the
//! core's; this crate only translates between C conventions and the core.
#![no_std]

extern crate alloc;

mod backend;
mod blocking;
pub mod buffer;
mod export;
pub mod lifecycle;
pub mod mpi;
pub mod native;
mod state;
mod usage;

pub use backend::Backend;
pub use state::Global;
pub use ternion_core::Rank;
