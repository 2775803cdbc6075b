//! The communication layer the MPC code runs on.

use ternion_core::rank::Rank;

/// The tag of the demo's point-to-point messages, on every platform.
pub const DEMO_TAG: u32 = 0x4d50;

/// What the MPC demo needs from a communication layer.
pub trait Comm {
    /// The layer's error type.
    type Error: core::fmt::Debug + core::fmt::Display;
    /// This party's rank.
    fn rank(&self) -> ternion_core::rank::Rank;
    /// Sends `data` to `peer`; returns once `data` may be reused.
    fn send_u64s(
        &mut self,
        peer: ternion_core::rank::Rank,
        data: &[u64],
    ) -> Result<(), Self::Error>;
    /// Receives exactly `out.len()` values from `peer`.
    fn recv_u64s(
        &mut self,
        peer: ternion_core::rank::Rank,
        out: &mut [u64],
    ) -> Result<(), Self::Error>;
    /// Sends `send` to the predecessor and receives `recv.len()` values from the successor, concurrently.
    fn exchange_u64s(&mut self, send: &[u64], recv: &mut [u64]) -> Result<(), Self::Error>;
}

/// Lets a caller lend its layer (`Party::setup(&mut comm, ..)`) and keep it
/// for use after the computation.
impl<C: Comm + ?Sized> Comm for &mut C {
    type Error = C::Error;

    fn rank(&self) -> Rank {
        (**self).rank()
    }

    fn send_u64s(&mut self, peer: Rank, data: &[u64]) -> Result<(), Self::Error> {
        (**self).send_u64s(peer, data)
    }

    fn recv_u64s(&mut self, peer: Rank, out: &mut [u64]) -> Result<(), Self::Error> {
        (**self).recv_u64s(peer, out)
    }

    fn exchange_u64s(&mut self, send: &[u64], recv: &mut [u64]) -> Result<(), Self::Error> {
        (**self).exchange_u64s(send, recv)
    }
}
