//! The core's MPC demo runs on a [`Party`] through this adapter.

use crate::error::Error;
use crate::party::Party;
use ternion_core::Rank;
use ternion_mpc::{Comm, DEMO_TAG};

impl Comm for &Party {
    type Error = Error;

    fn rank(&self) -> Rank {
        Party::rank(self)
    }

    fn send_u64s(&mut self, peer: Rank, data: &[u64]) -> Result<(), Error> {
        self.send(peer, DEMO_TAG, data)
    }

    fn recv_u64s(&mut self, peer: Rank, out: &mut [u64]) -> Result<(), Error> {
        self.recv(peer, DEMO_TAG, out).map(drop)
    }

    fn exchange_u64s(&mut self, send: &[u64], recv: &mut [u64]) -> Result<(), Error> {
        self.exchange(send, recv)
    }
}
