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
