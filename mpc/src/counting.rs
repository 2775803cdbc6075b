//! Counting what a computation costs in rounds and messages.

use super::comm::Comm;
use core::fmt;
use ternion_core::rank::Rank;

/// Communication used so far, as seen by one party.
///
/// A round is one [`Comm::exchange_u64s`], in which every party sends and
/// receives at once: each round costs one network latency, so rounds are what
/// bound a computation's speed on a real network. An exchange also counts as
/// one message sent and one received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommCounts {
    /// Ring exchanges performed.
    pub rounds: u64,
    /// Messages sent (sends plus exchanges).
    pub messages_sent: u64,
    /// Messages received (receives plus exchanges).
    pub messages_received: u64,
    /// Total `u64` values sent.
    pub values_sent: u64,
}

impl CommCounts {
    /// What was used between `earlier` and `self`.
    pub fn since(self, earlier: CommCounts) -> CommCounts {
        CommCounts {
            rounds: self.rounds - earlier.rounds,
            messages_sent: self.messages_sent - earlier.messages_sent,
            messages_received: self.messages_received - earlier.messages_received,
            values_sent: self.values_sent - earlier.values_sent,
        }
    }
}

impl fmt::Display for CommCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rounds {}, messages sent {}, received {}, values sent {}",
            self.rounds, self.messages_sent, self.messages_received, self.values_sent
        )
    }
}

/// A [`Comm`] that passes everything through and counts it.
#[derive(Debug)]
pub struct CountingComm<C> {
    inner: C,
    counts: CommCounts,
}

impl<C: Comm> CountingComm<C> {
    /// Wraps `inner` with all counts at zero.
    pub fn new(inner: C) -> Self {
        CountingComm {
            inner,
            counts: CommCounts::default(),
        }
    }

    /// Everything counted since [`CountingComm::new`].
    pub fn counts(&self) -> CommCounts {
        self.counts
    }
}

impl<C: Comm> Comm for CountingComm<C> {
    type Error = C::Error;

    fn rank(&self) -> Rank {
        self.inner.rank()
    }

    fn send_u64s(&mut self, peer: Rank, data: &[u64]) -> Result<(), Self::Error> {
        self.inner.send_u64s(peer, data)?;
        self.counts.messages_sent += 1;
        self.counts.values_sent += data.len() as u64;
        Ok(())
    }

    fn recv_u64s(&mut self, peer: Rank, out: &mut [u64]) -> Result<(), Self::Error> {
        self.inner.recv_u64s(peer, out)?;
        self.counts.messages_received += 1;
        Ok(())
    }

    fn exchange_u64s(&mut self, send: &[u64], recv: &mut [u64]) -> Result<(), Self::Error> {
        self.inner.exchange_u64s(send, recv)?;
        self.counts.rounds += 1;
        self.counts.messages_sent += 1;
        self.counts.messages_received += 1;
        self.counts.values_sent += send.len() as u64;
        Ok(())
    }
}
