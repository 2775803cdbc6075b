//! One link: the state machine and byte queues for the connection to one peer.
//!
//! The transmit side keeps a queue of items (messages, a close, an abort;
//! the hello and handshake messages go first, from their own buffer) and
//! turns its front into frames lazily, so a message's bytes are written
//! straight from the application's buffer, several frames per vectored write.
//! Sequence numbers are derived from the queue rather than stored per item,
//! which keeps the queue a plain FIFO.
//!
//! On a link that can resume, every numbered frame is copied into the replay
//! buffer as it is handed to the socket (or sealed), and written again from
//! there after a reconnect. Acknowledgements are unnumbered heartbeat frames
//! that may go between any two frames, even inside a message, so that two
//! parties sending each other long messages never wait on each other's
//! acknowledgements.

use crate::error::LinkError;
use crate::matching::UnexpectedKey;
use crate::rank::Rank;
use crate::replay::ReplayBuffer;
use crate::request::RequestId;
use crate::secure::{Channel, Handshake, MAX_RECORD, RECORD_PREFIX};
use crate::socket::{Socket, SocketError};
use crate::stats::LinkStats;
use crate::time::Instant;
use crate::wire::{FrameKind, FrameRepr, FRAME_HEADER_LEN, HELLO_LEN};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

/// Frames gathered into one vectored write at most.
const MAX_GATHER_FRAMES: usize = 32;

/// Bytes of socket data buffered ahead of parsing (at least one record's plaintext).
pub(crate) const STAGING_LEN: usize = 128 * 1024;
/// Ciphertext buffered ahead of opening: two whole records.
const SEALED_IN_LEN: usize = 2 * (RECORD_PREFIX + MAX_RECORD);
/// Sealed bytes prepared per batch before writing.
const SEAL_BATCH: usize = 256 * 1024;

/// Where a link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// No connection yet: dialling with backoff, or waiting to be dialled.
    Connecting,
    /// Connected; hellos are being exchanged.
    Handshaking,
    /// Messages flow both ways.
    Established,
    /// This party sent (or is sending) its close and waits for the peer's.
    Closing,
    /// Both sides closed in order.
    Closed,
    /// The link broke; the error says why.
    Failed(LinkError),
}

/// A frame (or the frames of a message) waiting to be written on a link.
#[derive(Debug)]
pub(crate) enum OutItem<Tx> {
    Data { id: RequestId, tag: u32, buf: Tx },
    Close { reason: u64 },
    Abort { code: i32 },
}

/// An item that has been written in full.
pub(crate) enum Written<Tx> {
    Data {
        id: RequestId,
        tag: u32,
        buf: Tx,
        len: u64,
    },
    Close,
    Abort,
}

/// The message currently arriving on a link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inbound {
    pub tag: u32,
    pub len: u64,
    pub received: u64,
    pub sink: Sink,
}

/// Where an arriving message's bytes go.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sink {
    /// A posted receive, whose buffer holds `capacity` bytes.
    Request { id: RequestId, capacity: usize },
    /// The unexpected queue.
    Unexpected(UnexpectedKey),
}

/// What the receive side expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RxPhase {
    Hello,
    /// A length-prefixed Noise handshake message.
    Handshake,
    Header,
    Payload {
        frame_left: usize,
    },
}

/// The link to one peer.
#[derive(Debug)]
pub(crate) struct Link<S, Tx> {
    pub peer: Rank,
    pub state: LinkState,
    pub socket: Option<S>,
    /// This side dials the peer (the other side accepts).
    pub dials: bool,
    pub next_dial: Instant,
    pub dial_backoff_us: u64,
    pub handshake_deadline: Option<Instant>,
    /// Why the peer last refused our connection during set-up, if it did.
    pub setup_refused: Option<LinkError>,
    pub sent_close: bool,
    pub peer_closed: bool,
    pub stats: LinkStats,
    /// When the peer was last heard from (any bytes), for its liveness deadline.
    pub last_heard: Instant,
    /// When bytes last went out, for the heartbeat interval.
    pub last_sent: Instant,
    /// The link was established before, so a new connection resumes it.
    pub ever_established: bool,
    /// The application asked to close: a resumed link goes back to closing.
    pub close_queued: bool,
    /// Where the peer's hello on the current connection asks us to resume.
    pub peer_resume_seq: Option<u64>,
    /// This dialling side has finished its close and waits for the accepting
    /// side to end the connection (see `Endpoint::drive_link`).
    pub lingering: bool,

    /// Sent frames kept until acknowledged; `None` when the link cannot resume.
    pub replay: Option<ReplayBuffer>,
    /// An acknowledgement should go out at the next frame boundary.
    pub ack_due: bool,
    /// The acknowledgement last handed to the socket (or sealed).
    pub acks_sent: u64,
    /// The highest acknowledgement the peer has sent.
    pub acked_by_peer: u64,
    /// Frame bytes received since the last acknowledgement went out.
    pub rx_since_ack: usize,
    /// Received frame bytes after which an acknowledgement is due.
    ack_every: usize,
    /// A plaintext acknowledgement being written, and how much of it is out.
    ack_out: [u8; FRAME_HEADER_LEN],
    ack_out_pos: usize,

    /// The hello and handshake messages of the current connection, written
    /// as they are before any frame; kept apart from the frame queue so a
    /// new connection leaves a half-sent message's progress alone.
    raw_out: Vec<u8>,
    raw_out_pos: usize,
    pub tx: VecDeque<OutItem<Tx>>,
    tx_head_sent: usize,
    /// Frames of the head item handed over in full (and kept for replay).
    tx_head_frames_done: u64,
    tx_next_seq: u64,
    frame_payload: usize,
    header_scratch: [[u8; FRAME_HEADER_LEN]; MAX_GATHER_FRAMES],

    pub rx_staging: Vec<u8>,
    pub rx_start: usize,
    pub rx_end: usize,
    pub rx_phase: RxPhase,
    pub rx_next_seq: u64,
    /// Payload length of the frame being received, to undo a partial frame.
    pub rx_frame_len: usize,
    pub inbound: Option<Inbound>,

    /// The link runs the secure channel (decided by configuration).
    pub secure: bool,
    pub handshake: Option<Handshake>,
    pub channel: Option<Channel>,
    sealed_out: Vec<u8>,
    sealed_out_pos: usize,
    plain_scratch: Vec<u8>,
    pub sealed_in: Vec<u8>,
    pub sealed_in_start: usize,
    pub sealed_in_end: usize,
    /// A failure found behind records still to be delivered.
    pub rx_failure: Option<LinkError>,
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
        let frame_payload = frame_payload.max(1);
        let replay_capacity = resume_buffer.max(FRAME_HEADER_LEN + frame_payload);
        Link {
            peer,
            state: LinkState::Connecting,
            socket: None,
            dials,
            next_dial: now,
            dial_backoff_us: 0,
            handshake_deadline: None,
            setup_refused: None,
            sent_close: false,
            peer_closed: false,
            stats: LinkStats::default(),
            last_heard: now,
            last_sent: now,
            ever_established: false,
            close_queued: false,
            peer_resume_seq: None,
            lingering: false,
            replay: (resume_buffer > 0).then(|| ReplayBuffer::new(replay_capacity)),
            ack_due: false,
            acks_sent: 0,
            acked_by_peer: 0,
            rx_since_ack: 0,
            ack_every: (replay_capacity / 4).max(1),
            ack_out: [0; FRAME_HEADER_LEN],
            ack_out_pos: FRAME_HEADER_LEN,
            raw_out: Vec::new(),
            raw_out_pos: 0,
            tx: VecDeque::new(),
            tx_head_sent: 0,
            tx_head_frames_done: 0,
            tx_next_seq: 0,
            frame_payload,
            header_scratch: [[0; FRAME_HEADER_LEN]; MAX_GATHER_FRAMES],
            rx_staging: Vec::new(),
            rx_start: 0,
            rx_end: 0,
            rx_phase: RxPhase::Hello,
            rx_next_seq: 0,
            rx_frame_len: 0,
            inbound: None,
            secure,
            handshake: None,
            channel: None,
            sealed_out: Vec::new(),
            sealed_out_pos: 0,
            plain_scratch: Vec::new(),
            sealed_in: Vec::new(),
            sealed_in_start: 0,
            sealed_in_end: 0,
            rx_failure: None,
        }
    }

    /// Puts a fresh connection on the link, with our hello first in line.
    pub fn attach(&mut self, socket: S, hello: [u8; HELLO_LEN], rx_phase: RxPhase, now: Instant) {
        self.socket = Some(socket);
        // A resumed link keeps its clock: reconnecting is no sign of life.
        if !self.ever_established {
            self.last_heard = now;
        }
        self.last_sent = now;
        if self.rx_staging.is_empty() {
            self.rx_staging = vec![0; STAGING_LEN];
        }
        self.rx_start = 0;
        self.rx_end = 0;
        self.rx_phase = rx_phase;
        self.raw_out.clear();
        self.raw_out.extend_from_slice(&hello);
        self.raw_out_pos = 0;
    }

    /// Drops the connection; hellos and handshake messages still queued,
    /// and any handshake or channel state, go with it. A frame half written
    /// will be written again from its start on the next connection (frames
    /// written in full are in the replay buffer).
    pub fn detach(&mut self) {
        if let Some(mut s) = self.socket.take() {
            s.close();
        }
        self.raw_out.clear();
        self.raw_out_pos = 0;
        self.tx_head_sent =
            self.tx_head_frames_done as usize * (FRAME_HEADER_LEN + self.frame_payload);
        self.ack_out_pos = FRAME_HEADER_LEN;
        self.ack_due = false;
        self.handshake = None;
        self.channel = None;
        self.sealed_out.clear();
        self.sealed_out_pos = 0;
        self.sealed_in_start = 0;
        self.sealed_in_end = 0;
        self.rx_failure = None;
    }

    /// Queues a raw message (a handshake message) behind the hello, ahead
    /// of any frame.
    pub fn queue_raw(&mut self, message: &[u8]) {
        self.raw_out.extend_from_slice(message);
    }

    /// Switches to the established channel; raw bytes that arrived behind
    /// the last handshake message are records and move to the sealed input.
    pub fn start_channel(&mut self, channel: Channel) {
        self.channel = Some(channel);
        self.handshake = None;
        if self.sealed_in.is_empty() {
            self.sealed_in = vec![0; SEALED_IN_LEN];
        }
        let leftover = self.rx_end - self.rx_start;
        self.sealed_in[..leftover].copy_from_slice(&self.rx_staging[self.rx_start..self.rx_end]);
        self.sealed_in_start = 0;
        self.sealed_in_end = leftover;
        self.rx_start = 0;
        self.rx_end = 0;
        self.rx_phase = RxPhase::Header;
    }

    /// Are raw bytes (hello, handshake) still to be written? Frames wait for them.
    fn raw_pending(&self) -> bool {
        self.raw_out_pos < self.raw_out.len()
    }

    /// Queues `item` to go out next, after whatever item is half written.
    pub fn push_urgent(&mut self, item: OutItem<Tx>) {
        let at = usize::from(self.tx_head_sent > 0).min(self.tx.len());
        self.tx.insert(at, item);
    }

    /// True if an abort frame has not yet reached the socket: still queued,
    /// or (on a secure link) sealed into a record the socket has not taken
    /// in full. The abort is queued ahead of everything unsent, so any
    /// sealed bytes left are the abort's or must precede it.
    pub fn abort_pending(&self) -> bool {
        self.tx.iter().any(|i| matches!(i, OutItem::Abort { .. }))
            || self.sealed_out_pos < self.sealed_out.len()
    }

    /// True when nothing is queued for writing: no item, no frame to write
    /// again, no acknowledgement, and no sealed record waiting for room in
    /// the socket.
    pub fn tx_idle(&self) -> bool {
        self.tx.is_empty()
            && !self.raw_pending()
            && self.sealed_out_pos >= self.sealed_out.len()
            && self.ack_out_pos == FRAME_HEADER_LEN
            && self.replay_unsent() == 0
            && !self.ack_due
    }

    /// Bytes of kept frames still to be written again after a reconnect.
    fn replay_unsent(&self) -> usize {
        self.replay.as_ref().map_or(0, ReplayBuffer::unsent)
    }

    /// Frames received in full: what an acknowledgement or a resume point
    /// names. A frame whose payload is still arriving does not count, so it
    /// is sent again whole if the connection breaks.
    pub fn frames_received(&self) -> u64 {
        match self.rx_phase {
            RxPhase::Payload { frame_left } if frame_left > 0 => self.rx_next_seq - 1,
            _ => self.rx_next_seq,
        }
    }

    /// Forgets the part of a frame that had arrived when the connection
    /// broke: its sender writes it again whole. Returns how many payload
    /// bytes were taken back from the message being received.
    pub fn forget_partial_frame(&mut self) -> u64 {
        let RxPhase::Payload { frame_left } = self.rx_phase else {
            return 0;
        };
        self.rx_phase = RxPhase::Header;
        if frame_left == 0 {
            return 0;
        }
        self.rx_next_seq -= 1;
        let arrived = (self.rx_frame_len - frame_left) as u64;
        if let Some(inbound) = self.inbound.as_mut() {
            inbound.received -= arrived;
        }
        arrived
    }

    /// The peer has every frame below `acked`: stop keeping them.
    pub fn release_acked(&mut self, acked: u64) {
        self.acked_by_peer = self.acked_by_peer.max(acked);
        if let Some(replay) = self.replay.as_mut() {
            replay.release_below(acked);
        }
    }

    /// The frames this side can still send again, first and one past the
    /// last: a resuming peer must ask for one of them.
    pub fn resumable_range(&self) -> (u64, u64) {
        self.replay
            .as_ref()
            .map_or((0, 0), |r| (r.first_seq(), r.end_seq()))
    }

    /// Starts a resumed connection where the peer asked: frames from
    /// `resume_seq` on are written again before anything new. `Err` holds
    /// the range of frames this side can still send.
    pub fn resume_from(&mut self, resume_seq: u64) -> Result<(), (u64, u64)> {
        let Some(replay) = self.replay.as_mut() else {
            // A link that cannot resume only ever has one connection.
            return if resume_seq == 0 && self.tx_next_seq == 0 {
                Ok(())
            } else {
                Err((0, 0))
            };
        };
        let range = (replay.first_seq(), replay.end_seq());
        if resume_seq < self.acked_by_peer {
            return Err(range);
        }
        replay.rewind_to(resume_seq).map_err(|_| range)?;
        self.acked_by_peer = resume_seq;
        Ok(())
    }

    /// True unless the link has ended (closed or failed).
    pub fn is_live(&self) -> bool {
        !matches!(self.state, LinkState::Closed | LinkState::Failed(_))
    }

    /// Nothing is left to deliver either way: the peer has closed (its
    /// close is the last frame it sends) and has acknowledged every frame
    /// we sent. A connection that ends now ends the link in order.
    pub fn nothing_in_flight(&self) -> bool {
        self.peer_closed && self.replay.as_ref().is_none_or(ReplayBuffer::is_empty)
    }

    /// What the connection ending means: the end of the link if nothing is
    /// in flight, else a break.
    pub fn eof_error(&self) -> LinkError {
        if self.nothing_in_flight() {
            LinkError::Closed
        } else {
            LinkError::PeerVanished
        }
    }

    /// True once this side's close has been written and, on a link that can
    /// resume, every frame it sent has been acknowledged and its own
    /// acknowledgement of everything received has gone out: nothing a
    /// broken connection could still lose.
    pub fn close_complete(&self) -> bool {
        if !(self.sent_close && self.peer_closed) {
            return false;
        }
        match &self.replay {
            None => true,
            Some(replay) => {
                replay.is_empty() && self.tx_idle() && self.acks_sent >= self.frames_received()
            }
        }
    }

    /// May an acknowledgement or a kept frame be written now? Not before
    /// the handshake is done, nor in the middle of a frame.
    fn at_frame_boundary(&self) -> bool {
        if !self.may_send_frames() || self.raw_pending() || (self.secure && self.channel.is_none())
        {
            return false;
        }
        let full = FRAME_HEADER_LEN + self.frame_payload;
        self.tx_head_sent == 0
            || (matches!(self.tx.front(), Some(OutItem::Data { .. }))
                && self.tx_head_sent.is_multiple_of(full))
    }

    /// Queues an acknowledgement of every frame received in full: sealed
    /// into the outgoing records on a secure link, else into its own buffer.
    fn emit_ack(&mut self) {
        let acked = self.frames_received();
        let repr = FrameRepr {
            kind: FrameKind::Heartbeat,
            len: 0,
            seq: 0,
            tag: 0,
            aux: acked,
        };
        let mut header = [0u8; FRAME_HEADER_LEN];
        if repr.emit(&mut header).is_err() {
            return;
        }
        match self.channel.as_mut() {
            Some(channel) => {
                if channel.seal(&header, &mut self.sealed_out).is_err() {
                    return;
                }
            }
            None => {
                self.ack_out = header;
                self.ack_out_pos = 0;
            }
        }
        self.ack_due = false;
        self.acks_sent = acked;
        self.rx_since_ack = 0;
    }

    /// Counts `bytes` of a received frame; an acknowledgement falls due
    /// after a quarter of the replay buffer, so the peer's never fills while
    /// this side keeps reading.
    pub fn count_received(&mut self, bytes: usize) {
        if self.replay.is_none() {
            return;
        }
        self.rx_since_ack += bytes;
        if self.rx_since_ack >= self.ack_every {
            self.ack_due = true;
        }
    }

    /// May frames beyond the hello be written yet?
    fn may_send_frames(&self) -> bool {
        matches!(self.state, LinkState::Established | LinkState::Closing)
    }

    /// At most this many frames have been handed to the socket (or sealed):
    /// those of the items written in full, and all of the item being
    /// written. No honest peer acknowledges more.
    pub fn frames_sent(&self) -> u64 {
        let head = match self.tx.front() {
            Some(item) if self.tx_head_sent > 0 => self.frames_in(item),
            _ => 0,
        };
        self.tx_next_seq + head
    }

    fn frames_in(&self, item: &OutItem<Tx>) -> u64 {
        frames_in(item, self.frame_payload)
    }

    fn stream_len(&self, item: &OutItem<Tx>) -> usize {
        match item {
            OutItem::Data { buf, .. } => {
                self.frames_in(item) as usize * FRAME_HEADER_LEN + buf.as_ref().len()
            }
            OutItem::Close { .. } | OutItem::Abort { .. } => FRAME_HEADER_LEN,
        }
    }

    /// Writes as much of the queue as the socket takes, handing each item
    /// that went out in full to `written`. On a secure link, frames are
    /// sealed into records first; a send is complete once sealed (its bytes
    /// have been copied).
    pub fn flush(&mut self, mut written: impl FnMut(Written<Tx>)) -> Result<bool, SocketError> {
        let mut progressed = false;
        loop {
            if self.raw_pending() {
                let Some(n) = self.write_raw()? else {
                    return Ok(progressed);
                };
                progressed = true;
                self.stats.bytes_sent += n as u64;
                continue;
            }
            if self.sealed_out_pos < self.sealed_out.len() {
                let Some(n) = self.write_sealed()? else {
                    return Ok(progressed);
                };
                progressed = true;
                self.stats.bytes_sent += n as u64;
                continue;
            }
            if self.ack_out_pos < FRAME_HEADER_LEN {
                let Some(n) = self.write_ack()? else {
                    return Ok(progressed);
                };
                progressed = true;
                self.stats.bytes_sent += n as u64;
                continue;
            }
            if self.ack_due && self.at_frame_boundary() && self.replay_unsent() == 0 {
                self.emit_ack();
                continue;
            }
            if self.replay_unsent() > 0 && self.at_frame_boundary() {
                if self.channel.is_some() {
                    if !self.seal_replay() {
                        return Ok(progressed);
                    }
                    continue;
                }
                let Some(n) = self.write_replay()? else {
                    return Ok(progressed);
                };
                progressed = true;
                self.stats.bytes_sent += n as u64;
                continue;
            }
            if self.channel.is_some() && !self.raw_pending() {
                let consumed = self.seal_frames();
                if consumed == 0 {
                    return Ok(progressed);
                }
                self.advance(consumed, &mut written);
                continue;
            }
            let Some(n) = self.write_once()? else {
                return Ok(progressed);
            };
            progressed = true;
            self.stats.bytes_sent += n as u64;
            self.advance(n, &mut written);
        }
    }

    fn write_raw(&mut self) -> Result<Option<usize>, SocketError> {
        let n = write_some(&mut self.socket, &[&self.raw_out[self.raw_out_pos..]])?;
        if let Some(n) = n {
            self.raw_out_pos += n;
            if !self.raw_pending() {
                self.raw_out.clear();
                self.raw_out_pos = 0;
            }
        }
        Ok(n)
    }

    fn write_ack(&mut self) -> Result<Option<usize>, SocketError> {
        let n = write_some(&mut self.socket, &[&self.ack_out[self.ack_out_pos..]])?;
        self.ack_out_pos += n.unwrap_or(0);
        Ok(n)
    }

    /// Writes kept frames again after a reconnect, on a plaintext link.
    fn write_replay(&mut self) -> Result<Option<usize>, SocketError> {
        let Some(replay) = self.replay.as_mut() else {
            return Ok(None);
        };
        let (a, b) = replay.unsent_slices();
        let n = write_some(&mut self.socket, &[a, b])?;
        replay.mark_written(n.unwrap_or(0));
        Ok(n)
    }

    /// Seals kept frames again under a resumed secure link's new keys, up
    /// to a batch; false when nothing was sealed.
    fn seal_replay(&mut self) -> bool {
        let (Some(replay), Some(channel)) = (self.replay.as_mut(), self.channel.as_mut()) else {
            return false;
        };
        let mut sealed = false;
        while self.sealed_out.len() < SEAL_BATCH
            && replay.take_unsent_frame(&mut self.plain_scratch)
        {
            // Kept frames were sized for this link's records, so they fit.
            if channel
                .seal(&self.plain_scratch, &mut self.sealed_out)
                .is_err()
            {
                break;
            }
            sealed = true;
        }
        sealed
    }

    fn write_sealed(&mut self) -> Result<Option<usize>, SocketError> {
        let n = write_some(&mut self.socket, &[&self.sealed_out[self.sealed_out_pos..]])?;
        self.sealed_out_pos += n.unwrap_or(0);
        if self.sealed_out_pos == self.sealed_out.len() {
            self.sealed_out.clear();
            self.sealed_out_pos = 0;
        }
        Ok(n)
    }

    /// Seals whole frames from the front of the queue into records, up to a
    /// batch; returns the queue (stream) bytes they covered.
    fn seal_frames(&mut self) -> usize {
        let Some(channel) = self.channel.as_mut() else {
            return 0;
        };
        if !matches!(self.state, LinkState::Established | LinkState::Closing) {
            return 0;
        }
        let full = FRAME_HEADER_LEN + self.frame_payload;
        let mut consumed = 0;
        let mut seq = self.tx_next_seq;
        let mut header = [0u8; FRAME_HEADER_LEN];
        let mut room = self.replay.as_ref().map_or(usize::MAX, ReplayBuffer::room);
        'items: for (i, item) in self.tx.iter().enumerate() {
            let frames = frames_in(item, self.frame_payload);
            let first = if i == 0 {
                (self.tx_head_sent / full) as u64
            } else {
                0
            };
            let item_seq = seq;
            seq += frames;
            for frame in first..frames {
                let repr = frame_header(item, frame, item_seq + frame, self.frame_payload);
                if !take_room(&mut room, item, &repr) || repr.emit(&mut header).is_err() {
                    break 'items;
                }
                self.plain_scratch.clear();
                self.plain_scratch.extend_from_slice(&header);
                if let OutItem::Data { buf, .. } = item {
                    let data = buf.as_ref();
                    let start = (frame as usize * self.frame_payload).min(data.len());
                    self.plain_scratch
                        .extend_from_slice(&data[start..start + repr.len as usize]);
                }
                if channel
                    .seal(&self.plain_scratch, &mut self.sealed_out)
                    .is_err()
                {
                    break 'items;
                }
                consumed += self.plain_scratch.len();
                if self.sealed_out.len() >= SEAL_BATCH {
                    break 'items;
                }
            }
        }
        consumed
    }

    /// One vectored write; `None` when there is nothing to send or the socket is full.
    fn write_once(&mut self) -> Result<Option<usize>, SocketError> {
        // (item index, frame index within item, bytes of the frame already sent)
        let mut plan = [(0usize, 0u64, 0usize); MAX_GATHER_FRAMES];
        let mut planned = 0;
        let mut seq = self.tx_next_seq;
        let mut room = self.replay.as_ref().map_or(usize::MAX, ReplayBuffer::room);
        // An acknowledgement waits for the end of the frame being written.
        let most = if self.ack_due { 1 } else { MAX_GATHER_FRAMES };
        // Frames of a secure link are sealed, never written here; kept
        // frames to be written again go first.
        if self.secure || !self.may_send_frames() || self.replay_unsent() > 0 {
            return Ok(None);
        }
        'items: for (i, item) in self.tx.iter().enumerate() {
            let frames = self.frames_in(item);
            let (mut frame, mut skip) = (0u64, 0usize);
            if i == 0 {
                // Resume inside the head item: every frame but the last is full.
                let full = FRAME_HEADER_LEN + self.frame_payload;
                frame = ((self.tx_head_sent / full) as u64).min(frames.saturating_sub(1));
                skip = self.tx_head_sent - frame as usize * full;
            }
            let item_seq = seq;
            seq += frames;
            while frame < frames {
                let header = self.frame_header(item, frame, item_seq + frame);
                if !take_room(&mut room, item, &header)
                    || header.emit(&mut self.header_scratch[planned]).is_err()
                {
                    break 'items;
                }
                plan[planned] = (i, frame, skip);
                planned += 1;
                skip = 0;
                frame += 1;
                if planned == most {
                    break 'items;
                }
            }
        }
        if planned == 0 {
            return Ok(None);
        }

        let mut iov: [&[u8]; 2 * MAX_GATHER_FRAMES] = [&[]; 2 * MAX_GATHER_FRAMES];
        let mut n_iov = 0;
        for (slot, &(i, frame, skip)) in plan[..planned].iter().enumerate() {
            let (head, body): (&[u8], &[u8]) = match &self.tx[i] {
                OutItem::Data { buf, .. } => {
                    let data = buf.as_ref();
                    let start = (frame as usize * self.frame_payload).min(data.len());
                    let end = (start + self.frame_payload).min(data.len());
                    (&self.header_scratch[slot][..], &data[start..end])
                }
                OutItem::Close { .. } | OutItem::Abort { .. } => {
                    (&self.header_scratch[slot][..], &[])
                }
            };
            let (head, body) = if skip < head.len() {
                (&head[skip..], body)
            } else {
                (&[][..], &body[skip - head.len()..])
            };
            for part in [head, body] {
                if !part.is_empty() {
                    iov[n_iov] = part;
                    n_iov += 1;
                }
            }
        }
        write_some(&mut self.socket, &iov[..n_iov])
    }

    fn frame_header(&self, item: &OutItem<Tx>, frame: u64, seq: u64) -> FrameRepr {
        frame_header(item, frame, seq, self.frame_payload)
    }

    fn advance(&mut self, mut n: usize, written: &mut impl FnMut(Written<Tx>)) {
        let full = FRAME_HEADER_LEN + self.frame_payload;
        while n > 0 {
            let Some(head) = self.tx.front() else { return };
            let left = self.stream_len(head) - self.tx_head_sent;
            let frames = self.frames_in(head);
            if n < left {
                self.tx_head_sent += n;
                if matches!(head, OutItem::Data { .. }) {
                    self.keep_for_replay((self.tx_head_sent / full) as u64);
                }
                return;
            }
            n -= left;
            self.keep_for_replay(frames);
            self.tx_head_sent = 0;
            self.tx_head_frames_done = 0;
            self.tx_next_seq += frames;
            match self.tx.pop_front() {
                Some(OutItem::Data { id, tag, buf }) => {
                    self.stats.messages_sent += 1;
                    let len = buf.as_ref().len() as u64;
                    written(Written::Data { id, tag, buf, len })
                }
                Some(OutItem::Close { .. }) => written(Written::Close),
                Some(OutItem::Abort { .. }) => written(Written::Abort),
                None => return,
            }
        }
    }

    /// Copies the head item's frames handed over since the last call, up to
    /// frame `upto`, into the replay buffer (if the link keeps one).
    fn keep_for_replay(&mut self, upto: u64) {
        let Link {
            tx,
            replay,
            tx_head_frames_done,
            tx_next_seq,
            frame_payload,
            ..
        } = self;
        if let (Some(replay), Some(item)) = (replay.as_mut(), tx.front()) {
            let mut header = [0u8; FRAME_HEADER_LEN];
            for frame in *tx_head_frames_done..upto {
                let repr = frame_header(item, frame, *tx_next_seq + frame, *frame_payload);
                if repr.emit(&mut header).is_err() {
                    break;
                }
                let payload = match item {
                    OutItem::Data { buf, .. } => {
                        let start = frame as usize * *frame_payload;
                        &buf.as_ref()[start..start + repr.len as usize]
                    }
                    _ => &[],
                };
                replay.push(&[&header, payload]);
            }
        }
        *tx_head_frames_done = upto;
    }

    /// Bytes staged and not yet parsed.
    pub fn staged(&self) -> &[u8] {
        &self.rx_staging[self.rx_start..self.rx_end]
    }

    /// Moves staged bytes to the front when little room is left behind them.
    pub fn compact_staging(&mut self) {
        if self.rx_start == self.rx_end {
            self.rx_start = 0;
            self.rx_end = 0;
        } else if self.rx_start > 0 && self.rx_staging.len() - self.rx_end < FRAME_HEADER_LEN * 4 {
            self.rx_staging.copy_within(self.rx_start..self.rx_end, 0);
            self.rx_end -= self.rx_start;
            self.rx_start = 0;
        }
    }
}

/// One vectored write of `bufs`; `None` when there is no socket or it
/// takes nothing now.
fn write_some<S: Socket>(
    socket: &mut Option<S>,
    bufs: &[&[u8]],
) -> Result<Option<usize>, SocketError> {
    let Some(socket) = socket.as_mut() else {
        return Ok(None);
    };
    match socket.write_vectored(bufs) {
        Ok(0) | Err(SocketError::WouldBlock) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(e) => Err(e),
    }
}

/// Takes a frame's size from the replay buffer's `room`; false if a data
/// frame does not fit. Control frames (close, abort) always go.
fn take_room<Tx>(room: &mut usize, item: &OutItem<Tx>, header: &FrameRepr) -> bool {
    let size = FRAME_HEADER_LEN + header.len as usize;
    if matches!(item, OutItem::Data { .. }) && size > *room {
        return false;
    }
    *room = room.saturating_sub(size);
    true
}

/// Frames an item takes on the wire (raw messages take none).
fn frames_in<Tx: AsRef<[u8]>>(item: &OutItem<Tx>, frame_payload: usize) -> u64 {
    match item {
        OutItem::Data { buf, .. } => buf.as_ref().len().div_ceil(frame_payload).max(1) as u64,
        OutItem::Close { .. } | OutItem::Abort { .. } => 1,
    }
}

/// The header of frame `frame` of `item`, numbered `seq`.
fn frame_header<Tx: AsRef<[u8]>>(
    item: &OutItem<Tx>,
    frame: u64,
    seq: u64,
    frame_payload: usize,
) -> FrameRepr {
    let control = |kind, aux| FrameRepr {
        kind,
        len: 0,
        seq,
        tag: 0,
        aux,
    };
    match item {
        OutItem::Data { tag, buf, .. } => {
            let total = buf.as_ref().len();
            let start = (frame as usize * frame_payload).min(total);
            let len = (total - start).min(frame_payload);
            FrameRepr {
                kind: FrameKind::Data,
                len: len as u32,
                seq,
                tag: *tag,
                aux: total as u64,
            }
        }
        OutItem::Close { reason } => control(FrameKind::Close, *reason),
        OutItem::Abort { code } => control(FrameKind::Abort, i64::from(*code) as u64),
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::request::Requests;
    use crate::testing::MemSocket;

    fn link_with(frame_payload: usize) -> (Link<MemSocket, Vec<u8>>, MemSocket) {
        let (a, b) = MemSocket::pair(1 << 20);
        let mut link = Link::new(
            Rank::new(1).unwrap(),
            true,
            frame_payload,
            false,
            0,
            Instant::default(),
        );
        link.attach(a, [9; HELLO_LEN], RxPhase::Header, Instant::default());
        link.state = LinkState::Established;
        (link, b)
    }

    #[test]
    fn messages_are_split_into_sequenced_frames() {
        let (mut link, mut far) = link_with(4);
        let mut reqs: Requests<(), ()> = Requests::new();
        let id = reqs.insert_send();
        link.tx.push_back(OutItem::Data {
            id,
            tag: 3,
            buf: vec![1, 2, 3, 4, 5, 6],
        });
        let mut done = Vec::new();
        link.flush(|w| done.push(matches!(w, Written::Data { len: 6, .. })))
            .unwrap();
        assert_eq!(done, [true], "the message, once");

        let bytes = far.drain();
        assert_eq!(bytes.len(), HELLO_LEN + 2 * FRAME_HEADER_LEN + 6);
        let first = &bytes[HELLO_LEN..];
        let h0 =
            FrameRepr::parse(&crate::wire::FrameHeader::new_checked(first).unwrap(), 4).unwrap();
        assert_eq!((h0.seq, h0.len, h0.aux, h0.tag), (0, 4, 6, 3));
        let second = &first[FRAME_HEADER_LEN + 4..];
        let h1 =
            FrameRepr::parse(&crate::wire::FrameHeader::new_checked(second).unwrap(), 4).unwrap();
        assert_eq!((h1.seq, h1.len), (1, 2));
        assert_eq!(&second[FRAME_HEADER_LEN..], &[5, 6]);
    }

    #[test]
    fn partial_writes_resume_mid_frame() {
        let (mut link, mut far) = link_with(8);
        far.set_write_limit(Some(5));
        let mut reqs: Requests<(), ()> = Requests::new();
        for _ in 0..3 {
            let id = reqs.insert_send();
            link.tx.push_back(OutItem::Data {
                id,
                tag: 0,
                buf: (0..20).collect(),
            });
        }
        let mut sent = 0;
        for _ in 0..1000 {
            link.flush(|w| sent += usize::from(matches!(w, Written::Data { .. })))
                .unwrap();
        }
        assert_eq!(sent, 3);
        let bytes = far.drain();
        assert_eq!(bytes.len(), HELLO_LEN + 3 * (3 * FRAME_HEADER_LEN + 20));
        assert_eq!(link.tx_next_seq, 9);
    }
}
