//! Setting a connection up: dialling, taking an accepted one, the hellos
//! and the secure handshake, until the link is up (or resumes).
//!
//! The dialler writes its hello first; the acceptor answers once it has
//! read and checked it. On a secure link the Noise handshake follows, its
//! prologue binding both hellos. Each hello names the next frame its sender
//! expects, so a new connection under an established link resumes exactly
//! there.

use super::{policy, Link, LinkState, RxPhase, Stop};
use crate::config::EndpointConfig;
use crate::endpoint::Context;
use crate::error::{Incompatibility, LinkError, Misbehaviour, Refusal};
use crate::secure::{self, Handshake};
use crate::socket::{Network, Socket, SocketError};
use crate::time::Instant;
use crate::wire::{Hello, HelloRepr, HELLO_LEN};
use crate::Event;
use alloc::vec::Vec;

/// Checks a hello's session, addressee and capabilities against ours.
pub(crate) fn check_hello(config: &EndpointConfig, repr: &HelloRepr) -> Result<(), LinkError> {
    if repr.session != config.session {
        return Err(Incompatibility::WrongSession.into());
    }
    if repr.receiver != config.rank {
        return Err(Incompatibility::NotAddressedToUs {
            addressed_to: repr.receiver,
        }
        .into());
    }
    if repr.capabilities != config.capabilities {
        return Err(Incompatibility::CapabilityMismatch.into());
    }
    Ok(())
}

impl<S: Socket, Tx: AsRef<[u8]>> Link<S, Tx> {
    /// Our hello to the peer, naming the next frame we expect from it (0 on
    /// a new link), so a resumed connection restarts exactly there.
    pub fn hello(&self, config: &EndpointConfig) -> [u8; HELLO_LEN] {
        let mut out = [0u8; HELLO_LEN];
        let repr = HelloRepr {
            capabilities: config.capabilities,
            session: config.session,
            sender: config.rank,
            receiver: self.peer,
            resume_seq: self.rx.frames_received(),
        };
        // HELLO_LEN bytes always fit.
        let _ = repr.emit(&mut out);
        out
    }

    /// Dials the peer if this side dials and a new connection is due.
    /// True if an attempt was made.
    pub fn dial<N: Network<Socket = S>, Rx: AsMut<[u8]>>(
        &mut self,
        net: &mut N,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> bool {
        let waiting = matches!(self.state, LinkState::Connecting | LinkState::Reconnecting)
            && self.socket.is_none();
        if !self.dials || !waiting || now < self.next_dial {
            return false;
        }
        let hello = self.hello(ctx.config);
        match net.connect(self.peer) {
            Ok(socket) => {
                self.attach(socket, &hello, RxPhase::Hello, now);
                let timeout = if self.ever_established {
                    super::policy::reconnect_handshake_timeout(ctx.config)
                } else {
                    self.state = LinkState::Handshaking;
                    ctx.config.handshake_timeout
                };
                self.handshake_deadline = Some(now + timeout);
            }
            Err(SocketError::Refused) if self.ever_established => self.peer_gone(ctx),
            Err(e) => {
                log::debug!("dialling {}: {e}; will retry", self.peer);
                self.schedule_redial(now);
            }
        }
        true
    }

    /// May this accepted connection, whose hello is `repr`, take over the
    /// link? Returns where the peer asks to resume.
    pub fn check_inbound(&self, repr: &HelloRepr) -> Result<u64, LinkError> {
        if self.dials {
            // We dial this rank; it must never dial us.
            return Err(Incompatibility::WrongRank {
                claimed: repr.sender,
            }
            .into());
        }
        // A link that can resume takes a new connection from its peer at
        // any time: the old one may be dead without our kernel knowing.
        let reconnecting = self.ever_established && self.tx.can_resume();
        if reconnecting && self.state == LinkState::Closed {
            // The peer lost our last acknowledgement: our hello tells it
            // what we received, so it can finish its close too.
            return Err(Refusal::LinkClosed.into());
        }
        if self.state != LinkState::Connecting && !(reconnecting && self.is_live()) {
            return Err(Refusal::DuplicateRank.into());
        }
        if reconnecting {
            // A resume point the peer has already acknowledged past, or
            // beyond what we sent, is a stale connection (an abandoned
            // attempt delivered late) or a restarted peer: refuse the
            // connection and keep the link as it is.
            let (kept_from, kept_to) = self.tx.resumable_range();
            let acked = self.tx.acked_by_peer();
            if repr.resume_seq < acked.max(kept_from) || repr.resume_seq > kept_to {
                return Err(LinkError::CannotResume {
                    asked: repr.resume_seq,
                    kept_from,
                    kept_to,
                });
            }
        }
        Ok(repr.resume_seq)
    }

    /// Takes an accepted connection whose hello passed
    /// [`Link::check_inbound`]; a connection the link already had is
    /// dropped. `Err` hands the socket back when the handshake cannot start.
    pub fn take_connection<Rx: AsMut<[u8]>>(
        &mut self,
        socket: S,
        dialler_hello: &[u8; HELLO_LEN],
        resume_seq: u64,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<(), (S, LinkError)> {
        if let Some(old) = self.socket.as_ref() {
            log::warn!(
                "{} connected again from {}; dropping its connection from {}",
                self.peer,
                socket.peer_addr(),
                old.peer_addr()
            );
            self.suspend_connection(ctx);
        }
        let hello = self.hello(ctx.config);
        let handshake = match self.start_handshake(false, dialler_hello, &hello, ctx) {
            Ok(h) => h,
            Err(reason) => return Err((socket, reason)),
        };
        self.peer_resume_seq = Some(resume_seq);
        match handshake {
            Some(h) => {
                // The secure handshake follows; the link is up when it completes.
                self.attach(socket, &hello, RxPhase::Handshake, now);
                self.handshake = Some(h);
                if !self.ever_established {
                    self.state = LinkState::Handshaking;
                }
                self.handshake_deadline = Some(now + ctx.config.handshake_timeout);
            }
            None => {
                self.attach(socket, &hello, RxPhase::Header, now);
                if let Err(reason) = self.link_up(ctx) {
                    // Our hello tells the dialler where we stand, so it can
                    // name the failure too.
                    if let Some(s) = self.socket.as_mut() {
                        let _ = s.write_vectored(&[&hello]);
                    }
                    self.end(reason, ctx);
                }
            }
        }
        Ok(())
    }

    /// The accepting side's hello has arrived on a link we dialled.
    pub(super) fn on_hello<Rx: AsMut<[u8]>>(
        &mut self,
        bytes: &[u8; HELLO_LEN],
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<(), Stop> {
        let repr = HelloRepr::parse(&Hello::new_checked(&bytes[..])?)?;
        check_hello(ctx.config, &repr)?;
        if repr.sender != self.peer {
            return Err(Incompatibility::WrongRank {
                claimed: repr.sender,
            }
            .into());
        }
        let ours = self.hello(ctx.config);
        self.peer_resume_seq = Some(repr.resume_seq);
        // Both closes had passed, and the peer, which has ended its side of
        // the link, says it holds every frame we sent: only a last
        // acknowledgement had been lost. The link is closed.
        let all_received = repr.resume_seq >= self.tx.resumable_range().1;
        if self.ever_established && self.peer_closed && self.sent_close && all_received {
            return Err(Stop::Closed);
        }
        if let Some(mut handshake) = self.start_handshake(true, &ours, bytes, ctx)? {
            let mut first = Vec::new();
            handshake.write(&mut first)?;
            self.tx.queue_raw(&first);
            self.handshake = Some(handshake);
            self.rx.set_phase(RxPhase::Handshake);
            return Ok(());
        }
        self.rx.set_phase(RxPhase::Header);
        self.link_up(ctx)
    }

    /// Starts the secure handshake if the endpoint is secure (`Ok(None)`
    /// on a plaintext endpoint). The prologue binds both hellos.
    fn start_handshake<Rx: AsMut<[u8]>>(
        &mut self,
        initiator: bool,
        dialler_hello: &[u8],
        acceptor_hello: &[u8],
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<Option<Handshake>, LinkError> {
        let Some(secure) = &ctx.config.secure else {
            return Ok(None);
        };
        *ctx.handshakes += 1;
        let prologue = secure::prologue(dialler_hello, acceptor_hello);
        Handshake::new(secure, self.peer, initiator, &prologue, *ctx.handshakes)
            .map(Some)
            .map_err(LinkError::from)
    }

    /// A handshake message arrived: answer it (as the responder) and switch
    /// to the channel once the handshake is complete.
    pub(super) fn on_handshake_message<Rx: AsMut<[u8]>>(
        &mut self,
        message: &[u8],
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<(), Stop> {
        let Some(handshake) = self.handshake.as_mut() else {
            return Err(Misbehaviour::UnexpectedHandshake.into());
        };
        handshake.read(message)?;
        let mut reply = Vec::new();
        if !self.dials {
            handshake.write(&mut reply)?;
        }
        let finished = handshake.is_finished();
        if !reply.is_empty() {
            self.tx.queue_raw(&reply);
        }
        if !finished {
            return Ok(());
        }
        let Some(handshake) = self.handshake.take() else {
            return Ok(());
        };
        let channel = handshake.into_channel()?;
        self.channel = Some(channel);
        self.rx.start_channel();
        self.link_up(ctx)
    }

    /// Learns the new connection's round trip (the set-up crossed it at
    /// least once) and limits what its socket keeps unsent as the policy
    /// says for a path that long.
    fn fit_socket_to_path(&mut self) {
        let Some(socket) = self.socket.as_mut() else {
            return;
        };
        if let Some(rtt) = socket.round_trip() {
            self.round_trip = Some(rtt);
        }
        if let Some(bytes) = policy::unsent_limit(self.round_trip) {
            socket.limit_unsent(bytes);
        }
    }

    /// The hellos (and the secure handshake) are done: the link is up, or
    /// resumes where the peer's hello asked.
    fn link_up<Rx: AsMut<[u8]>>(
        &mut self,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<(), Stop> {
        let asked = self.peer_resume_seq.take().unwrap_or(0);
        let (peer, requests) = (self.peer, &mut *ctx.requests);
        self.tx
            .resume_from(asked, |lent| super::complete_send(requests, peer, lent))
            .map_err(|(kept_from, kept_to)| LinkError::CannotResume {
                asked,
                kept_from,
                kept_to,
            })?;
        self.state = if self.close_queued {
            LinkState::Closing
        } else {
            LinkState::Established
        };
        self.handshake_deadline = None;
        self.dial_backoff_us = 0;
        self.setup_refused = None;
        // Tell the peer at once what we hold: it may be waiting on it to close.
        if self.tx.can_resume() {
            self.tx.request_ack();
        }
        self.fit_socket_to_path();
        let how = if self.secure { "secure link" } else { "link" };
        let peer = self.peer;
        let over = self
            .round_trip
            .map(|rtt| alloc::format!(" (round trip {} us)", rtt.as_micros()))
            .unwrap_or_default();
        if self.ever_established {
            self.stats.resumes += 1;
            log::info!("{how} to {peer} resumed from frame {asked}{over}");
            ctx.events.push(Event::LinkResumed(peer));
        } else {
            self.ever_established = true;
            log::info!("{how} to {peer} established{over}");
            ctx.events.push(Event::LinkUp(peer));
        }
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::error::{Incompatibility, Refusal};
    use crate::testing::MemSocket;
    use crate::wire::Capabilities;
    use crate::Rank;

    fn r(i: u8) -> Rank {
        Rank::new(i).unwrap()
    }

    fn repr(sender: u8, receiver: u8) -> HelloRepr {
        HelloRepr {
            capabilities: Capabilities::RESUME,
            session: [1; 16],
            sender: r(sender),
            receiver: r(receiver),
            resume_seq: 0,
        }
    }

    fn link(peer: u8, dials: bool) -> Link<MemSocket, alloc::vec::Vec<u8>> {
        Link::new(r(peer), dials, 1024, false, 4096, Instant::default())
    }

    #[test]
    fn a_hello_must_match_session_addressee_and_capabilities() {
        let mut config = EndpointConfig::new(r(0), [1; 16]);
        config.capabilities = Capabilities::RESUME;
        assert_eq!(check_hello(&config, &repr(1, 0)), Ok(()));
        let other_job = HelloRepr {
            session: [2; 16],
            ..repr(1, 0)
        };
        assert_eq!(
            check_hello(&config, &other_job),
            Err(Incompatibility::WrongSession.into())
        );
        assert_eq!(
            check_hello(&config, &repr(1, 2)),
            Err(Incompatibility::NotAddressedToUs { addressed_to: r(2) }.into())
        );
        let encrypted = HelloRepr {
            capabilities: Capabilities::ENCRYPTED | Capabilities::RESUME,
            ..repr(1, 0)
        };
        assert_eq!(
            check_hello(&config, &encrypted),
            Err(Incompatibility::CapabilityMismatch.into())
        );
    }

    #[test]
    fn an_inbound_connection_is_taken_only_where_it_may_be() {
        // Rank 0 accepts rank 1 on a fresh link, resuming from nothing.
        assert_eq!(link(1, false).check_inbound(&repr(1, 0)), Ok(0));
        // Rank 1 dials rank 0: a connection claiming rank 0 is refused.
        assert_eq!(
            link(0, true).check_inbound(&repr(0, 1)),
            Err(Incompatibility::WrongRank { claimed: r(0) }.into())
        );
        // A link that is up and cannot resume takes no second connection.
        let mut up = link(1, false);
        up.state = LinkState::Established;
        up.tx = super::super::tx::Transmit::new(1024, false, 0);
        assert_eq!(
            up.check_inbound(&repr(1, 0)),
            Err(Refusal::DuplicateRank.into())
        );
    }

    #[test]
    fn a_connection_over_a_long_path_keeps_little_unsent() {
        for (rtt_us, expected) in [(20_000, Some(128 * 1024)), (40, None)] {
            let mut l = link(1, false);
            let (mut socket, _peer) = MemSocket::pair(4096);
            let rtt = crate::time::Duration::from_micros(rtt_us);
            socket.set_round_trip(Some(rtt));
            let limit = socket.unsent_limit();
            l.socket = Some(socket);
            l.fit_socket_to_path();
            assert_eq!(l.round_trip, Some(rtt));
            assert_eq!(limit.get(), expected, "round trip {rtt_us} us");
        }
    }

    #[test]
    fn a_hello_names_the_next_frame_expected() {
        let mut config = EndpointConfig::new(r(0), [1; 16]);
        config.capabilities = Capabilities::RESUME;
        let bytes = link(2, false).hello(&config);
        let parsed = HelloRepr::parse(&Hello::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!((parsed.sender, parsed.receiver), (r(0), r(2)));
        assert_eq!(parsed.resume_seq, 0);
        assert_eq!(parsed.session, [1; 16]);
    }
}
