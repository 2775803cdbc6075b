//! Three-party secure computation on replicated secret shares, as the MPC
//! engine Secrecy runs it, written against the small [`Comm`] trait so the
//! same code runs over Linux sockets and inside a kernel.
//!
//! A secret `x` is split into three shares `x0, x1, x2` that combine to `x`
//! (wrapping addition for [`Arithmetic`] sharing, XOR for [`Boolean`]
//! sharing); party `i` holds the pair `(x_i, x_{i+1})`, so any two parties
//! can reconstruct `x` but no single party learns anything about it. This is
//! the honest-majority, semi-honest protocol of Araki et al. (CCS 2016).
//!
//! Additions are local; each multiplication (AND for boolean shares) costs one
//! round in which every party sends one value per element to its predecessor.
//! Every operation works on whole arrays so an array costs the same number of
//! rounds as a single value. [`run_demo`] exercises all of it end to end.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod boolean;
mod clock;
mod comm;
mod comparison;
mod counting;
mod demo;
mod input;
mod multiply;
mod open;
mod party;
mod report;
mod ring;
mod ring_bench;
mod shares;
#[cfg(test)]
mod test_comm;
mod zero_sharing;

pub use clock::Clock;
pub use comm::{Comm, DEMO_TAG};
pub use counting::{CommCounts, CountingComm};
pub use demo::{demo_inputs, run_demo, Computation, DemoError, DemoStage};
pub use party::Party;
pub use report::{ComputationReport, DemoReport, Sample};
pub use ring::{Arithmetic, Boolean, Ring};
pub use ring_bench::{ring_benchmark, RingBenchMismatch, RingBenchPlan, RingBenchReport};
pub use shares::Shares;
