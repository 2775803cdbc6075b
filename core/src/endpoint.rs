//! One party's endpoint: its two links, matching and requests.
//!
//! The endpoint is driven from outside: [`Endpoint::poll`] makes every step
//! of progress possible without blocking (dial, accept, read, write, time out)
//! and returns; the platform then sleeps until a socket is ready or
//! [`Endpoint::poll_at`] arrives. Requests are posted with [`Endpoint::isend`]
//! and [`Endpoint::irecv`] and collected with [`Endpoint::take`].
//!
//! Buffers are generic: a send holds anything that reads as bytes, a receive
//! anything that writes as bytes, and each is handed back in its completion.
//! That lets a platform lend the application's own memory, so large messages
//! move between socket and application with no intermediate copy.

use crate::config::{EndpointConfig, MAX_FRAME_PAYLOAD};
use crate::error::{Error, LinkError};
use crate::link::{Inbound, Link, LinkState, OutItem, RxPhase, Sink, Written};
use crate::matching::{
    ArrivalOutcome, Matcher, PostOutcome, Source, TagFilter, Unexpected, UnexpectedKey,
};
use crate::rank::{Rank, PARTIES};
use crate::request::Completion;
use crate::request::{PendingRecv, RequestId, Requests, Status};
use crate::secure::{self, Handshake, MAX_SEALED_FRAME, RECORD_PREFIX, TAG_LEN};
use crate::socket::{Network, Socket, SocketError};
use crate::stats::LinkStats;
use crate::time::{earliest, Duration, Instant};
use crate::wire::{
    Capabilities, FrameHeader, FrameKind, FrameRepr, Hello, HelloRepr, FRAME_HEADER_LEN, HELLO_LEN,
};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

/// Socket reads per link per poll, so one busy link cannot starve the other.
const READS_PER_POLL: usize = 64;
/// Payloads at least this long are read straight into their destination.
const DIRECT_READ_MIN: usize = 16 * 1024;
/// Events kept for the platform before the oldest are dropped.
const MAX_EVENTS: usize = 64;
/// First and largest pause between connection attempts.
const DIAL_BACKOFF_MIN_US: u64 = 2_000;
const DIAL_BACKOFF_MAX_US: u64 = 250_000;
/// Heartbeat intervals without a byte from the peer after which the dialling
/// side replaces a connection that may be dead without either kernel having
/// noticed (a cut cable, a lost route): two heartbeats missed, and a third due.
const STALLED_HEARTBEATS: u32 = 3;

/// Something the platform may want to log or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<A> {
    /// The link to this peer is established.
    LinkUp(Rank),
    /// The connection to this peer broke; the link is reconnecting and will
    /// resume where it stopped. Operations on it wait meanwhile.
    LinkInterrupted {
        /// The peer.
        peer: Rank,
        /// What broke the connection.
        reason: LinkError,
    },
    /// The link to this peer is back on a new connection, nothing lost.
    LinkResumed(Rank),
    /// The link to this peer failed; operations involving it fail with `reason`.
    LinkFailed {
        /// The peer.
        peer: Rank,
        /// What happened.
        reason: LinkError,
    },
    /// The link to this peer closed in order.
    LinkClosed(Rank),
    /// An inbound connection was refused and dropped; real links are unaffected.
    Rejected {
        /// Where it came from.
        addr: A,
        /// Why it was refused.
        reason: LinkError,
    },
}

/// Which readiness a socket should be watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// Wake when bytes can be read.
    pub read: bool,
    /// Wake when bytes can be written.
    pub write: bool,
}

/// An accepted connection that has not yet presented a valid hello.
#[derive(Debug)]
struct PendingConn<S> {
    socket: S,
    hello: [u8; HELLO_LEN],
    filled: usize,
    deadline: Instant,
}

/// One party of a three-party job.
#[derive(Debug)]
pub struct Endpoint<S: Socket, Tx, Rx> {
    config: EndpointConfig,
    links: [Option<Link<S, Tx>>; PARTIES],
    pending: Vec<PendingConn<S>>,
    matcher: Matcher,
    requests: Requests<Tx, Rx>,
    events: VecDeque<Event<S::Addr>>,
    connect_deadline: Instant,
    closing: bool,
    discard: Vec<u8>,
    /// Handshakes started, so each draws its own randomness.
    handshakes: u64,
}

impl<S: Socket, Tx: AsRef<[u8]>, Rx: AsMut<[u8]>> Endpoint<S, Tx, Rx> {
    /// A new endpoint that starts connecting at `now`. Each party dials the
    /// lower ranks and accepts the higher ones, so any start order works.
    pub fn new(mut config: EndpointConfig, now: Instant) -> Self {
        let me = config.rank;
        let secure = config.secure.is_some();
        config.capabilities.set(Capabilities::ENCRYPTED, secure);
        config
            .capabilities
            .set(Capabilities::RESUME, config.resume_buffer > 0);
        // A sealed frame (header and payload) must fit one record.
        let frame_limit = if secure {
            MAX_SEALED_FRAME - FRAME_HEADER_LEN
        } else {
            MAX_FRAME_PAYLOAD
        };
        let frame_payload = config.frame_payload.clamp(1, frame_limit);
        let resume_buffer = config.resume_buffer;
        let links = Rank::ALL.map(|peer| {
            (peer != me)
                .then(|| Link::new(peer, peer < me, frame_payload, secure, resume_buffer, now))
        });
        Endpoint {
            matcher: Matcher::new(config.max_unexpected_messages, config.max_unexpected_bytes),
            connect_deadline: now + config.connect_timeout,
            config,
            links,
            pending: Vec::new(),
            requests: Requests::new(),
            events: VecDeque::new(),
            closing: false,
            discard: vec![0; 4096],
            handshakes: 0,
        }
    }

    /// This party's rank.
    pub fn rank(&self) -> Rank {
        self.config.rank
    }

    /// The state of the link to `peer` (`None` for our own rank).
    pub fn link_state(&self, peer: Rank) -> Option<LinkState> {
        self.link(peer).map(|l| l.state)
    }

    /// Traffic counters of the link to `peer`.
    pub fn stats(&self, peer: Rank) -> LinkStats {
        self.link(peer).map(|l| l.stats).unwrap_or_default()
    }

    /// True once both links are established.
    pub fn is_established(&self) -> bool {
        self.links
            .iter()
            .flatten()
            .all(|l| l.state == LinkState::Established)
    }

    /// The first failed link and why, if any.
    pub fn failure(&self) -> Option<(Rank, LinkError)> {
        self.links.iter().flatten().find_map(|l| match l.state {
            LinkState::Failed(reason) => Some((l.peer, reason)),
            _ => None,
        })
    }

    /// True when every link is closed or failed.
    pub fn is_closed(&self) -> bool {
        self.links
            .iter()
            .flatten()
            .all(|l| matches!(l.state, LinkState::Closed | LinkState::Failed(_)))
    }

    /// True while any request, queued byte or link set-up needs driving.
    pub fn has_work(&self) -> bool {
        self.requests.live() > 0
            || self.links.iter().flatten().any(|l| {
                !l.tx_idle() || matches!(l.state, LinkState::Connecting | LinkState::Handshaking)
            })
            || !self.pending.is_empty()
    }

    /// The next event for the platform, oldest first.
    pub fn poll_event(&mut self) -> Option<Event<S::Addr>> {
        self.events.pop_front()
    }

    /// Calls `f` with each open socket and what to watch it for.
    pub fn for_each_socket(&self, mut f: impl FnMut(&S, Interest)) {
        for link in self.links.iter().flatten() {
            if let Some(socket) = &link.socket {
                f(
                    socket,
                    Interest {
                        read: true,
                        write: !link.tx_idle(),
                    },
                );
            }
        }
        for p in &self.pending {
            f(
                &p.socket,
                Interest {
                    read: true,
                    write: false,
                },
            );
        }
    }

    /// When [`Endpoint::poll`] must run again even if no socket becomes ready.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut at = None;
        let mut unestablished = false;
        let interval = self.config.heartbeat_interval;
        for link in self.links.iter().flatten() {
            let silent_at = self.config.peer_timeout.map(|t| link.last_heard + t);
            match link.state {
                LinkState::Connecting | LinkState::Handshaking => {
                    if link.ever_established {
                        at = earliest(at, silent_at);
                    } else {
                        unestablished = true;
                    }
                    if link.state == LinkState::Handshaking {
                        at = earliest(at, link.handshake_deadline);
                    } else if link.dials {
                        at = earliest(at, Some(link.next_dial));
                    }
                }
                LinkState::Established | LinkState::Closing if link.socket.is_some() => {
                    // A heartbeat already due waits for the socket, not the clock.
                    if !link.ack_due {
                        at = earliest(at, Some(link.last_sent + interval));
                    }
                    if link.dials && link.replay.is_some() {
                        at = earliest(at, Some(link.last_heard + interval * STALLED_HEARTBEATS));
                    }
                    at = earliest(at, silent_at);
                }
                _ => {}
            }
        }
        if unestablished {
            at = earliest(at, Some(self.connect_deadline));
        }
        self.pending
            .iter()
            .fold(at, |at, p| earliest(at, Some(p.deadline)))
    }

    /// Posts a send of `buf` to `peer` with `tag`.
    pub fn isend(&mut self, peer: Rank, tag: u32, buf: Tx) -> Result<RequestId, Error> {
        if self.closing {
            return Err(Error::EndpointClosed);
        }
        let link = self.link_mut(peer).ok_or(Error::SelfMessage)?;
        match link.state {
            LinkState::Failed(reason) => return Err(Error::Link { peer, reason }),
            LinkState::Closed | LinkState::Closing => {
                return Err(Error::Link {
                    peer,
                    reason: LinkError::Closed,
                })
            }
            _ => {}
        }
        let id = self.requests.insert_send();
        if let Some(link) = self.link_mut(peer) {
            link.tx.push_back(OutItem::Data { id, tag, buf });
        }
        Ok(id)
    }

    /// Posts a receive into `buf` from `source` with a tag accepted by `tag`.
    pub fn irecv(&mut self, source: Source, tag: TagFilter, buf: Rx) -> Result<RequestId, Error> {
        if source == Source::Rank(self.config.rank) {
            return Err(Error::SelfMessage);
        }
        let id = self.requests.insert_recv(PendingRecv { buf });
        match self.matcher.post(id, source, tag) {
            PostOutcome::Ready(msg) => self.deliver_unexpected(id, msg),
            PostOutcome::Claimed(key) => self.redirect_to_receive(key, id),
            PostOutcome::Queued => self.fail_unreachable_receives(),
        }
        Ok(id)
    }

    /// Is the request finished?
    pub fn is_complete(&self, id: RequestId) -> Result<bool, Error> {
        self.requests.is_complete(id)
    }

    /// Takes a finished request's completion (`Ok(None)` while it is pending).
    pub fn take(&mut self, id: RequestId) -> Result<Option<Completion<Tx, Rx>>, Error> {
        self.requests.take(id)
    }

    /// Takes every request in `ids` once all of them are complete (`None`
    /// while any is pending). `checked` carries, between calls, how many
    /// leading requests were already found complete, so a driver calling
    /// this after every pass does not recheck them.
    pub fn take_all_when_complete(
        &mut self,
        ids: &[RequestId],
        checked: &mut usize,
    ) -> Option<Vec<Completion<Tx, Rx>>> {
        while *checked < ids.len() && self.is_complete(ids[*checked]).unwrap_or(true) {
            *checked += 1;
        }
        (*checked == ids.len()).then(|| {
            ids.iter()
                .filter_map(|&id| self.take(id).ok().flatten())
                .collect()
        })
    }

    /// Gives up interest in a request: it still runs, but its completion is dropped.
    pub fn detach(&mut self, id: RequestId) -> Result<(), Error> {
        self.requests.detach(id)
    }

    /// Starts an orderly close: queued sends go out, then a close frame on
    /// every link. Poll until [`Endpoint::is_closed`].
    pub fn close(&mut self) {
        if self.closing {
            return;
        }
        self.closing = true;
        for peer in self.config.rank.others() {
            let Some(link) = self.link_mut(peer) else {
                continue;
            };
            match link.state {
                LinkState::Established => {
                    link.tx.push_back(OutItem::Close { reason: 0 });
                    link.close_queued = true;
                    link.state = LinkState::Closing;
                }
                // Reconnecting: the close goes out once the link resumes.
                LinkState::Connecting | LinkState::Handshaking if link.ever_established => {
                    link.tx.push_back(OutItem::Close { reason: 0 });
                    link.close_queued = true;
                }
                LinkState::Connecting | LinkState::Handshaking => {
                    self.end_link(peer, LinkError::Closed);
                }
                LinkState::Closing | LinkState::Closed | LinkState::Failed(_) => {}
            }
        }
    }

    /// Aborts the job: an abort frame carrying `code` goes out on every live
    /// link ahead of queued messages, and no new operation is accepted. Poll
    /// until [`Endpoint::abort_sent`] before ending the process.
    pub fn abort(&mut self, code: i32) {
        self.closing = true;
        for link in self.links.iter_mut().flatten() {
            if link.socket.is_some()
                && matches!(link.state, LinkState::Established | LinkState::Closing)
            {
                link.push_urgent(OutItem::Abort { code });
            }
        }
    }

    /// True once every abort frame has been written (or its link is gone).
    pub fn abort_sent(&self) -> bool {
        self.links
            .iter()
            .flatten()
            .all(|l| l.socket.is_none() || !l.abort_pending())
    }

    /// Makes all progress possible now without blocking. Returns true if
    /// anything moved or changed state.
    pub fn poll<N: Network<Socket = S>>(&mut self, net: &mut N, now: Instant) -> bool {
        self.check_deadlines(now);
        let mut progressed = self.dial(net, now);
        progressed |= self.accept(net, now);
        progressed |= self.serve_pending(now);
        for peer in self.config.rank.others() {
            progressed |= self.drive_link(peer, now);
        }
        progressed
    }

    fn link(&self, peer: Rank) -> Option<&Link<S, Tx>> {
        self.links[peer.index()].as_ref()
    }

    fn link_mut(&mut self, peer: Rank) -> Option<&mut Link<S, Tx>> {
        self.links[peer.index()].as_mut()
    }

    fn push_event(&mut self, event: Event<S::Addr>) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Our hello to `peer`, naming the next frame we expect from it (0 on a
    /// new link), so a resumed connection restarts exactly there.
    fn hello_for(&self, peer: Rank) -> [u8; HELLO_LEN] {
        let mut out = [0u8; HELLO_LEN];
        let repr = HelloRepr {
            capabilities: self.config.capabilities,
            session: self.config.session,
            sender: self.config.rank,
            receiver: peer,
            resume_seq: self.link(peer).map_or(0, Link::frames_received),
        };
        // HELLO_LEN bytes always fit.
        let _ = repr.emit(&mut out);
        out
    }

    fn check_deadlines(&mut self, now: Instant) {
        for peer in self.config.rank.others() {
            let Some(link) = self.link(peer) else {
                continue;
            };
            let state = link.state;
            let handshake_late = link.handshake_deadline.is_some_and(|d| now >= d);
            let setting_up = matches!(state, LinkState::Connecting | LinkState::Handshaking);
            let silent_for = self
                .config
                .peer_timeout
                .filter(|&t| now >= link.last_heard + t);
            if setting_up && link.ever_established {
                // Reconnecting: the peer timeout bounds the wait.
                if let Some(timeout) = silent_for {
                    self.end_link(peer, peer_silent(timeout));
                } else if state == LinkState::Handshaking && handshake_late {
                    self.link_error(peer, LinkError::HandshakeTimeout, now);
                }
            } else if setting_up && now >= self.connect_deadline {
                let reason = match (link.setup_refused, state) {
                    (Some(refused), _) => refused,
                    (None, LinkState::Handshaking) => LinkError::HandshakeTimeout,
                    (None, _) => LinkError::NeverConnected,
                };
                self.end_link(peer, reason);
            } else if state == LinkState::Handshaking && handshake_late {
                self.link_error(peer, LinkError::HandshakeTimeout, now);
            }
        }
        self.keep_alive(now);
        let mut i = 0;
        while i < self.pending.len() {
            if now >= self.pending[i].deadline {
                let conn = self.pending.swap_remove(i);
                self.reject(conn.socket, LinkError::HandshakeTimeout);
            } else {
                i += 1;
            }
        }
    }

    /// Sends a heartbeat on every quiet link, replaces a dialled connection
    /// that has gone quiet (it may be dead without either kernel knowing),
    /// and fails the link of a peer that has been silent past the peer timeout.
    fn keep_alive(&mut self, now: Instant) {
        let (interval, timeout) = (self.config.heartbeat_interval, self.config.peer_timeout);
        for peer in self.config.rank.others() {
            let Some(link) = self.link_mut(peer) else {
                continue;
            };
            if link.socket.is_none()
                || !matches!(link.state, LinkState::Established | LinkState::Closing)
            {
                continue;
            }
            if let Some(timeout) = timeout.filter(|&t| now >= link.last_heard + t) {
                self.link_error(peer, peer_silent(timeout), now);
                continue;
            }
            let stalled = now >= link.last_heard + interval * STALLED_HEARTBEATS;
            if stalled && link.sent_close && link.nothing_in_flight() {
                // Both closes have passed and been acknowledged; only our
                // last acknowledgement may not have got out. The peer has
                // left, or will learn what we hold from our hello if it
                // reconnects. Nothing is left to wait for.
                self.end_link(peer, LinkError::Closed);
                continue;
            }
            if stalled && link.dials && link.replay.is_some() && !link.nothing_in_flight() {
                let quiet = now.saturating_since(link.last_heard);
                self.begin_reconnect(peer, peer_silent(quiet), now);
                continue;
            }
            if now >= link.last_sent + interval {
                link.ack_due = true;
            }
        }
    }

    fn dial<N: Network<Socket = S>>(&mut self, net: &mut N, now: Instant) -> bool {
        let mut progressed = false;
        for peer in self.config.rank.others() {
            let hello = self.hello_for(peer);
            let handshake_timeout = self.config.handshake_timeout;
            // A reconnection tries again soon: a connection attempt begun
            // while the route was down may not see it come back for seconds
            // (TCP's own retries back off), and the peer timeout is running.
            let reconnect_timeout = handshake_timeout.min(self.config.heartbeat_interval / 2);
            let Some(link) = self.link_mut(peer) else {
                continue;
            };
            if !link.dials || link.state != LinkState::Connecting || now < link.next_dial {
                continue;
            }
            progressed = true;
            match net.connect(peer) {
                Ok(socket) => {
                    link.attach(socket, hello, RxPhase::Hello, now);
                    link.state = LinkState::Handshaking;
                    let timeout = if link.ever_established {
                        reconnect_timeout
                    } else {
                        handshake_timeout
                    };
                    link.handshake_deadline = Some(now + timeout);
                }
                Err(SocketError::Refused) if link.ever_established => {
                    self.peer_gone(peer);
                }
                Err(e) => {
                    log::debug!("dialling {peer}: {e}; will retry");
                    schedule_redial(link, now);
                }
            }
        }
        progressed
    }

    fn accept<N: Network<Socket = S>>(&mut self, net: &mut N, now: Instant) -> bool {
        let mut progressed = false;
        loop {
            match net.accept() {
                Ok(Some(socket)) => {
                    progressed = true;
                    if self.pending.len() >= self.config.max_pending_connections {
                        self.reject(socket, LinkError::HandshakeTimeout);
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

    fn reject(&mut self, mut socket: S, reason: LinkError) {
        let addr = socket.peer_addr();
        log::warn!("refused connection from {addr}: {reason}");
        socket.close();
        self.push_event(Event::Rejected { addr, reason });
    }

    /// Reads hellos on accepted connections and promotes the valid ones to links.
    fn serve_pending(&mut self, now: Instant) -> bool {
        let mut progressed = false;
        let mut i = 0;
        while i < self.pending.len() {
            let conn = &mut self.pending[i];
            let filled = conn.filled;
            let read = conn.socket.read_vectored(&mut [&mut conn.hello[filled..]]);
            let outcome = match read {
                Ok(0) => Some(Err(LinkError::PeerVanished)),
                Ok(n) => {
                    progressed = true;
                    conn.filled += n;
                    (conn.filled == HELLO_LEN).then(|| self.check_inbound_hello(i))
                }
                Err(SocketError::WouldBlock) => None,
                Err(e) => Some(Err(LinkError::Socket(e))),
            };
            match outcome {
                None => i += 1,
                Some(Err(reason)) => {
                    let mut conn = self.pending.swap_remove(i);
                    let tell = matches!(
                        reason,
                        LinkError::CapabilityMismatch
                            | LinkError::CannotResume { .. }
                            | LinkError::Closed
                    );
                    if let (true, Some(rank)) = (tell, Rank::new(conn.hello[24])) {
                        // Tell the dialler what we require and where we stand
                        // (a hello holds only public facts), so it can name the
                        // mismatch itself.
                        let ours = self.hello_for(rank);
                        let _ = conn.socket.write_vectored(&[&ours]);
                    }
                    self.reject(conn.socket, reason);
                }
                Some(Ok((peer, resume_seq))) => {
                    let conn = self.pending.swap_remove(i);
                    if let Some(old) = self.link(peer).and_then(|l| l.socket.as_ref()) {
                        log::warn!(
                            "{peer} connected again from {}; dropping its connection from {}",
                            conn.socket.peer_addr(),
                            old.peer_addr()
                        );
                        self.suspend_connection(peer);
                    }
                    let hello = self.hello_for(peer);
                    let handshake = match self.start_handshake(peer, false, &conn.hello, &hello) {
                        Ok(h) => h,
                        Err(reason) => {
                            self.reject(conn.socket, reason);
                            continue;
                        }
                    };
                    let deadline = now + self.config.handshake_timeout;
                    let Some(link) = self.link_mut(peer) else {
                        continue;
                    };
                    link.peer_resume_seq = Some(resume_seq);
                    match handshake {
                        Some(h) => {
                            // The secure handshake follows; the link is up when it completes.
                            link.attach(conn.socket, hello, RxPhase::Handshake, now);
                            link.handshake = Some(h);
                            link.state = LinkState::Handshaking;
                            link.handshake_deadline = Some(deadline);
                        }
                        None => {
                            link.attach(conn.socket, hello, RxPhase::Header, now);
                            if let Err(reason) = self.link_up(peer) {
                                // Our hello tells the dialler where we stand,
                                // so it can name the failure too.
                                if let Some(s) = self.link_mut(peer).and_then(|l| l.socket.as_mut())
                                {
                                    let _ = s.write_vectored(&[&hello]);
                                }
                                self.end_link(peer, reason);
                            }
                        }
                    }
                }
            }
        }
        progressed
    }

    /// Starts the secure handshake with `peer` if this party is secure
    /// (`Ok(None)` on a plaintext endpoint). The prologue binds both hellos.
    fn start_handshake(
        &mut self,
        peer: Rank,
        initiator: bool,
        dialler_hello: &[u8],
        acceptor_hello: &[u8],
    ) -> Result<Option<Handshake>, LinkError> {
        let Some(secure) = &self.config.secure else {
            return Ok(None);
        };
        self.handshakes += 1;
        let prologue = secure::prologue(dialler_hello, acceptor_hello);
        Handshake::new(secure, peer, initiator, &prologue, self.handshakes)
            .map(Some)
            .map_err(|_| LinkError::HandshakeFailed)
    }

    /// A handshake message arrived: answer it (as the responder) and switch
    /// to the channel once the handshake is complete.
    fn on_handshake_message(&mut self, peer: Rank, message: &[u8]) -> Result<(), LinkError> {
        let Some(link) = self.link_mut(peer) else {
            return Ok(());
        };
        let Some(handshake) = link.handshake.as_mut() else {
            return Err(LinkError::UnexpectedFrame);
        };
        handshake
            .read(message)
            .map_err(|_| LinkError::HandshakeFailed)?;
        let mut reply = Vec::new();
        if !link.dials {
            handshake
                .write(&mut reply)
                .map_err(|_| LinkError::HandshakeFailed)?;
        }
        let finished = handshake.is_finished();
        if !reply.is_empty() {
            link.queue_raw(&reply);
        }
        if !finished {
            return Ok(());
        }
        let Some(handshake) = link.handshake.take() else {
            return Ok(());
        };
        let channel = handshake
            .into_channel()
            .map_err(|_| LinkError::HandshakeFailed)?;
        link.start_channel(channel);
        self.link_up(peer)
    }

    /// The hellos (and the secure handshake) are done: the link is up, or
    /// resumes where the peer's hello asked.
    fn link_up(&mut self, peer: Rank) -> Result<(), LinkError> {
        let Some(link) = self.link_mut(peer) else {
            return Ok(());
        };
        let asked = link.peer_resume_seq.take().unwrap_or(0);
        link.resume_from(asked)
            .map_err(|(kept_from, kept_to)| LinkError::CannotResume {
                asked,
                kept_from,
                kept_to,
            })?;
        link.state = if link.close_queued {
            LinkState::Closing
        } else {
            LinkState::Established
        };
        link.handshake_deadline = None;
        link.dial_backoff_us = 0;
        link.setup_refused = None;
        // Tell the peer at once what we hold: it may be waiting on it to close.
        link.ack_due = link.replay.is_some();
        let how = if link.secure { "secure link" } else { "link" };
        if link.ever_established {
            link.stats.resumes += 1;
            log::info!("{how} to {peer} resumed from frame {asked}");
            self.push_event(Event::LinkResumed(peer));
        } else {
            link.ever_established = true;
            log::info!("{how} to {peer} established");
            self.push_event(Event::LinkUp(peer));
        }
        Ok(())
    }

    /// Validates the hello of pending connection `i`; returns the peer's
    /// rank and where it asks to resume.
    fn check_inbound_hello(&self, i: usize) -> Result<(Rank, u64), LinkError> {
        let view = Hello::new_checked(&self.pending[i].hello[..])?;
        let repr = HelloRepr::parse(&view)?;
        self.check_hello(&repr)?;
        let link = self.link(repr.sender).ok_or(LinkError::WrongRank {
            claimed: repr.sender,
        })?;
        if link.dials {
            // We dial this rank; it must never dial us.
            return Err(LinkError::WrongRank {
                claimed: repr.sender,
            });
        }
        // A link that can resume takes a new connection from its peer at
        // any time: the old one may be dead without our kernel knowing.
        let reconnecting = link.ever_established && link.replay.is_some();
        if reconnecting && link.state == LinkState::Closed {
            // The peer lost our last acknowledgement: our hello tells it
            // what we received, so it can finish its close too.
            return Err(LinkError::Closed);
        }
        if link.state != LinkState::Connecting && !(reconnecting && link.is_live()) {
            return Err(LinkError::DuplicateRank);
        }
        if reconnecting {
            // A resume point the peer has already acknowledged past, or
            // beyond what we sent, is a stale connection (an abandoned
            // attempt delivered late) or a restarted peer: refuse the
            // connection and keep the link as it is.
            let (kept_from, kept_to) = link.resumable_range();
            if repr.resume_seq < link.acked_by_peer.max(kept_from) || repr.resume_seq > kept_to {
                return Err(LinkError::CannotResume {
                    asked: repr.resume_seq,
                    kept_from,
                    kept_to,
                });
            }
        }
        Ok((repr.sender, repr.resume_seq))
    }

    fn check_hello(&self, repr: &HelloRepr) -> Result<(), LinkError> {
        if repr.session != self.config.session {
            return Err(LinkError::WrongSession);
        }
        if repr.receiver != self.config.rank {
            return Err(LinkError::NotAddressedToUs {
                addressed_to: repr.receiver,
            });
        }
        if repr.capabilities != self.config.capabilities {
            return Err(LinkError::CapabilityMismatch);
        }
        Ok(())
    }

    fn drive_link(&mut self, peer: Rank, now: Instant) -> bool {
        if self.link(peer).is_none_or(|l| l.socket.is_none()) {
            return false;
        }
        let mut progressed = match self.read_link(peer) {
            Ok(p) => p,
            Err(e) => {
                self.link_error(peer, e, now);
                return true;
            }
        };
        let Self {
            links, requests, ..
        } = self;
        let Some(link) = links[peer.index()].as_mut() else {
            return progressed;
        };
        if progressed {
            link.last_heard = now;
        }
        let mut close_out = false;
        let flushed = link.flush(|w| match w {
            Written::Close => close_out = true,
            Written::Abort => {}
            Written::Data { id, tag, buf, len } => {
                requests.complete_send(id, buf, Ok(Status { peer, tag, len }))
            }
        });
        match flushed {
            Ok(true) => {
                link.last_sent = now;
                progressed = true;
            }
            Ok(false) => {}
            Err(e) => {
                self.link_error(peer, LinkError::Socket(e), now);
                return true;
            }
        }
        link.sent_close |= close_out;
        if link.state == LinkState::Closing && link.close_complete() {
            if link.dials && link.replay.is_some() {
                // The accepting side ends the connection first. Were the
                // dialler to, a reset could swallow its last acknowledgement,
                // and the acceptor cannot dial to ask again. The lingering
                // dialler ends on the acceptor's end-of-stream, reconnects if
                // the connection breaks, or gives up when the link stalls.
                link.lingering = true;
            } else {
                self.end_link(peer, LinkError::Closed);
            }
        }
        progressed
    }

    /// Reads what the socket has, parsing and delivering as it goes.
    fn read_link(&mut self, peer: Rank) -> Result<bool, LinkError> {
        let mut progressed = false;
        for _ in 0..READS_PER_POLL {
            self.consume_staged(peer)?;
            match self.read_socket(peer) {
                Ok(Some(_)) => progressed = true,
                Ok(None) => break,
                Err(e) => return Err(e),
            }
        }
        self.consume_staged(peer)?;
        Ok(progressed)
    }

    /// One socket read: straight into the destination for a large payload,
    /// else into the staging buffer. `None` when the socket has nothing.
    fn read_socket(&mut self, peer: Rank) -> Result<Option<usize>, LinkError> {
        let Self {
            links,
            requests,
            matcher,
            discard,
            ..
        } = self;
        let Some(link) = links[peer.index()].as_mut() else {
            return Ok(None);
        };
        link.compact_staging();
        if link.channel.is_some() {
            return read_sealed(link);
        }
        let direct = match (link.rx_phase, link.inbound) {
            (RxPhase::Payload { frame_left }, Some(inbound))
                if frame_left >= DIRECT_READ_MIN && link.rx_start == link.rx_end =>
            {
                Some((frame_left, inbound))
            }
            _ => None,
        };
        let Link {
            socket,
            rx_staging,
            rx_end,
            ..
        } = link;
        let Some(socket) = socket.as_mut() else {
            return Ok(None);
        };
        // A direct read pulls in at most the next frame's header behind the
        // payload: more would land payload bytes in staging, to be copied again.
        let spare_len = match direct {
            Some(_) => FRAME_HEADER_LEN.min(rx_staging.len() - *rx_end),
            None => rx_staging.len() - *rx_end,
        };
        let spare = &mut rx_staging[*rx_end..*rx_end + spare_len];
        let (result, into_payload) = match direct {
            Some((frame_left, inbound)) => {
                let region = payload_region(inbound, frame_left, requests, matcher, discard);
                let region_len = region.len();
                let r = socket.read_vectored(&mut [region, spare]);
                let got = r.as_ref().map_or(0, |&n| n.min(region_len));
                if let Sink::Unexpected(key) = inbound.sink {
                    if let Some(u) = matcher.unexpected_mut(key) {
                        u.data.truncate(inbound.received as usize + got);
                    }
                }
                (r, got)
            }
            None => (socket.read_vectored(&mut [spare]), 0),
        };
        let n = match result {
            Ok(0) => return Err(link.eof_error()),
            Ok(n) => n,
            Err(SocketError::WouldBlock) => return Ok(None),
            Err(e) => return Err(LinkError::Socket(e)),
        };
        link.stats.bytes_received += n as u64;
        link.rx_end += n - into_payload;
        if into_payload > 0 {
            if let (RxPhase::Payload { frame_left }, Some(inbound)) =
                (link.rx_phase, &mut link.inbound)
            {
                inbound.received += into_payload as u64;
                link.rx_phase = RxPhase::Payload {
                    frame_left: frame_left - into_payload,
                };
            }
        }
        Ok(Some(n))
    }

    /// Parses and delivers everything complete in the staging buffer.
    fn consume_staged(&mut self, peer: Rank) -> Result<(), LinkError> {
        loop {
            let Some(link) = self.link_mut(peer) else {
                return Ok(());
            };
            let staged = link.staged().len();
            match link.rx_phase {
                RxPhase::Hello => {
                    if staged < HELLO_LEN {
                        return Ok(());
                    }
                    let mut bytes = [0u8; HELLO_LEN];
                    bytes.copy_from_slice(&link.staged()[..HELLO_LEN]);
                    let repr = HelloRepr::parse(&Hello::new_checked(&bytes[..])?)?;
                    link.rx_start += HELLO_LEN;
                    self.on_hello(peer, &repr, &bytes)?;
                }
                RxPhase::Handshake => {
                    let prefix = RECORD_PREFIX;
                    if staged < prefix {
                        return Ok(());
                    }
                    let len = usize::from(u16::from_be_bytes([link.staged()[0], link.staged()[1]]));
                    if staged < prefix + len {
                        return Ok(());
                    }
                    let message = link.staged()[prefix..prefix + len].to_vec();
                    link.rx_start += prefix + len;
                    self.on_handshake_message(peer, &message)?;
                }
                RxPhase::Header => {
                    if staged < FRAME_HEADER_LEN {
                        return Ok(());
                    }
                    let view = FrameHeader::new_checked(link.staged())?;
                    let repr = FrameRepr::parse(&view, MAX_FRAME_PAYLOAD as u32)?;
                    link.rx_start += FRAME_HEADER_LEN;
                    self.on_frame(peer, repr)?;
                }
                RxPhase::Payload { frame_left: 0 } => self.end_frame(peer),
                RxPhase::Payload { frame_left } => {
                    if staged == 0 {
                        return Ok(());
                    }
                    let n = staged.min(frame_left);
                    let Self {
                        links,
                        requests,
                        matcher,
                        ..
                    } = self;
                    let Some(link) = links[peer.index()].as_mut() else {
                        return Ok(());
                    };
                    let Some(inbound) = link.inbound.as_mut() else {
                        return Err(LinkError::UnexpectedFrame);
                    };
                    let src = &link.rx_staging[link.rx_start..link.rx_start + n];
                    deliver(inbound, src, requests, matcher);
                    link.rx_start += n;
                    link.rx_phase = RxPhase::Payload {
                        frame_left: frame_left - n,
                    };
                }
            }
        }
    }

    /// The accepting side's hello has arrived on a link we dialled.
    fn on_hello(&mut self, peer: Rank, repr: &HelloRepr, bytes: &[u8]) -> Result<(), LinkError> {
        self.check_hello(repr)?;
        if repr.sender != peer {
            return Err(LinkError::WrongRank {
                claimed: repr.sender,
            });
        }
        let ours = self.hello_for(peer);
        if let Some(link) = self.link_mut(peer) {
            link.peer_resume_seq = Some(repr.resume_seq);
            // Both closes had passed, and the peer, which has ended its side
            // of the link, says it holds every frame we sent: only a last
            // acknowledgement had been lost. The link is closed.
            let all_received = repr.resume_seq >= link.resumable_range().1;
            if link.ever_established && link.peer_closed && link.sent_close && all_received {
                return Err(LinkError::Closed);
            }
        }
        if let Some(mut handshake) = self.start_handshake(peer, true, &ours, bytes)? {
            let mut first = Vec::new();
            handshake
                .write(&mut first)
                .map_err(|_| LinkError::HandshakeFailed)?;
            if let Some(link) = self.link_mut(peer) {
                link.queue_raw(&first);
                link.handshake = Some(handshake);
                link.rx_phase = RxPhase::Handshake;
            }
            return Ok(());
        }
        if let Some(link) = self.link_mut(peer) {
            link.rx_phase = RxPhase::Header;
        }
        self.link_up(peer)
    }

    fn on_frame(&mut self, peer: Rank, repr: FrameRepr) -> Result<(), LinkError> {
        let Self {
            links,
            requests,
            matcher,
            ..
        } = self;
        let Some(link) = links[peer.index()].as_mut() else {
            return Ok(());
        };
        if repr.kind == FrameKind::Heartbeat {
            // Unnumbered, and allowed between any two frames. It may not
            // acknowledge frames never sent, nor take an acknowledgement back.
            if repr.seq != 0 || repr.aux > link.frames_sent() || repr.aux < link.acked_by_peer {
                return Err(LinkError::UnexpectedFrame);
            }
            link.release_acked(repr.aux);
            return Ok(());
        }
        if repr.seq != link.rx_next_seq {
            return Err(LinkError::SequenceGap {
                expected: link.rx_next_seq,
                got: repr.seq,
            });
        }
        link.rx_next_seq += 1;
        link.count_received(FRAME_HEADER_LEN + repr.len as usize);
        if link.peer_closed {
            return Err(LinkError::UnexpectedFrame);
        }
        match repr.kind {
            FrameKind::Data => {
                let inbound = match link.inbound {
                    None => {
                        let sink = match matcher.arrive(peer, repr.tag, repr.aux) {
                            Ok(ArrivalOutcome::Posted(id)) => {
                                let capacity =
                                    requests.recv_mut(id).map_or(0, |r| r.buf.as_mut().len());
                                Sink::Request { id, capacity }
                            }
                            Ok(ArrivalOutcome::Unexpected(key)) => Sink::Unexpected(key),
                            Err(_) => return Err(LinkError::UnexpectedQueueFull),
                        };
                        Inbound {
                            tag: repr.tag,
                            len: repr.aux,
                            received: 0,
                            sink,
                        }
                    }
                    Some(current) => {
                        if current.tag != repr.tag || current.len != repr.aux || repr.len == 0 {
                            return Err(LinkError::UnexpectedFrame);
                        }
                        current
                    }
                };
                if inbound.received + u64::from(repr.len) > inbound.len {
                    return Err(LinkError::UnexpectedFrame);
                }
                link.inbound = Some(inbound);
                link.rx_frame_len = repr.len as usize;
                link.rx_phase = RxPhase::Payload {
                    frame_left: repr.len as usize,
                };
            }
            FrameKind::Abort => {
                return Err(LinkError::PeerAborted {
                    code: repr.aux as i64 as i32,
                });
            }
            FrameKind::Heartbeat => {}
            FrameKind::Close => {
                if link.inbound.is_some() {
                    return Err(LinkError::UnexpectedFrame);
                }
                link.peer_closed = true;
                // The peer may only finish once it knows its close arrived.
                link.ack_due |= link.replay.is_some();
                log::info!("{peer} closed its side of the link");
                self.fail_unreachable_receives();
            }
        }
        Ok(())
    }

    /// A frame's payload is all here: finish the message if it was the last.
    fn end_frame(&mut self, peer: Rank) {
        let Some(link) = self.link_mut(peer) else {
            return;
        };
        link.rx_phase = RxPhase::Header;
        let Some(inbound) = link.inbound else { return };
        if inbound.received < inbound.len {
            return;
        }
        link.inbound = None;
        link.stats.messages_received += 1;
        match inbound.sink {
            Sink::Request { id, capacity } => {
                let result = if inbound.len > capacity as u64 {
                    Err(Error::Truncated {
                        message_len: inbound.len,
                        buffer_len: capacity,
                    })
                } else {
                    Ok(Status {
                        peer,
                        tag: inbound.tag,
                        len: inbound.len,
                    })
                };
                self.requests.complete_recv(id, result);
            }
            Sink::Unexpected(key) => {
                if let Some(msg) = self.matcher.take_claimed(key) {
                    if let Some(id) = msg.claimed_by {
                        self.deliver_unexpected(id, msg);
                    }
                }
            }
        }
    }

    /// Receive `id` claimed a message that is still arriving: copies what has
    /// arrived into its buffer and sends the rest of the stream straight
    /// there, so a large message that beat its receive is copied only in part.
    fn redirect_to_receive(&mut self, key: UnexpectedKey, id: RequestId) {
        let Self {
            links,
            requests,
            matcher,
            ..
        } = self;
        let filling = |l: &&mut Link<S, Tx>| matches!(l.inbound, Some(Inbound { sink: Sink::Unexpected(k), .. }) if k == key);
        let Some(link) = links.iter_mut().flatten().find(filling) else {
            return;
        };
        let Some(recv) = requests.recv_mut(id) else {
            return;
        };
        let Some(msg) = matcher.take_claimed(key) else {
            return;
        };
        let buf = recv.buf.as_mut();
        let n = buf.len().min(msg.data.len());
        buf[..n].copy_from_slice(&msg.data[..n]);
        let capacity = buf.len();
        if let Some(inbound) = link.inbound.as_mut() {
            inbound.sink = Sink::Request { id, capacity };
        }
        matcher.recycle(msg.data);
    }

    /// Copies a complete unexpected message into receive `id` and completes it.
    fn deliver_unexpected(&mut self, id: RequestId, msg: Unexpected) {
        let Some(recv) = self.requests.recv_mut(id) else {
            return;
        };
        let buf = recv.buf.as_mut();
        let n = buf.len().min(msg.data.len());
        buf[..n].copy_from_slice(&msg.data[..n]);
        let result = if msg.len > buf.len() as u64 {
            Err(Error::Truncated {
                message_len: msg.len,
                buffer_len: buf.len(),
            })
        } else {
            Ok(Status {
                peer: msg.source,
                tag: msg.tag,
                len: msg.len,
            })
        };
        self.requests.complete_recv(id, result);
        self.matcher.recycle(msg.data);
    }

    /// A link hit an error: retry if it was still being dialled, else end it.
    fn link_error(&mut self, peer: Rank, reason: LinkError, now: Instant) {
        let Some(link) = self.link_mut(peer) else {
            return;
        };
        let retryable = matches!(
            reason,
            LinkError::Socket(_) | LinkError::PeerVanished | LinkError::HandshakeTimeout
        );
        let broken = matches!(reason, LinkError::Socket(_) | LinkError::PeerVanished);
        let carrying = matches!(link.state, LinkState::Established | LinkState::Closing);
        let settled = link.nothing_in_flight() && !link.lingering;
        if broken && link.replay.is_some() && carrying && !settled {
            self.begin_reconnect(peer, reason, now);
            return;
        }
        if !link.dials && link.state == LinkState::Handshaking {
            // An accepted connection that failed its secure handshake is
            // dropped; the link waits for the real peer (hellos are not
            // secret, so anyone could otherwise break a link with one).
            let addr = link.socket.as_ref().map(Socket::peer_addr);
            link.detach();
            link.state = LinkState::Connecting;
            link.handshake_deadline = None;
            if let Some(addr) = addr {
                log::warn!("refused connection from {addr} claiming {peer}: {reason}");
                self.push_event(Event::Rejected { addr, reason });
            }
            return;
        }
        if link.dials
            && link.state == LinkState::Handshaking
            && link.ever_established
            && reason == LinkError::Socket(SocketError::Refused)
        {
            self.peer_gone(peer);
            return;
        }
        if link.dials && link.state == LinkState::Handshaking && retryable {
            if link.handshake.is_some() {
                // Closed on us mid-handshake: the acceptor refused our key.
                // Keep trying (it may have restarted), but say so at the deadline.
                link.setup_refused = Some(LinkError::HandshakeFailed);
            }
            log::debug!("connection to {peer} failed during set-up ({reason}); retrying");
            link.detach();
            link.state = LinkState::Connecting;
            link.handshake_deadline = None;
            schedule_redial(link, now);
            return;
        }
        let reason = if link.peer_closed
            && matches!(reason, LinkError::Socket(_) | LinkError::PeerVanished)
        {
            LinkError::Closed
        } else {
            reason
        };
        self.end_link(peer, reason);
    }

    /// The connection under a link that can resume broke: drop it and get a
    /// new one (dial again, or wait to be dialled). Operations wait; the
    /// peer timeout bounds how long.
    fn begin_reconnect(&mut self, peer: Rank, reason: LinkError, now: Instant) {
        self.suspend_connection(peer);
        let Some(link) = self.link_mut(peer) else {
            return;
        };
        link.state = LinkState::Connecting;
        link.handshake_deadline = None;
        link.lingering = false;
        if link.dials {
            link.dial_backoff_us = 0;
            link.next_dial = now;
        }
        log::warn!("connection to {peer} broke ({reason}); reconnecting to resume the link");
        self.push_event(Event::LinkInterrupted { peer, reason });
    }

    /// A reconnection was refused: nothing listens at the peer's address any
    /// more, so the peer process is gone.
    fn peer_gone(&mut self, peer: Rank) {
        log::warn!("{peer} refused the reconnection: nobody listens there any more");
        self.end_link(peer, LinkError::PeerVanished);
    }

    /// Drops a link's connection, keeping everything needed to resume it:
    /// the bytes of a frame that had only partly arrived are taken back
    /// (its sender writes it again whole).
    fn suspend_connection(&mut self, peer: Rank) {
        let Self { links, matcher, .. } = self;
        let Some(link) = links[peer.index()].as_mut() else {
            return;
        };
        link.detach();
        link.peer_resume_seq = None;
        if link.forget_partial_frame() > 0 {
            if let Some(Inbound {
                sink: Sink::Unexpected(key),
                received,
                ..
            }) = link.inbound
            {
                if let Some(u) = matcher.unexpected_mut(key) {
                    u.data.truncate(received as usize);
                }
            }
        }
    }

    /// Ends the link to `peer` for good, failing every operation that needed it.
    fn end_link(&mut self, peer: Rank, reason: LinkError) {
        let Self {
            links,
            requests,
            matcher,
            ..
        } = self;
        let Some(link) = links[peer.index()].as_mut() else {
            return;
        };
        if matches!(link.state, LinkState::Closed | LinkState::Failed(_)) {
            return;
        }
        link.detach();
        let error = Error::Link { peer, reason };
        for item in link.tx.drain(..) {
            if let OutItem::Data { id, buf, .. } = item {
                requests.complete_send(id, buf, Err(error));
            }
        }
        if let Some(inbound) = link.inbound.take() {
            match inbound.sink {
                Sink::Request { id, .. } => requests.complete_recv(id, Err(error)),
                Sink::Unexpected(key) => {
                    if let Some(id) = matcher.abandon(key) {
                        requests.complete_recv(id, Err(error));
                    }
                }
            }
        }
        let event = if reason == LinkError::Closed {
            link.state = LinkState::Closed;
            log::info!("link to {peer} closed");
            Event::LinkClosed(peer)
        } else {
            link.state = LinkState::Failed(reason);
            log::error!("link to {peer} failed: {reason}");
            Event::LinkFailed { peer, reason }
        };
        self.push_event(event);
        self.fail_unreachable_receives();
    }

    /// Can a message from `peer` still arrive?
    fn can_receive_from(&self, peer: Rank) -> bool {
        self.link(peer).is_some_and(|l| {
            !l.peer_closed && !matches!(l.state, LinkState::Closed | LinkState::Failed(_))
        })
    }

    /// Fails posted receives that no live link can satisfy any more.
    fn fail_unreachable_receives(&mut self) {
        let mut any_alive = false;
        for peer in self.config.rank.others() {
            if self.can_receive_from(peer) {
                any_alive = true;
                continue;
            }
            let reason = match self.link(peer).map(|l| l.state) {
                Some(LinkState::Failed(r)) => r,
                _ => LinkError::Closed,
            };
            for id in self.matcher.drain_posted_from(peer) {
                self.requests
                    .complete_recv(id, Err(Error::Link { peer, reason }));
            }
        }
        if !any_alive && self.matcher.posted_len() > 0 {
            let (peer, reason) = self
                .failure()
                .unwrap_or((self.config.rank.succ(), LinkError::Closed));
            for id in self.matcher.drain_all_posted() {
                self.requests
                    .complete_recv(id, Err(Error::Link { peer, reason }));
            }
        }
    }
}

/// Reads ciphertext and opens every complete record into the staging buffer.
/// `None` when nothing moved.
fn read_sealed<S: Socket, Tx: AsRef<[u8]>>(
    link: &mut Link<S, Tx>,
) -> Result<Option<usize>, LinkError> {
    if let Some(failure) = link.rx_failure.take() {
        return Err(failure);
    }
    let mut moved = open_records(link)?;
    let room = link.sealed_in.len() - link.sealed_in_end;
    if link.sealed_in_start > 0 && room < RECORD_PREFIX + secure::MAX_RECORD {
        link.sealed_in
            .copy_within(link.sealed_in_start..link.sealed_in_end, 0);
        link.sealed_in_end -= link.sealed_in_start;
        link.sealed_in_start = 0;
    }
    let Link {
        socket,
        sealed_in,
        sealed_in_end,
        ..
    } = &mut *link;
    let Some(socket) = socket.as_mut() else {
        return Ok(None);
    };
    match socket.read_vectored(&mut [&mut sealed_in[*sealed_in_end..]]) {
        Ok(0) => return Err(link.eof_error()),
        Ok(n) => {
            *sealed_in_end += n;
            link.stats.bytes_received += n as u64;
            moved += n + open_records(link)?;
        }
        Err(SocketError::WouldBlock) => {}
        Err(e) => return Err(LinkError::Socket(e)),
    }
    Ok((moved > 0).then_some(moved))
}

/// Opens the complete records at the front of the sealed input, while the
/// staging buffer has room for their plaintext.
fn open_records<S: Socket, Tx: AsRef<[u8]>>(link: &mut Link<S, Tx>) -> Result<usize, LinkError> {
    let mut opened = 0;
    while link.rx_failure.is_none() {
        let (at, end) = (link.sealed_in_start, link.sealed_in_end);
        if end - at < RECORD_PREFIX {
            break;
        }
        let len = usize::from(u16::from_be_bytes([
            link.sealed_in[at],
            link.sealed_in[at + 1],
        ]));
        if end - at < RECORD_PREFIX + len {
            break;
        }
        link.compact_staging();
        if link.rx_staging.len() - link.rx_end < len.saturating_sub(TAG_LEN) {
            break;
        }
        let Link {
            channel,
            sealed_in,
            rx_staging,
            rx_end,
            ..
        } = &mut *link;
        let Some(channel) = channel.as_mut() else {
            break;
        };
        let record = &sealed_in[at + RECORD_PREFIX..at + RECORD_PREFIX + len];
        let n = match channel.open(record, &mut rx_staging[*rx_end..]) {
            Ok(n) => n,
            // Records opened before this one are genuine: let the parser
            // deliver them, and fail the link on the next read.
            Err(_) if opened > 0 => {
                link.rx_failure = Some(LinkError::RecordRejected);
                break;
            }
            Err(_) => return Err(LinkError::RecordRejected),
        };
        *rx_end += n;
        link.sealed_in_start += RECORD_PREFIX + len;
        opened += n;
    }
    if link.sealed_in_start == link.sealed_in_end {
        link.sealed_in_start = 0;
        link.sealed_in_end = 0;
    }
    Ok(opened)
}

/// The error for a peer silent for `timeout`.
fn peer_silent(timeout: Duration) -> LinkError {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    LinkError::PeerSilent { timeout_ms }
}

/// Backs off exponentially between connection attempts.
fn schedule_redial<S: Socket, Tx: AsRef<[u8]>>(link: &mut Link<S, Tx>, now: Instant) {
    link.dial_backoff_us =
        (link.dial_backoff_us * 2).clamp(DIAL_BACKOFF_MIN_US, DIAL_BACKOFF_MAX_US);
    link.next_dial = now + Duration::from_micros(link.dial_backoff_us);
}

/// Copies payload bytes from the staging buffer to where the message goes.
fn deliver<Tx, Rx: AsMut<[u8]>>(
    inbound: &mut Inbound,
    src: &[u8],
    requests: &mut Requests<Tx, Rx>,
    matcher: &mut Matcher,
) {
    let at = inbound.received as usize;
    match inbound.sink {
        Sink::Request { id, capacity } => {
            if let Some(recv) = requests.recv_mut(id) {
                let buf = recv.buf.as_mut();
                let end = capacity.min(buf.len()).min(at.saturating_add(src.len()));
                if at < end {
                    buf[at..end].copy_from_slice(&src[..end - at]);
                }
            }
        }
        Sink::Unexpected(key) => {
            if let Some(u) = matcher.unexpected_mut(key) {
                u.data.extend_from_slice(src);
            }
        }
    }
    inbound.received += src.len() as u64;
}

/// The destination memory for the next (at most `max`) payload bytes, for a
/// read straight from the socket.
fn payload_region<'a, Tx, Rx: AsMut<[u8]>>(
    inbound: Inbound,
    max: usize,
    requests: &'a mut Requests<Tx, Rx>,
    matcher: &'a mut Matcher,
    discard: &'a mut [u8],
) -> &'a mut [u8] {
    let at = inbound.received as usize;
    match inbound.sink {
        Sink::Request { id, capacity } => {
            if let Some(recv) = requests.recv_mut(id) {
                let buf = recv.buf.as_mut();
                let end = capacity.min(buf.len()).min(at.saturating_add(max));
                if at < end {
                    return &mut buf[at..end];
                }
            }
        }
        Sink::Unexpected(key) => {
            if let Some(u) = matcher.unexpected_mut(key) {
                u.data.resize(at + max, 0);
                return &mut u.data[at..];
            }
        }
    }
    let n = discard.len().min(max);
    &mut discard[..n]
}
