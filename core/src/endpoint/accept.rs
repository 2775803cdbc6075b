//! Accepted connections before they join a link: reading and checking the
//! dialler's hello, and refusing the ones that do not belong.
//!
//! An accepted connection is nobody's until its hello names a rank this
//! party accepts from, in this session, with our capabilities. Refusals
//! only drop the connection (and report it): a stranger cannot disturb a
//! real link by connecting.

use super::{Endpoint, Event};
use crate::error::{Incompatibility, LinkError, Refusal, TransportError};
use crate::link::check_hello;
use crate::rank::Rank;
use crate::socket::{Network, Socket, SocketError};
use crate::time::Instant;
use crate::wire::{Hello, HelloRepr, HELLO_LEN};

/// An accepted connection that has not yet presented a valid hello.
#[derive(Debug)]
pub(super) struct PendingConn<S> {
    socket: S,
    hello: [u8; HELLO_LEN],
    filled: usize,
    deadline: Instant,
}

impl<S> PendingConn<S> {
    pub fn socket(&self) -> &S {
        &self.socket
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl<S: Socket, Tx: AsRef<[u8]>, Rx: AsMut<[u8]>> Endpoint<S, Tx, Rx> {
    /// Takes every connection waiting to be accepted.
    pub(super) fn accept<N: Network<Socket = S>>(&mut self, net: &mut N, now: Instant) -> bool {
        let mut progressed = false;
        loop {
            match net.accept() {
                Ok(Some(socket)) => {
                    progressed = true;
                    if self.pending.len() >= self.config.max_pending_connections {
                        self.reject(socket, Refusal::AcceptQueueFull.into());
                        continue;
                    }
                    self.pending.push(PendingConn {
                        socket,
                        hello: [0; HELLO_LEN],
                        filled: 0,
                        deadline: now + self.config.handshake_timeout,
                    });
                }
                Ok(None) | Err(SocketError::WouldBlock) => return progressed,
                Err(e) => {
                    log::warn!("accepting a connection failed: {e}");
                    return progressed;
                }
            }
        }
    }

    /// Drops accepted connections whose hello did not come in time.
    pub(super) fn expire_pending(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.pending.len() {
            if now >= self.pending[i].deadline {
                let conn = self.pending.swap_remove(i);
                self.reject(conn.socket, Refusal::HelloTimeout.into());
            } else {
                i += 1;
            }
        }
    }

    pub(super) fn reject(&mut self, mut socket: S, reason: LinkError) {
        let addr = socket.peer_addr();
        log::warn!("refused connection from {addr}: {reason}");
        socket.close();
        self.events.push(Event::Rejected { addr, reason });
    }

    /// Reads hellos on accepted connections and hands the valid ones to
    /// their links.
    pub(super) fn serve_pending(&mut self, now: Instant) -> bool {
        let mut progressed = false;
        let mut i = 0;
        while i < self.pending.len() {
            let conn = &mut self.pending[i];
            let filled = conn.filled;
            let read = conn.socket.read_vectored(&mut [&mut conn.hello[filled..]]);
            let outcome = match read {
                Ok(0) => Some(Err(TransportError::PeerVanished.into())),
                Ok(n) => {
                    progressed = true;
                    conn.filled += n;
                    (conn.filled == HELLO_LEN).then(|| self.check_inbound_hello(i))
                }
                Err(SocketError::WouldBlock) => None,
                Err(e) => Some(Err(e.into())),
            };
            match outcome {
                None => i += 1,
                Some(Err(reason)) => {
                    let conn = self.pending.swap_remove(i);
                    self.refuse(conn, reason);
                }
                Some(Ok((peer, resume_seq))) => {
                    let conn = self.pending.swap_remove(i);
                    let result = self.with_link(peer, |link, ctx| {
                        link.take_connection(conn.socket, &conn.hello, resume_seq, now, ctx)
                    });
                    if let Some(Err((socket, reason))) = result {
                        self.reject(socket, reason);
                    }
                }
            }
        }
        progressed
    }

    /// Refuses a pending connection. Where the dialler can learn from it,
    /// our hello goes first (a hello holds only public facts): what we
    /// require and where we stand, so it can name the mismatch itself.
    fn refuse(&mut self, mut conn: PendingConn<S>, reason: LinkError) {
        let tell = matches!(
            reason,
            LinkError::Incompatible(Incompatibility::CapabilityMismatch)
                | LinkError::CannotResume { .. }
                | LinkError::Refused(Refusal::LinkClosed)
        );
        let claimed = Hello::new_checked(&conn.hello[..])
            .ok()
            .and_then(|h| Rank::new(h.sender()));
        if let (true, Some(link)) = (tell, claimed.and_then(|rank| self.link(rank))) {
            let ours = link.hello(&self.config);
            let _ = conn.socket.write_vectored(&[&ours]);
        }
        self.reject(conn.socket, reason);
    }

    /// Validates the hello of pending connection `i`; returns the peer's
    /// rank and where it asks to resume.
    fn check_inbound_hello(&self, i: usize) -> Result<(Rank, u64), LinkError> {
        let view = Hello::new_checked(&self.pending[i].hello[..])?;
        let repr = HelloRepr::parse(&view)?;
        check_hello(&self.config, &repr)?;
        let link = self.link(repr.sender).ok_or(Incompatibility::WrongRank {
            claimed: repr.sender,
        })?;
        let resume_seq = link.check_inbound(&repr)?;
        Ok((repr.sender, resume_seq))
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::config::EndpointConfig;
    use crate::error::Incompatibility;
    use crate::testing::{MemNetwork, MemSocket};
    use crate::time::Duration;
    use crate::wire::Capabilities;
    use alloc::vec::Vec;

    const SESSION: [u8; 16] = [7; 16];

    /// Rank 0's endpoint, listening, with the strangers' view of its network.
    fn acceptor(
        configure: impl FnOnce(&mut EndpointConfig),
    ) -> (
        Endpoint<MemSocket, Vec<u8>, Vec<u8>>,
        MemNetwork,
        MemNetwork,
    ) {
        let [ours, stranger, _] = MemNetwork::three(1 << 16);
        ours.listen(true);
        let mut config = EndpointConfig::new(Rank::ZERO, SESSION);
        config.resume_buffer = 0;
        configure(&mut config);
        (Endpoint::new(config, Instant::default()), ours, stranger)
    }

    fn hello(sender: u8, receiver: u8, session: [u8; 16]) -> [u8; HELLO_LEN] {
        let mut out = [0u8; HELLO_LEN];
        HelloRepr {
            capabilities: Capabilities::empty(),
            session,
            sender: Rank::new(sender).unwrap(),
            receiver: Rank::new(receiver).unwrap(),
            resume_seq: 0,
        }
        .emit(&mut out)
        .unwrap();
        out
    }

    fn rejections(ep: &mut Endpoint<MemSocket, Vec<u8>, Vec<u8>>) -> Vec<LinkError> {
        core::iter::from_fn(|| ep.poll_event())
            .filter_map(|e| match e {
                Event::Rejected { reason, .. } => Some(reason),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_hello_from_another_job_is_refused_and_the_link_waits() {
        let (mut ep, mut net, stranger) = acceptor(|_| {});
        let mut sock = stranger.dial_raw(Rank::ZERO).unwrap();
        sock.inject(&hello(1, 0, [9; 16]));
        ep.poll(&mut net, Instant::default());
        assert_eq!(
            rejections(&mut ep),
            [LinkError::Incompatible(Incompatibility::WrongSession)]
        );
        assert_eq!(
            ep.link_state(Rank::new(1).unwrap()),
            Some(crate::LinkState::Connecting)
        );
    }

    #[test]
    fn connections_beyond_the_queue_and_past_the_deadline_are_refused_by_name() {
        let (mut ep, mut net, stranger) = acceptor(|c| {
            c.max_pending_connections = 1;
            c.handshake_timeout = Duration::from_millis(10);
        });
        let _first = stranger.dial_raw(Rank::ZERO).unwrap();
        let _second = stranger.dial_raw(Rank::ZERO).unwrap();
        ep.poll(&mut net, Instant::default());
        assert_eq!(
            rejections(&mut ep),
            [LinkError::Refused(Refusal::AcceptQueueFull)]
        );
        ep.poll(&mut net, Instant::from_micros(20_000));
        assert_eq!(
            rejections(&mut ep),
            [LinkError::Refused(Refusal::HelloTimeout)]
        );
    }

    #[test]
    fn a_rank_this_party_dials_may_not_dial_it() {
        // Rank 1 dials rank 0, never the other way round; a "rank 0" hello
        // arriving at rank 1 is refused before any link is touched.
        let [_, ours, stranger] = MemNetwork::three(1 << 16);
        ours.listen(true);
        let mut net = ours.clone();
        let config = EndpointConfig::new(Rank::new(1).unwrap(), SESSION);
        let mut ep: Endpoint<MemSocket, Vec<u8>, Vec<u8>> =
            Endpoint::new(config, Instant::default());
        let mut sock = stranger.dial_raw(Rank::new(1).unwrap()).unwrap();
        let mut forged = hello(0, 1, SESSION);
        // Capabilities as rank 1 requires them (plaintext, resumable), so
        // only the rank is wrong.
        forged[6..8].copy_from_slice(&Capabilities::RESUME.bits().to_be_bytes());
        sock.inject(&forged);
        ep.poll(&mut net, Instant::default());
        let refused = rejections(&mut ep);
        assert!(
            refused.contains(&LinkError::Incompatible(Incompatibility::WrongRank {
                claimed: Rank::ZERO
            })),
            "{refused:?}"
        );
    }
}
