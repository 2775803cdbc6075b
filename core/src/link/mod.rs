//! One link: the connection to one peer, and everything that keeps it
//! going across connections.
//!
//! A link owns its state. The endpoint drives it through a few calls, as
//! smoltcp's interface drives a socket: [`Link::dial`] and
//! [`Link::take_connection`] give it a connection, [`Link::read_in`] and
//! [`Link::write_out`] move bytes, [`Link::on_timer`] applies the deadlines, and
//! [`Link::poll_at`] says when that must next happen. What the link needs
//! of the endpoint (the configuration, where messages go, the events) it
//! reaches through a [`Context`].
//!
//! - `tx.rs`: framing, sealing, keeping frames for replay;
//! - `rx.rs`: staging, opening records, parsing frames;
//! - `setup.rs`: hellos and the secure handshake;
//! - `policy.rs`: every retry, redial, silence, resume and lending rule.

mod policy;
mod rx;
mod setup;
mod tx;

pub(crate) use rx::{Deliver, Inbound, Sink};
pub(crate) use setup::check_hello;

use crate::endpoint::Context;
use crate::error::{Error, LinkError, Misbehaviour, TransportError};
use crate::matching::UnexpectedKey;
use crate::rank::Rank;
use crate::request::{RequestId, Requests, Status};
use crate::secure::{Channel, Handshake};
use crate::socket::Socket;
use crate::stats::LinkStats;
use crate::time::{Duration, Instant};
use crate::wire::{FrameKind, FrameRepr};
use rx::{Parsed, Read, Receive, RxPhase};
use tx::{OutItem, Transmit, TxIo, Written};

/// Socket reads per link per poll, so one busy link cannot starve the other.
const READS_PER_POLL: usize = 64;

/// Where a link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// No connection yet: dialling with backoff, or waiting to be dialled.
    Connecting,
    /// The first connection is open; hellos (and the secure handshake)
    /// are being exchanged.
    Handshaking,
    /// Messages flow both ways.
    Established,
    /// The connection broke after the link was established; a new one is
    /// being made (dialled or awaited, then handshaken), and the link will
    /// resume where it stopped. Operations on it wait meanwhile.
    Reconnecting,
    /// This party sent (or is sending) its close and waits for the peer's.
    Closing,
    /// Both closes have passed and every frame is acknowledged; this
    /// dialling side waits for the accepting side to end the connection,
    /// so that its own last acknowledgement cannot be lost to a reset.
    Lingering,
    /// Both sides closed in order.
    Closed,
    /// The link broke; the error says why.
    Failed(LinkError),
}

/// How a link stops: in order, or failed for a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Both sides closed in order.
    Closed,
    /// The link failed.
    Failed(LinkError),
}

impl Stop {
    /// What an operation that needed the link to `peer` fails with.
    fn error(self, peer: Rank) -> Error {
        match self {
            Stop::Closed => Error::LinkClosed { peer },
            Stop::Failed(reason) => Error::Link { peer, reason },
        }
    }
}

impl core::fmt::Display for Stop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Stop::Closed => f.write_str("the peer closed the link"),
            Stop::Failed(reason) => write!(f, "{reason}"),
        }
    }
}

macro_rules! stop_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Stop {
            fn from(e: $t) -> Self {
                Stop::Failed(e.into())
            }
        }
    )*};
}
stop_from!(
    LinkError,
    crate::wire::WireError,
    Misbehaviour,
    TransportError,
    crate::error::Incompatibility,
    crate::error::SecurityError,
    crate::error::HandshakeFailure,
    crate::secure::SecureError,
    crate::socket::SocketError
);

/// The link to one peer.
#[derive(Debug)]
pub(crate) struct Link<S, Tx> {
    peer: Rank,
    /// This side dials the peer (the other side accepts).
    dials: bool,
    state: LinkState,
    socket: Option<S>,
    stats: LinkStats,
    tx: Transmit<Tx>,
    rx: Receive,
    /// The link runs the secure channel (decided by configuration).
    secure: bool,
    handshake: Option<Handshake>,
    channel: Option<Channel>,

    next_dial: Instant,
    dial_backoff_us: u64,
    handshake_deadline: Option<Instant>,
    /// When the peer was last heard from (any bytes), for its liveness deadline.
    last_heard: Instant,
    /// When bytes last went out, for the heartbeat interval.
    last_sent: Instant,
    /// Since when the receive side has held a large message for its receive.
    held_since: Option<Instant>,
    /// Why the peer last refused our connection during set-up, if it did.
    setup_refused: Option<LinkError>,
    /// Where the peer's hello on the current connection asks us to resume.
    peer_resume_seq: Option<u64>,
    /// The path's round trip as the transport reported it when the last
    /// connection came up, kept across reconnections (for the policy's
    /// lending and unsent-bytes rules).
    round_trip: Option<Duration>,

    /// The link was established once: a new connection resumes it.
    ever_established: bool,
    /// The application asked to close: a resumed link goes back to closing.
    close_queued: bool,
    sent_close: bool,
    peer_closed: bool,
}

impl<S: Socket, Tx: AsRef<[u8]>> Link<S, Tx> {
    /// A link to `peer`. `resume_buffer` bytes of sent frames are kept for
    /// resume (at least one whole frame); 0 makes a link that cannot resume.
    pub fn new(
        peer: Rank,
        dials: bool,
        frame_payload: usize,
        secure: bool,
        resume_buffer: usize,
        now: Instant,
    ) -> Self {
        Link {
            peer,
            dials,
            state: LinkState::Connecting,
            socket: None,
            stats: LinkStats::default(),
            tx: Transmit::new(frame_payload, secure, resume_buffer),
            rx: Receive::new(),
            secure,
            handshake: None,
            channel: None,
            next_dial: now,
            dial_backoff_us: 0,
            handshake_deadline: None,
            last_heard: now,
            last_sent: now,
            held_since: None,
            setup_refused: None,
            peer_resume_seq: None,
            round_trip: None,
            ever_established: false,
            close_queued: false,
            sent_close: false,
            peer_closed: false,
        }
    }

    pub fn peer(&self) -> Rank {
        self.peer
    }

    pub fn state(&self) -> LinkState {
        self.state
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// The open connection, if there is one.
    pub fn socket(&self) -> Option<&S> {
        self.socket.as_ref()
    }

    /// Bytes are waiting to be written.
    pub fn wants_write(&self) -> bool {
        !self.tx.is_idle()
    }

    /// Bytes that arrive can be read: not while a message waits in the
    /// socket for its receive (posting one, or the hold's end, moves it on).
    pub fn wants_read(&self) -> bool {
        !self.rx.holding()
    }

    /// True unless the link has ended (closed or failed).
    pub fn is_live(&self) -> bool {
        !matches!(self.state, LinkState::Closed | LinkState::Failed(_))
    }

    /// A connection is being made or handshaken.
    fn setting_up(&self) -> bool {
        matches!(
            self.state,
            LinkState::Connecting | LinkState::Handshaking | LinkState::Reconnecting
        )
    }

    /// The link is up: frames (not only hellos) may flow.
    fn carrying(&self) -> bool {
        matches!(
            self.state,
            LinkState::Established | LinkState::Closing | LinkState::Lingering
        )
    }

    /// A connection is open but not yet up.
    fn handshaking(&self) -> bool {
        self.setting_up() && self.socket.is_some()
    }

    /// True while queued bytes or link set-up need driving.
    pub fn has_work(&self) -> bool {
        self.wants_write() || self.setting_up()
    }

    /// Why the link failed, if it did.
    pub fn failure(&self) -> Option<LinkError> {
        match self.state {
            LinkState::Failed(reason) => Some(reason),
            _ => None,
        }
    }

    /// May messages still be queued? Not once the link is closing or has ended.
    pub fn accepts_sends(&self) -> Result<(), Error> {
        let stop = match self.state {
            LinkState::Failed(reason) => Stop::Failed(reason),
            LinkState::Closing | LinkState::Lingering | LinkState::Closed => Stop::Closed,
            _ => return Ok(()),
        };
        Err(stop.error(self.peer))
    }

    /// What an operation that needs the link fails with once it has ended
    /// (`None` while it is live).
    pub fn end_error(&self) -> Option<Error> {
        match self.state {
            LinkState::Failed(reason) => Some(Stop::Failed(reason).error(self.peer)),
            LinkState::Closed => Some(Stop::Closed.error(self.peer)),
            _ if self.peer_closed => Some(Stop::Closed.error(self.peer)),
            _ => None,
        }
    }

    /// Queues a message (once [`Link::accepts_sends`] said it may), to be
    /// lent or copied for replay as `policy::lends` decides.
    pub fn send(&mut self, id: RequestId, tag: u32, buf: Tx) {
        let lent = self.tx.can_resume() && policy::lends(buf.as_ref().len(), self.round_trip);
        self.tx.push(OutItem::Data { id, tag, buf, lent });
    }

    /// Starts an orderly close: queued sends go out, then the close frame.
    pub fn close<Rx: AsMut<[u8]>>(&mut self, ctx: &mut Context<'_, S::Addr, Tx, Rx>) {
        match self.state {
            LinkState::Established => {
                self.tx.push(OutItem::Close { reason: 0 });
                self.close_queued = true;
                self.state = LinkState::Closing;
            }
            // The close goes out once the link resumes.
            LinkState::Reconnecting => {
                self.tx.push(OutItem::Close { reason: 0 });
                self.close_queued = true;
            }
            LinkState::Connecting | LinkState::Handshaking => self.end(Stop::Closed, ctx),
            LinkState::Closing
            | LinkState::Lingering
            | LinkState::Closed
            | LinkState::Failed(_) => {}
        }
    }

    /// Queues an abort frame carrying `code` ahead of queued messages, if
    /// the link is up.
    pub fn abort(&mut self, code: i32) {
        if self.socket.is_some() && self.carrying() {
            self.tx.push_urgent(OutItem::Abort { code });
        }
    }

    /// True if an abort frame queued on an open connection has not yet
    /// reached the socket.
    pub fn abort_pending(&self) -> bool {
        self.socket.is_some() && self.tx.abort_pending()
    }

    /// Sends the rest of the message filling unexpected entry `key` to
    /// receive `id` instead; false if this link is not filling it.
    pub fn redirect(&mut self, key: UnexpectedKey, id: RequestId, capacity: usize) -> bool {
        self.rx.redirect(key, Sink::Request { id, capacity })
    }

    /// True if this link is filling unexpected entry `key`.
    pub fn fills(&self, key: UnexpectedKey) -> bool {
        self.rx.fills(key)
    }

    /// Reads what the connection holds now. True if anything moved.
    ///
    /// The endpoint reads every link before it judges their timers, so
    /// that a party which was itself held up (descheduled, or busy in a
    /// long computation) counts what its peers sent meanwhile before it
    /// calls one of them silent.
    pub fn read_in<Rx: AsMut<[u8]>>(
        &mut self,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> bool {
        if self.socket.is_none() {
            return false;
        }
        self.rx.set_may_hold(self.may_hold(now));
        let received = self.receive(ctx);
        self.held_since = match self.rx.holding() {
            true => self.held_since.or(Some(now)),
            false => None,
        };
        match received {
            Ok(progressed) => {
                if progressed {
                    self.last_heard = now;
                }
                progressed
            }
            Err(e) => {
                self.on_error(e, now, ctx);
                true
            }
        }
    }

    /// Writes what the connection takes now. True if anything moved.
    pub fn write_out<Rx: AsMut<[u8]>>(
        &mut self,
        now: Instant,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> bool {
        if self.socket.is_none() {
            return false;
        }
        let mut progressed = false;
        let mut close_out = false;
        let peer = self.peer;
        let frames_allowed = self.carrying();
        let io = TxIo {
            socket: &mut self.socket,
            channel: self.channel.as_mut(),
            frames_allowed,
            frames_received: self.rx.frames_received(),
            stats: &mut self.stats,
        };
        let requests = &mut *ctx.requests;
        let flushed = self.tx.flush(io, |w| match w {
            Written::Close => close_out = true,
            Written::Abort => {}
            data @ Written::Data { .. } => complete_send(requests, peer, data),
        });
        match flushed {
            Ok(true) => {
                self.last_sent = now;
                progressed = true;
            }
            Ok(false) => {}
            Err(e) => {
                self.on_error(e.into(), now, ctx);
                return true;
            }
        }
        self.sent_close |= close_out;
        if self.state == LinkState::Closing && self.close_complete() {
            if self.dials && self.tx.can_resume() {
                // The accepting side ends the connection first. Were the
                // dialler to, a reset could swallow its last acknowledgement,
                // and the acceptor cannot dial to ask again. The lingering
                // dialler ends on the acceptor's end-of-stream, reconnects if
                // the connection breaks, or gives up when the link stalls.
                self.state = LinkState::Lingering;
            } else {
                self.end(Stop::Closed, ctx);
            }
        }
        progressed
    }

    /// Reads what the socket has, parsing and delivering as it goes.
    fn receive<Rx: AsMut<[u8]>>(
        &mut self,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<bool, Stop> {
        let mut progressed = false;
        for _ in 0..READS_PER_POLL {
            self.consume(ctx)?;
            let Some(socket) = self.socket.as_mut() else {
                return Ok(progressed);
            };
            match self
                .rx
                .read(socket, self.channel.as_mut(), ctx, &mut self.stats)?
            {
                Read::Moved => progressed = true,
                Read::Nothing => break,
                Read::End => return Err(self.eof_error()),
            }
        }
        self.consume(ctx)?;
        Ok(progressed)
    }

    /// Acts on everything complete in the staged bytes.
    fn consume<Rx: AsMut<[u8]>>(
        &mut self,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<(), Stop> {
        while let Some(parsed) = self.rx.next(self.peer, ctx)? {
            match parsed {
                Parsed::Hello(bytes) => self.on_hello(&bytes, ctx)?,
                Parsed::Handshake(message) => self.on_handshake_message(&message, ctx)?,
                Parsed::Frame(repr) => self.on_frame(repr, ctx)?,
                Parsed::MessageDone(inbound) => {
                    self.stats.messages_received += 1;
                    self.tx.message_received(inbound.len);
                    ctx.finish(self.peer, inbound);
                }
            }
        }
        Ok(())
    }

    /// A frame header arrived on a link that is up.
    fn on_frame<Rx: AsMut<[u8]>>(
        &mut self,
        repr: FrameRepr,
        ctx: &mut Context<'_, S::Addr, Tx, Rx>,
    ) -> Result<(), Stop> {
        if repr.kind == FrameKind::Heartbeat {
            // Unnumbered, and allowed between any two frames. It may not
            // acknowledge frames never sent, nor take an acknowledgement back.
            if repr.seq != 0 {
                return Err(Misbehaviour::NumberedHeartbeat.into());
            }
            let (peer, requests) = (self.peer, &mut *ctx.requests);
            return self
                .tx
                .take_ack(repr.aux, |lent| complete_send(requests, peer, lent))
                .map_err(|_| Misbehaviour::AckOutOfRange { acked: repr.aux }.into());
        }
        self.rx.number_frame(&repr)?;
        self.tx
            .count_received(crate::wire::FRAME_HEADER_LEN + repr.len as usize);
        if self.peer_closed {
            return Err(Misbehaviour::FrameAfterClose.into());
        }
        match repr.kind {
            FrameKind::Data => self.rx.begin_data(self.peer, &repr, ctx)?,
            FrameKind::Abort => {
                return Err(LinkError::PeerAborted {
                    code: repr.aux as i64 as i32,
                }
                .into());
            }
            FrameKind::Heartbeat => {}
            FrameKind::Close => {
                if self.rx.inbound().is_some() {
                    return Err(Misbehaviour::CloseMidMessage.into());
                }
                self.peer_closed = true;
                // The peer may only finish once it knows its close arrived.
                if self.tx.can_resume() {
                    self.tx.request_ack();
                }
                log::info!("{} closed its side of the link", self.peer);
                ctx.recheck_receives = true;
            }
        }
        Ok(())
    }

    /// Nothing is left to deliver either way: the peer has closed (its
    /// close is the last frame it sends) and has acknowledged every frame
    /// we sent. A connection that ends now ends the link in order.
    fn nothing_in_flight(&self) -> bool {
        self.peer_closed && self.tx.all_acknowledged()
    }

    /// What the connection ending means: the end of the link if nothing is
    /// in flight, else a break.
    fn eof_error(&self) -> Stop {
        if self.nothing_in_flight() {
            Stop::Closed
        } else {
            TransportError::PeerVanished.into()
        }
    }

    /// True once this side's close has been written and, on a link that can
    /// resume, every frame it sent has been acknowledged and its own
    /// acknowledgement of everything received has gone out: nothing a
    /// broken connection could still lose.
    fn close_complete(&self) -> bool {
        if !(self.sent_close && self.peer_closed) {
            return false;
        }
        !self.tx.can_resume()
            || (self.tx.all_acknowledged()
                && self.tx.is_idle()
                && self.tx.acks_sent() >= self.rx.frames_received())
    }

    /// Puts a fresh connection on the link, with our hello first in line.
    fn attach(&mut self, socket: S, hello: &[u8], rx_phase: RxPhase, now: Instant) {
        self.socket = Some(socket);
        // A resumed link keeps its clock: reconnecting is no sign of life.
        if !self.ever_established {
            self.last_heard = now;
        }
        self.last_sent = now;
        self.held_since = None;
        self.rx.attach(rx_phase);
        self.tx.attach(hello);
    }

    /// Drops the connection; hellos and handshake messages still queued,
    /// and any handshake or channel state, go with it.
    fn detach(&mut self) {
        if let Some(mut s) = self.socket.take() {
            s.close();
        }
        self.tx.detach();
        self.rx.detach();
        self.handshake = None;
        self.channel = None;
    }

    /// Drops the connection, keeping everything needed to resume the link:
    /// the bytes of a frame that had only partly arrived are taken back
    /// (its sender writes it again whole).
    fn suspend_connection(&mut self, deliver: &mut impl Deliver) {
        self.detach();
        self.peer_resume_seq = None;
        self.rx.forget_partial_frame(deliver);
    }

    /// Ends the link for good, failing every operation that needed it.
    fn end<Rx: AsMut<[u8]>>(&mut self, stop: Stop, ctx: &mut Context<'_, S::Addr, Tx, Rx>) {
        if !self.is_live() {
            return;
        }
        self.detach();
        let peer = self.peer;
        let error = stop.error(peer);
        for item in self.tx.drain() {
            if let OutItem::Data { id, buf, .. } = item {
                ctx.requests.complete_send(id, buf, Err(error));
            }
        }
        if let Some(inbound) = self.rx.take_inbound() {
            ctx.abandon(inbound.sink, error);
        }
        let event = match stop {
            Stop::Closed => {
                self.state = LinkState::Closed;
                log::info!("link to {peer} closed");
                crate::Event::LinkClosed(peer)
            }
            Stop::Failed(reason) => {
                self.state = LinkState::Failed(reason);
                log::error!("link to {peer} failed: {reason}");
                crate::Event::LinkFailed { peer, reason }
            }
        };
        ctx.events.push(event);
        ctx.recheck_receives = true;
    }
}

/// Completes the send of a message written in full (or, if it was lent,
/// acknowledged in full).
fn complete_send<Tx, Rx>(requests: &mut Requests<Tx, Rx>, peer: Rank, written: Written<Tx>) {
    if let Written::Data { id, tag, buf, len } = written {
        requests.complete_send(id, buf, Ok(Status { peer, tag, len }));
    }
}
