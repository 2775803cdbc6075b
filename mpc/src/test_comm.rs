//! An in-memory [`Comm`] for three parties on three threads, for tests.

use super::comm::Comm;
use super::party::Party;
use alloc::vec::Vec;
use core::fmt;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::Duration;
use ternion_core::rank::{Rank, PARTIES};

/// How long a receive waits before the test is declared deadlocked.
const RECV_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a channel operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelError {
    /// The peer's thread finished or failed.
    Disconnected,
    /// Nothing arrived in time: the protocol deadlocked.
    TimedOut,
    /// A message of the wrong length arrived.
    WrongLength { expected: usize, got: usize },
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Disconnected => write!(f, "peer disconnected"),
            ChannelError::TimedOut => write!(f, "receive timed out"),
            ChannelError::WrongLength { expected, got } => {
                write!(f, "expected {expected} values, got {got}")
            }
        }
    }
}

/// One party's channels, one per ordered pair of parties.
///
/// The channels have no buffer, so a send returns only when the receiver
/// takes the message: the strictest behaviour a real layer may have, which
/// makes any send/receive ordering that could deadlock actually deadlock.
#[derive(Debug)]
pub(crate) struct ChannelComm {
    rank: Rank,
    to: [Option<SyncSender<Vec<u64>>>; PARTIES],
    from: [Option<Receiver<Vec<u64>>>; PARTIES],
}

impl ChannelComm {
    /// The three parties' ends, indexed by rank.
    pub(crate) fn trio() -> [ChannelComm; PARTIES] {
        let mut comms = Rank::ALL.map(|rank| ChannelComm {
            rank,
            to: [None, None, None],
            from: [None, None, None],
        });
        for sender in Rank::ALL {
            for receiver in sender.others() {
                let (tx, rx) = sync_channel(0);
                comms[sender.index()].to[receiver.index()] = Some(tx);
                comms[receiver.index()].from[sender.index()] = Some(rx);
            }
        }
        comms
    }

    fn sender(&self, peer: Rank) -> &SyncSender<Vec<u64>> {
        self.to[peer.index()]
            .as_ref()
            .expect("a party never messages itself")
    }
}

fn send(to: &SyncSender<Vec<u64>>, data: &[u64]) -> Result<(), ChannelError> {
    to.send(data.to_vec())
        .map_err(|_| ChannelError::Disconnected)
}

impl Comm for ChannelComm {
    type Error = ChannelError;

    fn rank(&self) -> Rank {
        self.rank
    }

    fn send_u64s(&mut self, peer: Rank, data: &[u64]) -> Result<(), ChannelError> {
        send(self.sender(peer), data)
    }

    fn recv_u64s(&mut self, peer: Rank, out: &mut [u64]) -> Result<(), ChannelError> {
        let from = self.from[peer.index()]
            .as_ref()
            .expect("a party never messages itself");
        let message = from.recv_timeout(RECV_TIMEOUT).map_err(|e| match e {
            RecvTimeoutError::Timeout => ChannelError::TimedOut,
            RecvTimeoutError::Disconnected => ChannelError::Disconnected,
        })?;
        if message.len() != out.len() {
            return Err(ChannelError::WrongLength {
                expected: out.len(),
                got: message.len(),
            });
        }
        out.copy_from_slice(&message);
        Ok(())
    }

    fn exchange_u64s(&mut self, data: &[u64], recv: &mut [u64]) -> Result<(), ChannelError> {
        let pred = self.sender(self.rank.pred()).clone();
        let succ = self.rank.succ();
        thread::scope(|scope| {
            let sending = scope.spawn(|| send(&pred, data));
            let received = self.recv_u64s(succ, recv);
            let sent = sending.join().expect("sending thread panicked");
            received.and(sent)
        })
    }
}

/// Runs `body` once per party, each on its own thread, and collects the
/// results by rank.
pub(crate) fn run_on_threads<C: Send, T: Send>(
    comms: [C; PARTIES],
    body: impl Fn(C) -> T + Sync,
) -> [T; PARTIES] {
    let body = &body;
    thread::scope(|scope| {
        comms
            .map(|comm| scope.spawn(move || body(comm)))
            .map(|handle| handle.join().expect("a party's thread panicked"))
    })
}

/// A fixed seed per rank, so tests are deterministic.
pub(crate) fn test_seed(rank: Rank) -> [u8; 32] {
    [0x5e ^ rank.index() as u8; 32]
}

/// Sets up three parties over channels and runs `body` on each.
pub(crate) fn run_parties<T: Send>(
    body: impl Fn(&mut Party<ChannelComm>) -> T + Sync,
) -> [T; PARTIES] {
    run_on_threads(ChannelComm::trio(), |comm| {
        let seed = test_seed(comm.rank());
        let mut party = Party::setup(comm, seed).expect("set-up failed");
        body(&mut party)
    })
}
