//! The core's MPC demo and ring benchmark run on an in-kernel party
//! through this adapter.

use crate::party::{now, KernelParty};
use ternion_core::collective::Plan;
use ternion_core::{Error, Instant, Rank, Source, TagFilter};
use ternion_mpc::Clock;
use ternion_mpc::{Comm, DEMO_TAG};

fn bytes(values: &[u64]) -> &[u8] {
    // SAFETY: u64 has no padding and any byte pattern is a valid u8; the
    // view covers exactly the slice's memory for the same lifetime.
    unsafe { core::slice::from_raw_parts(values.as_ptr().cast(), core::mem::size_of_val(values)) }
}

fn bytes_mut(values: &mut [u64]) -> &mut [u8] {
    // SAFETY: as in `bytes`, and every byte pattern is a valid u64.
    unsafe {
        core::slice::from_raw_parts_mut(values.as_mut_ptr().cast(), core::mem::size_of_val(values))
    }
}

/// Why a demo or benchmark message failed.
#[derive(Debug)]
pub enum CommError {
    /// The layer failed.
    Layer(Error),
    /// A message was shorter than the values expected.
    Short {
        /// Bytes that arrived.
        len: u64,
        /// Bytes expected.
        expected: usize,
    },
}

impl From<Error> for CommError {
    fn from(e: Error) -> Self {
        CommError::Layer(e)
    }
}

impl core::fmt::Display for CommError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommError::Layer(e) => write!(f, "{e}"),
            CommError::Short { len, expected } => {
                write!(f, "a message of {len} bytes where {expected} were expected")
            }
        }
    }
}

/// A message must fill the receive exactly.
fn exact(status: ternion_core::Status, expected: usize) -> Result<(), CommError> {
    if status.len == expected as u64 {
        Ok(())
    } else {
        Err(CommError::Short {
            len: status.len,
            expected,
        })
    }
}

impl Comm for &KernelParty {
    type Error = CommError;

    fn rank(&self) -> Rank {
        KernelParty::rank(self)
    }

    fn send_u64s(&mut self, peer: Rank, data: &[u64]) -> Result<(), CommError> {
        // SAFETY: `data` outlives the wait below, which completes the request.
        let id = unsafe { self.post_send(peer, DEMO_TAG, bytes(data)) }?;
        Ok(self.wait_one(id).map(drop)?)
    }

    fn recv_u64s(&mut self, peer: Rank, out: &mut [u64]) -> Result<(), CommError> {
        let expected = core::mem::size_of_val(out);
        let out = bytes_mut(out);
        // SAFETY: `out` outlives the wait below and nothing else touches it.
        let id = unsafe { self.post_recv(Source::Rank(peer), TagFilter::Tag(DEMO_TAG), out) }?;
        exact(self.wait_one(id)?, expected)
    }

    fn exchange_u64s(&mut self, send: &[u64], recv: &mut [u64]) -> Result<(), CommError> {
        let plan = Plan::exchange(KernelParty::rank(self));
        let (Some(from), Some(to)) = (plan.receives().next(), plan.sends().next()) else {
            return Err(Error::SelfMessage.into());
        };
        let expected = core::mem::size_of_val(recv);
        let out = bytes_mut(recv);
        let tag = TagFilter::Tag(plan.tag());
        // SAFETY: both buffers outlive the wait below, which completes both requests.
        let receiving = unsafe { self.post_recv(Source::Rank(from), tag, out) }?;
        // SAFETY: as above.
        let sending = unsafe { self.post_send(to, plan.tag(), bytes(send)) }?;
        let mut done = self.wait_ids(&[receiving, sending]).into_iter();
        let received = done.next().ok_or(Error::EndpointClosed)?.result?;
        done.next().ok_or(Error::EndpointClosed)?.result?;
        exact(received, expected)
    }
}

/// The kernel's monotonic clock for the benchmark.
pub struct KernelClock;

impl Clock for KernelClock {
    fn now(&self) -> Instant {
        now()
    }
}
