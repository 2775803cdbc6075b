//! The transmit side of a link: framing, sealing and keeping frames for replay.
//!
//! The queue holds items (messages, a close, an abort; the hello and
//! handshake messages go first, from their own buffer) and turns its front
//! into frames lazily, so a message's bytes are written straight from the
//! application's buffer, several frames per vectored write. Sequence numbers
//! are derived from the queue rather than stored per item, which keeps the
//! queue a plain FIFO.
//!
//! On a link that can resume, every numbered frame of a small message is
//! copied into the replay buffer as it is handed to the socket (or sealed).
//! A large message is lent instead: its send completes when the peer has
//! acknowledged all of it, and until then the link keeps the buffer and
//! makes any frame the peer lost again from it. Acknowledgements are unnumbered heartbeat frames
//! that may go between any two frames, even inside a message, so that two
//! parties sending each other long messages never wait on each other's
//! acknowledgements.

use super::policy::LENT_MESSAGE_MIN;
use crate::replay::{ReplayBuffer, Unsent};
use crate::request::RequestId;
use crate::secure::Channel;
use crate::socket::{Socket, SocketError};
use crate::stats::LinkStats;
use crate::wire::{FrameKind, FrameRepr, FRAME_HEADER_LEN};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Frames gathered into one vectored write at most.
const MAX_GATHER_FRAMES: usize = 32;
/// Sealed bytes prepared per batch before writing.
const SEAL_BATCH: usize = 256 * 1024;

/// A frame (or the frames of a message) waiting to be written on a link.
#[derive(Debug)]
pub(crate) enum OutItem<Tx> {
    /// A message; `lent` when the link keeps `buf` itself for replay rather
    /// than a copy, decided once, when it is queued (`policy::lends`).
    Data {
        id: RequestId,
        tag: u32,
        buf: Tx,
        lent: bool,
    },
    Close {
        reason: u64,
    },
    Abort {
        code: i32,
    },
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

/// What a flush may use of the link around the transmit side.
pub(crate) struct TxIo<'a, S> {
    pub socket: &'a mut Option<S>,
    /// The secure channel, once the handshake is done.
    pub channel: Option<&'a mut Channel>,
    /// The link is up: frames beyond the hello and handshake may go.
    pub frames_allowed: bool,
    /// Frames received in full, for the acknowledgements written.
    pub frames_received: u64,
    pub stats: &'a mut LinkStats,
}

/// A large message written in full, whose buffer the link keeps until the
/// peer acknowledges its last frame.
#[derive(Debug)]
struct LentMessage<Tx> {
    first_seq: u64,
    frames: u64,
    item: OutItem<Tx>,
}

/// The transmit state of one link.
#[derive(Debug)]
pub(crate) struct Transmit<Tx> {
    /// Frames are sealed into records (decided by configuration).
    secure: bool,
    frame_payload: usize,

    /// The hello and handshake messages of the current connection, written
    /// as they are before any frame; kept apart from the frame queue so a
    /// new connection leaves a half-sent message's progress alone.
    raw_out: Vec<u8>,
    raw_out_pos: usize,
    queue: VecDeque<OutItem<Tx>>,
    head_sent: usize,
    /// Frames of the head item handed over in full (and kept for replay).
    head_frames_done: u64,
    next_seq: u64,
    header_scratch: [[u8; FRAME_HEADER_LEN]; MAX_GATHER_FRAMES],

    /// Sent frames kept until acknowledged; `None` when the link cannot resume.
    replay: Option<ReplayBuffer>,
    /// Messages written in full and lent until acknowledged, oldest first.
    lent: VecDeque<LentMessage<Tx>>,
    /// An acknowledgement should go out at the next frame boundary.
    ack_due: bool,
    /// The acknowledgement last handed to the socket (or sealed).
    acks_sent: u64,
    /// The highest acknowledgement the peer has sent.
    acked_by_peer: u64,
    /// Frame bytes received since the last acknowledgement went out.
    received_since_ack: usize,
    /// Received frame bytes after which an acknowledgement is due.
    ack_every: usize,
    /// A plaintext acknowledgement being written, and how much of it is out.
    ack_out: [u8; FRAME_HEADER_LEN],
    ack_out_pos: usize,

    /// Bytes ready for the socket: sealed records on a secure link, and
    /// kept frames written again after a reconnect on a plaintext one.
    prepared_out: Vec<u8>,
    prepared_out_pos: usize,
    /// A kept frame being written again, before it is sealed.
    plain_scratch: Vec<u8>,
}

impl<Tx: AsRef<[u8]>> Transmit<Tx> {
    /// `resume_buffer` bytes of sent frames are kept for resume (at least
    /// one whole frame); 0 makes a link that cannot resume.
    pub fn new(frame_payload: usize, secure: bool, resume_buffer: usize) -> Self {
        let frame_payload = frame_payload.max(1);
        let replay_capacity = resume_buffer.max(FRAME_HEADER_LEN + frame_payload);
        Transmit {
            secure,
            frame_payload,
            raw_out: Vec::new(),
            raw_out_pos: 0,
            queue: VecDeque::new(),
            head_sent: 0,
            head_frames_done: 0,
            next_seq: 0,
            header_scratch: [[0; FRAME_HEADER_LEN]; MAX_GATHER_FRAMES],
            replay: (resume_buffer > 0).then(|| ReplayBuffer::new(replay_capacity)),
            lent: VecDeque::new(),
            ack_due: false,
            acks_sent: 0,
            acked_by_peer: 0,
            received_since_ack: 0,
            ack_every: (replay_capacity / 4).max(1),
            ack_out: [0; FRAME_HEADER_LEN],
            ack_out_pos: FRAME_HEADER_LEN,
            prepared_out: Vec::new(),
            prepared_out_pos: 0,
            plain_scratch: Vec::new(),
        }
    }

    /// A new connection: `hello` goes out first.
    pub fn attach(&mut self, hello: &[u8]) {
        self.raw_out.clear();
        self.raw_out.extend_from_slice(hello);
        self.raw_out_pos = 0;
    }

    /// Drops what belonged to the connection: hellos and handshake messages
    /// still queued, prepared bytes, a half-written acknowledgement. A frame
    /// half written will be written again from its start on the next
    /// connection (frames written in full are kept for replay).
    pub fn detach(&mut self) {
        self.raw_out.clear();
        self.raw_out_pos = 0;
        self.head_sent = self.head_frames_done as usize * (FRAME_HEADER_LEN + self.frame_payload);
        self.ack_out_pos = FRAME_HEADER_LEN;
        self.ack_due = false;
        self.prepared_out.clear();
        self.prepared_out_pos = 0;
    }

    /// Queues a raw message (a handshake message) behind the hello, ahead
    /// of any frame.
    pub fn queue_raw(&mut self, message: &[u8]) {
        self.raw_out.extend_from_slice(message);
    }

    /// Queues `item` behind everything queued.
    pub fn push(&mut self, item: OutItem<Tx>) {
        self.queue.push_back(item);
    }

    /// Queues `item` to go out next, after whatever item is half written.
    pub fn push_urgent(&mut self, item: OutItem<Tx>) {
        let at = usize::from(self.head_sent > 0).min(self.queue.len());
        self.queue.insert(at, item);
    }

    /// Takes every item out, lent or queued, for a link that has ended.
    pub fn drain(&mut self) -> impl Iterator<Item = OutItem<Tx>> + '_ {
        let lent = self.lent.drain(..).map(|lent| lent.item);
        lent.chain(self.queue.drain(..))
    }

    /// Are raw bytes (hello, handshake) still to be written? Frames wait for them.
    fn raw_pending(&self) -> bool {
        self.raw_out_pos < self.raw_out.len()
    }

    /// True if an abort frame has not yet reached the socket: still queued,
    /// or (on a secure link) sealed into a record the socket has not taken
    /// in full. The abort is queued ahead of everything unsent, so any
    /// sealed bytes left are the abort's or must precede it.
    pub fn abort_pending(&self) -> bool {
        self.queue
            .iter()
            .any(|i| matches!(i, OutItem::Abort { .. }))
            || self.prepared_out_pos < self.prepared_out.len()
    }

    /// True when nothing is queued for writing: no item, no frame to write
    /// again, no acknowledgement, and no sealed record waiting for room in
    /// the socket.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && !self.raw_pending()
            && self.prepared_out_pos >= self.prepared_out.len()
            && self.ack_out_pos == FRAME_HEADER_LEN
            && self.replay_unsent() == 0
            && !self.ack_due
    }

    /// Kept frames still to be written again after a reconnect.
    fn replay_unsent(&self) -> usize {
        self.replay.as_ref().map_or(0, ReplayBuffer::unsent_frames)
    }

    /// The item is lent rather than copied while the peer may still need it.
    fn lends(&self, item: &OutItem<Tx>) -> bool {
        self.replay.is_some() && is_lent(item)
    }

    /// The link keeps sent frames, so it can resume on a new connection.
    pub fn can_resume(&self) -> bool {
        self.replay.is_some()
    }

    /// Nothing sent is unacknowledged (always true on a link that cannot
    /// resume, which keeps nothing).
    pub fn all_acknowledged(&self) -> bool {
        self.replay.as_ref().is_none_or(ReplayBuffer::is_empty)
    }

    /// The highest acknowledgement the peer has sent.
    pub fn acked_by_peer(&self) -> u64 {
        self.acked_by_peer
    }

    /// The acknowledgement last handed to the socket (or sealed).
    pub fn acks_sent(&self) -> u64 {
        self.acks_sent
    }

    /// Asks for an acknowledgement at the next frame boundary.
    pub fn request_ack(&mut self) {
        self.ack_due = true;
    }

    /// An acknowledgement is waiting for its turn.
    pub fn ack_due(&self) -> bool {
        self.ack_due
    }

    /// The peer acknowledges every frame below `acked`: the lent messages
    /// it covers go to `written`. Rejected when it names frames never sent
    /// or takes an acknowledgement back.
    pub fn take_ack(
        &mut self,
        acked: u64,
        written: impl FnMut(Written<Tx>),
    ) -> Result<(), AckOutOfRange> {
        if acked > self.frames_sent() || acked < self.acked_by_peer {
            return Err(AckOutOfRange);
        }
        self.acked_by_peer = acked;
        if let Some(replay) = self.replay.as_mut() {
            replay.release_below(acked);
        }
        self.return_lent(acked, written);
        Ok(())
    }

    /// Hands every lent message whose frames are all below `acked` back.
    fn return_lent(&mut self, acked: u64, mut written: impl FnMut(Written<Tx>)) {
        while self
            .lent
            .front()
            .is_some_and(|lent| lent.first_seq + lent.frames <= acked)
        {
            if let Some(LentMessage {
                item: OutItem::Data { id, tag, buf, .. },
                ..
            }) = self.lent.pop_front()
            {
                let len = buf.as_ref().len() as u64;
                written(Written::Data { id, tag, buf, len });
            }
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
    /// `resume_seq` on are written again before anything new, and the lent
    /// messages below it go to `written`. `Err` holds the range of frames
    /// this side can still send.
    pub fn resume_from(
        &mut self,
        resume_seq: u64,
        written: impl FnMut(Written<Tx>),
    ) -> Result<(), (u64, u64)> {
        let Some(replay) = self.replay.as_mut() else {
            // A link that cannot resume only ever has one connection.
            return if resume_seq == 0 && self.next_seq == 0 {
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
        self.return_lent(resume_seq, written);
        Ok(())
    }

    /// A message of `len` bytes has arrived in full. Its sender may have lent
    /// a large one and then waits for the acknowledgement to complete the
    /// send, so that falls due at once.
    pub fn message_received(&mut self, len: u64) {
        if self.replay.is_some() && len >= LENT_MESSAGE_MIN as u64 {
            self.ack_due = true;
        }
    }

    /// Counts `bytes` of a received frame; an acknowledgement falls due
    /// after a quarter of the replay buffer, so the peer's never fills while
    /// this side keeps reading.
    pub fn count_received(&mut self, bytes: usize) {
        if self.replay.is_none() {
            return;
        }
        self.received_since_ack += bytes;
        if self.received_since_ack >= self.ack_every {
            self.ack_due = true;
        }
    }

    /// At most this many frames have been handed to the socket (or sealed):
    /// those of the items written in full, and all of the item being
    /// written. No honest peer acknowledges more.
    pub fn frames_sent(&self) -> u64 {
        let head = match self.queue.front() {
            Some(item) if self.head_sent > 0 => frames_in(item, self.frame_payload),
            _ => 0,
        };
        self.next_seq + head
    }

    /// May an acknowledgement or a kept frame be written now? Not before
    /// the handshake is done, nor in the middle of a frame.
    fn at_frame_boundary(&self, io: &TxIo<'_, impl Socket>) -> bool {
        if !io.frames_allowed || self.raw_pending() || (self.secure && io.channel.is_none()) {
            return false;
        }
        let full = FRAME_HEADER_LEN + self.frame_payload;
        self.head_sent == 0
            || (matches!(self.queue.front(), Some(OutItem::Data { .. }))
                && self.head_sent.is_multiple_of(full))
    }

    /// Queues an acknowledgement of every frame received in full: sealed
    /// into the outgoing records on a secure link, else into its own buffer.
    fn emit_ack(&mut self, io: &mut TxIo<'_, impl Socket>) {
        let acked = io.frames_received;
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
        match io.channel.as_deref_mut() {
            Some(channel) => {
                if channel.seal(&header, &mut self.prepared_out).is_err() {
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
        self.received_since_ack = 0;
    }

    /// Writes as much of the queue as the socket takes, handing each item
    /// that went out in full to `written`. On a secure link, frames are
    /// sealed into records first; a send is complete once sealed (its bytes
    /// have been copied). True if any byte moved.
    pub fn flush<S: Socket>(
        &mut self,
        mut io: TxIo<'_, S>,
        mut written: impl FnMut(Written<Tx>),
    ) -> Result<bool, SocketError> {
        let mut progressed = false;
        loop {
            let wrote = if self.raw_pending() {
                self.write_raw(io.socket)?
            } else if self.prepared_out_pos < self.prepared_out.len() {
                self.write_prepared(io.socket)?
            } else if self.ack_out_pos < FRAME_HEADER_LEN {
                self.write_ack(io.socket)?
            } else if self.ack_due && self.at_frame_boundary(&io) && self.replay_unsent() == 0 {
                self.emit_ack(&mut io);
                continue;
            } else if self.replay_unsent() > 0 && self.at_frame_boundary(&io) {
                if !self.prepare_replay(io.channel.as_deref_mut()) {
                    return Ok(progressed);
                }
                continue;
            } else if let Some(channel) = io.channel.as_deref_mut() {
                if !io.frames_allowed {
                    return Ok(progressed);
                }
                let consumed = self.seal_frames(channel);
                if consumed == 0 {
                    return Ok(progressed);
                }
                self.advance(consumed, &mut written, io.stats);
                continue;
            } else {
                let Some(n) = self.write_frames(io.socket, io.frames_allowed)? else {
                    return Ok(progressed);
                };
                self.advance(n, &mut written, io.stats);
                Some(n)
            };
            let Some(n) = wrote else {
                return Ok(progressed);
            };
            progressed = true;
            io.stats.bytes_sent += n as u64;
        }
    }

    fn write_raw<S: Socket>(
        &mut self,
        socket: &mut Option<S>,
    ) -> Result<Option<usize>, SocketError> {
        let n = write_some(socket, &[&self.raw_out[self.raw_out_pos..]])?;
        self.raw_out_pos += n.unwrap_or(0);
        if self.raw_out_pos == self.raw_out.len() {
            self.raw_out.clear();
            self.raw_out_pos = 0;
        }
        Ok(n)
    }

    fn write_ack<S: Socket>(
        &mut self,
        socket: &mut Option<S>,
    ) -> Result<Option<usize>, SocketError> {
        let n = write_some(socket, &[&self.ack_out[self.ack_out_pos..]])?;
        self.ack_out_pos += n.unwrap_or(0);
        Ok(n)
    }

    /// Prepares kept frames to be written again after a reconnect, up to a
    /// batch: sealed under a resumed secure link's new keys, or as they are
    /// on a plaintext link. False when nothing was prepared.
    fn prepare_replay(&mut self, mut channel: Option<&mut Channel>) -> bool {
        let mut prepared = false;
        while self.prepared_out.len() < SEAL_BATCH {
            let Some(replay) = self.replay.as_mut() else {
                break;
            };
            let Some(next) = replay.take_unsent_frame(&mut self.plain_scratch) else {
                break;
            };
            if let Unsent::Lent { seq } = next {
                let found = find_lent(&self.lent, self.queue.front(), self.next_seq, seq);
                let Some((item, frame)) = found else {
                    // Every lent frame kept belongs to a lent message or
                    // to the head item; were one missing, the peer would
                    // see the gap in the numbers and fail the link.
                    break;
                };
                make_frame(
                    item,
                    frame,
                    seq,
                    self.frame_payload,
                    &mut self.plain_scratch,
                );
            }
            // Kept frames were sized for this link's records, so they fit.
            match channel.as_deref_mut() {
                Some(channel) => {
                    if channel
                        .seal(&self.plain_scratch, &mut self.prepared_out)
                        .is_err()
                    {
                        break;
                    }
                }
                None => self.prepared_out.extend_from_slice(&self.plain_scratch),
            }
            prepared = true;
        }
        prepared
    }

    fn write_prepared<S: Socket>(
        &mut self,
        socket: &mut Option<S>,
    ) -> Result<Option<usize>, SocketError> {
        let n = write_some(socket, &[&self.prepared_out[self.prepared_out_pos..]])?;
        self.prepared_out_pos += n.unwrap_or(0);
        if self.prepared_out_pos == self.prepared_out.len() {
            self.prepared_out.clear();
            self.prepared_out_pos = 0;
        }
        Ok(n)
    }

    /// Seals whole frames from the front of the queue into records, up to a
    /// batch; returns the queue (stream) bytes they covered.
    fn seal_frames(&mut self, channel: &mut Channel) -> usize {
        let full = FRAME_HEADER_LEN + self.frame_payload;
        let mut consumed = 0;
        let mut seq = self.next_seq;
        let mut room = self.replay.as_ref().map_or(usize::MAX, ReplayBuffer::room);
        'items: for (i, item) in self.queue.iter().enumerate() {
            let frames = frames_in(item, self.frame_payload);
            let first = if i == 0 {
                (self.head_sent / full) as u64
            } else {
                0
            };
            let item_seq = seq;
            seq += frames;
            let lent = self.lends(item);
            for frame in first..frames {
                let repr = frame_header(item, frame, item_seq + frame, self.frame_payload);
                if !lent && !take_room(&mut room, item, &repr) {
                    break 'items;
                }
                let Some((header, payload)) = frame_parts(item, frame, &repr, self.frame_payload)
                else {
                    break 'items;
                };
                // Written once, straight into the record, and sealed there.
                let sealed = channel.seal_with(&mut self.prepared_out, |out| {
                    out.extend_from_slice(&header);
                    out.extend_from_slice(payload);
                });
                if sealed.is_err() {
                    break 'items;
                }
                consumed += FRAME_HEADER_LEN + payload.len();
                if self.prepared_out.len() >= SEAL_BATCH {
                    break 'items;
                }
            }
        }
        consumed
    }

    /// One vectored write of plaintext frames; `None` when there is nothing
    /// to send or the socket is full.
    fn write_frames<S: Socket>(
        &mut self,
        socket: &mut Option<S>,
        frames_allowed: bool,
    ) -> Result<Option<usize>, SocketError> {
        // Frames of a secure link are sealed, never written here; kept
        // frames to be written again go first.
        if self.secure || !frames_allowed || self.replay_unsent() > 0 {
            return Ok(None);
        }
        // (item index, frame index within item, bytes of the frame already sent)
        let mut plan = [(0usize, 0u64, 0usize); MAX_GATHER_FRAMES];
        let mut planned = 0;
        let mut seq = self.next_seq;
        let mut room = self.replay.as_ref().map_or(usize::MAX, ReplayBuffer::room);
        // An acknowledgement waits for the end of the frame being written.
        let most = if self.ack_due { 1 } else { MAX_GATHER_FRAMES };
        'items: for (i, item) in self.queue.iter().enumerate() {
            let frames = frames_in(item, self.frame_payload);
            let (mut frame, mut skip) = (0u64, 0usize);
            if i == 0 {
                // Resume inside the head item: every frame but the last is full.
                let full = FRAME_HEADER_LEN + self.frame_payload;
                frame = ((self.head_sent / full) as u64).min(frames.saturating_sub(1));
                skip = self.head_sent - frame as usize * full;
            }
            let item_seq = seq;
            seq += frames;
            let lent = self.lends(item);
            while frame < frames {
                let header = frame_header(item, frame, item_seq + frame, self.frame_payload);
                if (!lent && !take_room(&mut room, item, &header))
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
            let head: &[u8] = &self.header_scratch[slot][..];
            let body: &[u8] = match &self.queue[i] {
                OutItem::Data { buf, .. } => {
                    let data = buf.as_ref();
                    let start = (frame as usize * self.frame_payload).min(data.len());
                    let end = (start + self.frame_payload).min(data.len());
                    &data[start..end]
                }
                OutItem::Close { .. } | OutItem::Abort { .. } => &[],
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
        write_some(socket, &iov[..n_iov])
    }

    /// Moves the queue on by `n` stream bytes handed over, keeping frames
    /// for replay and handing out the items finished.
    fn advance(
        &mut self,
        mut n: usize,
        written: &mut impl FnMut(Written<Tx>),
        stats: &mut LinkStats,
    ) {
        let full = FRAME_HEADER_LEN + self.frame_payload;
        while n > 0 {
            let Some(head) = self.queue.front() else {
                return;
            };
            let left = stream_len(head, self.frame_payload) - self.head_sent;
            let frames = frames_in(head, self.frame_payload);
            if n < left {
                self.head_sent += n;
                if matches!(head, OutItem::Data { .. }) {
                    self.keep_for_replay((self.head_sent / full) as u64);
                }
                return;
            }
            n -= left;
            self.keep_for_replay(frames);
            let first_seq = self.next_seq;
            self.head_sent = 0;
            self.head_frames_done = 0;
            self.next_seq += frames;
            match self.queue.pop_front() {
                Some(item) if self.lends(&item) => {
                    stats.messages_sent += 1;
                    self.lent.push_back(LentMessage {
                        first_seq,
                        frames,
                        item,
                    });
                }
                Some(OutItem::Data { id, tag, buf, .. }) => {
                    stats.messages_sent += 1;
                    let len = buf.as_ref().len() as u64;
                    written(Written::Data { id, tag, buf, len })
                }
                Some(OutItem::Close { .. }) => written(Written::Close),
                Some(OutItem::Abort { .. }) => written(Written::Abort),
                None => return,
            }
        }
    }

    /// Keeps the head item's frames handed over since the last call, up to
    /// frame `upto`, for replay (if the link keeps frames): copied, or
    /// counted in as lent.
    fn keep_for_replay(&mut self, upto: u64) {
        if let (Some(replay), Some(item)) = (self.replay.as_mut(), self.queue.front()) {
            let mut header = [0u8; FRAME_HEADER_LEN];
            for frame in self.head_frames_done..upto {
                if is_lent(item) {
                    replay.push_lent();
                    continue;
                }
                let repr = frame_header(item, frame, self.next_seq + frame, self.frame_payload);
                if repr.emit(&mut header).is_err() {
                    break;
                }
                replay.push(&[
                    &header,
                    frame_payload_of(item, &repr, frame, self.frame_payload),
                ]);
            }
        }
        self.head_frames_done = upto;
    }
}

/// The peer acknowledged frames never sent, or took an acknowledgement back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckOutOfRange;

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

/// Frames an item takes on the wire.
fn frames_in<Tx: AsRef<[u8]>>(item: &OutItem<Tx>, frame_payload: usize) -> u64 {
    match item {
        OutItem::Data { buf, .. } => buf.as_ref().len().div_ceil(frame_payload).max(1) as u64,
        OutItem::Close { .. } | OutItem::Abort { .. } => 1,
    }
}

/// Bytes an item takes on the stream, headers included.
fn stream_len<Tx: AsRef<[u8]>>(item: &OutItem<Tx>, frame_payload: usize) -> usize {
    match item {
        OutItem::Data { buf, .. } => {
            frames_in(item, frame_payload) as usize * FRAME_HEADER_LEN + buf.as_ref().len()
        }
        OutItem::Close { .. } | OutItem::Abort { .. } => FRAME_HEADER_LEN,
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

/// A message the link lends rather than copies for replay.
fn is_lent<Tx>(item: &OutItem<Tx>) -> bool {
    matches!(item, OutItem::Data { lent: true, .. })
}

/// The payload of frame `frame` of `item`, whose header is `repr`.
fn frame_payload_of<'a, Tx: AsRef<[u8]>>(
    item: &'a OutItem<Tx>,
    repr: &FrameRepr,
    frame: u64,
    frame_payload: usize,
) -> &'a [u8] {
    match item {
        OutItem::Data { buf, .. } => {
            let start = frame as usize * frame_payload;
            &buf.as_ref()[start..start + repr.len as usize]
        }
        OutItem::Close { .. } | OutItem::Abort { .. } => &[],
    }
}

/// Frame `frame` of `item`, whose header is `repr`: its header's bytes and
/// its payload; `None` if the header cannot be written.
fn frame_parts<'a, Tx: AsRef<[u8]>>(
    item: &'a OutItem<Tx>,
    frame: u64,
    repr: &FrameRepr,
    frame_payload: usize,
) -> Option<([u8; FRAME_HEADER_LEN], &'a [u8])> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    repr.emit(&mut header).ok()?;
    Some((header, frame_payload_of(item, repr, frame, frame_payload)))
}

/// Writes frame `frame` of `item`, numbered `seq`, header and payload, into
/// `out` (cleared first); false if its header cannot be written.
fn make_frame<Tx: AsRef<[u8]>>(
    item: &OutItem<Tx>,
    frame: u64,
    seq: u64,
    frame_payload: usize,
    out: &mut Vec<u8>,
) -> bool {
    let repr = frame_header(item, frame, seq, frame_payload);
    let Some((header, payload)) = frame_parts(item, frame, &repr, frame_payload) else {
        return false;
    };
    out.clear();
    out.extend_from_slice(&header);
    out.extend_from_slice(payload);
    true
}

/// The lent message (or the head item, `next_seq` being its first frame's
/// number) that frame `seq` belongs to, and the frame's index in it.
fn find_lent<'a, Tx: AsRef<[u8]>>(
    lent: &'a VecDeque<LentMessage<Tx>>,
    head: Option<&'a OutItem<Tx>>,
    next_seq: u64,
    seq: u64,
) -> Option<(&'a OutItem<Tx>, u64)> {
    lent.iter()
        .find(|m| (m.first_seq..m.first_seq + m.frames).contains(&seq))
        .map(|m| (&m.item, seq - m.first_seq))
        .or_else(|| {
            head.filter(|_| seq >= next_seq)
                .map(|item| (item, seq - next_seq))
        })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::request::Requests;
    use crate::testing::MemSocket;
    use crate::time::Duration;
    use crate::wire::FrameHeader;

    struct Harness {
        tx: Transmit<Vec<u8>>,
        socket: Option<MemSocket>,
        far: MemSocket,
        stats: LinkStats,
        requests: Requests<(), ()>,
        frames_received: u64,
    }

    impl Harness {
        fn new(frame_payload: usize, resume_buffer: usize) -> Self {
            Self::with_capacity(frame_payload, resume_buffer, 1 << 20)
        }

        /// The socket holds at most `capacity` unread bytes.
        fn with_capacity(frame_payload: usize, resume_buffer: usize, capacity: usize) -> Self {
            let (a, far) = MemSocket::pair(capacity);
            Harness {
                tx: Transmit::new(frame_payload, false, resume_buffer),
                socket: Some(a),
                far,
                stats: LinkStats::default(),
                requests: Requests::new(),
                frames_received: 0,
            }
        }

        /// Sends `data`, lent or copied as the policy decides on a path
        /// whose round trip is unknown.
        fn send(&mut self, tag: u32, data: &[u8]) {
            self.send_over(tag, data, None);
        }

        /// Sends `data` as the policy decides for a path of `round_trip`.
        fn send_over(&mut self, tag: u32, data: &[u8], round_trip: Option<Duration>) {
            let id = self.requests.insert_send();
            self.tx.push(OutItem::Data {
                id,
                tag,
                buf: data.to_vec(),
                lent: crate::link::policy::lends(data.len(), round_trip),
            });
        }

        /// Flushes; returns the lengths of the messages written in full.
        fn flush(&mut self) -> Vec<u64> {
            let mut done = Vec::new();
            let io = TxIo {
                socket: &mut self.socket,
                channel: None,
                frames_allowed: true,
                frames_received: self.frames_received,
                stats: &mut self.stats,
            };
            self.tx
                .flush(io, |w| {
                    if let Written::Data { len, .. } = w {
                        done.push(len)
                    }
                })
                .unwrap();
            done
        }
    }

    /// Splits a plaintext stream into frames (header, payload).
    fn frames(mut bytes: &[u8]) -> Vec<(FrameRepr, Vec<u8>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let header = FrameHeader::new_checked(bytes).unwrap();
            let repr = FrameRepr::parse(&header, u32::MAX).unwrap();
            let end = FRAME_HEADER_LEN + repr.len as usize;
            out.push((repr, bytes[FRAME_HEADER_LEN..end].to_vec()));
            bytes = &bytes[end..];
        }
        out
    }

    #[test]
    fn messages_are_split_into_sequenced_frames() {
        let mut h = Harness::new(4, 0);
        h.tx.attach(&[9; 3]);
        h.send(3, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(h.flush(), [6], "the message, once");
        let bytes = h.far.drain();
        assert_eq!(&bytes[..3], &[9; 3], "the hello goes first");
        let got = frames(&bytes[3..]);
        assert_eq!(got.len(), 2);
        let (h0, h1) = (got[0].0, got[1].0);
        assert_eq!((h0.seq, h0.len, h0.aux, h0.tag), (0, 4, 6, 3));
        assert_eq!((h1.seq, h1.len), (1, 2));
        assert_eq!(got[1].1, [5, 6]);
    }

    #[test]
    fn partial_writes_resume_mid_frame() {
        let mut h = Harness::new(8, 0);
        h.socket.as_mut().unwrap().set_write_limit(Some(5));
        for _ in 0..3 {
            h.send(0, &(0..20).collect::<Vec<u8>>());
        }
        let mut sent = 0;
        for _ in 0..1000 {
            sent += h.flush().len();
        }
        assert_eq!(sent, 3);
        let got = frames(&h.far.drain());
        assert_eq!(got.len(), 9);
        assert!(got.iter().enumerate().all(|(i, (r, _))| r.seq == i as u64));
        assert_eq!(h.tx.frames_sent(), 9);
    }

    #[test]
    fn kept_frames_are_written_again_from_the_resume_point() {
        let mut h = Harness::new(4, 1024);
        h.send(1, &[1, 2, 3, 4, 5, 6, 7, 8]);
        h.send(2, &[9]);
        assert_eq!(h.flush(), [8, 1]);
        let first = h.far.drain();
        assert_eq!(frames(&first).len(), 3);
        // The peer holds frame 0 only; a new connection resumes at frame 1.
        h.tx.detach();
        assert_eq!(h.tx.resumable_range(), (0, 3));
        h.tx.resume_from(1, |_| {}).unwrap();
        assert!(h.flush().is_empty(), "no message completes twice");
        let again = frames(&h.far.drain());
        let seqs: Vec<u64> = again.iter().map(|(r, _)| r.seq).collect();
        assert_eq!(seqs, [1, 2]);
        assert_eq!(again[0].1, [5, 6, 7, 8]);
        assert_eq!(again[1].1, [9]);
    }

    #[test]
    fn acknowledgements_release_kept_frames_and_are_checked() {
        let mut h = Harness::new(4, 1024);
        h.send(1, &[0; 8]);
        h.flush();
        assert!(!h.tx.all_acknowledged());
        assert_eq!(
            h.tx.take_ack(3, |_| {}),
            Err(AckOutOfRange),
            "beyond what was sent"
        );
        h.tx.take_ack(1, |_| {}).unwrap();
        assert_eq!(h.tx.take_ack(0, |_| {}), Err(AckOutOfRange), "taken back");
        assert_eq!(h.tx.resumable_range(), (1, 2));
        h.tx.take_ack(2, |_| {}).unwrap();
        assert!(h.tx.all_acknowledged());
        assert_eq!(
            h.tx.resume_from(1, |_| {}),
            Err((2, 2)),
            "acknowledged frames cannot be asked for again"
        );
    }

    #[test]
    fn a_due_acknowledgement_goes_between_frames() {
        let mut h = Harness::new(4, 1024);
        h.frames_received = 7;
        h.send(1, &[0; 8]);
        h.tx.request_ack();
        h.flush();
        let got = frames(&h.far.drain());
        let kinds: Vec<FrameKind> = got.iter().map(|(r, _)| r.kind).collect();
        assert_eq!(kinds[0], FrameKind::Heartbeat);
        assert_eq!(got[0].0.aux, 7, "it names the frames received");
        assert_eq!(h.tx.acks_sent(), 7);
        assert!(h.tx.is_idle());
    }

    #[test]
    fn a_full_replay_buffer_holds_new_data_back() {
        // Room for two 4-byte frames only.
        let mut h = Harness::new(4, 2 * (FRAME_HEADER_LEN + 4));
        h.send(1, &[0; 12]);
        assert!(h.flush().is_empty(), "the third frame waits for room");
        assert_eq!(frames(&h.far.drain()).len(), 2);
        h.tx.take_ack(2, |_| {}).unwrap();
        assert_eq!(h.flush(), [12]);
        assert_eq!(frames(&h.far.drain()).len(), 1);
    }

    /// The lengths of the lent messages an acknowledgement of `acked` returns.
    fn ack_returns(h: &mut Harness, acked: u64) -> Vec<u64> {
        let mut done = Vec::new();
        h.tx.take_ack(acked, |w| {
            if let Written::Data { len, .. } = w {
                done.push(len)
            }
        })
        .unwrap();
        done
    }

    #[test]
    fn a_large_message_is_lent_until_acknowledged_not_copied() {
        const PAYLOAD: usize = 64 * 1024;
        let mut h = Harness::with_capacity(PAYLOAD, 1 << 20, 4 << 20);
        let large: Vec<u8> = (0..LENT_MESSAGE_MIN).map(|i| i as u8).collect();
        h.send(1, &[7; 10]);
        h.send(2, &large);
        assert_eq!(h.flush(), [10], "the small one completes once written");
        assert_eq!(frames(&h.far.drain()).len(), 5);
        let room = h.tx.replay.as_ref().unwrap().room();
        assert_eq!(
            room,
            (1 << 20) - (FRAME_HEADER_LEN + 10),
            "only it was copied"
        );
        assert!(
            ack_returns(&mut h, 4).is_empty(),
            "one frame still unacknowledged"
        );
        assert_eq!(ack_returns(&mut h, 5), [LENT_MESSAGE_MIN as u64]);
        assert!(h.tx.all_acknowledged());
    }

    #[test]
    fn a_large_message_on_a_long_path_is_copied_and_completes_once_written() {
        const PAYLOAD: usize = 64 * 1024;
        let mut h = Harness::with_capacity(PAYLOAD, 1 << 20, 4 << 20);
        let large: Vec<u8> = (0..LENT_MESSAGE_MIN).map(|i| i as u8).collect();
        h.send_over(2, &large, Some(Duration::from_millis(20)));
        assert_eq!(
            h.flush(),
            [LENT_MESSAGE_MIN as u64],
            "complete without waiting for the peer"
        );
        assert_eq!(frames(&h.far.drain()).len(), 4);
        let room = h.tx.replay.as_ref().unwrap().room();
        assert_eq!(
            room,
            (1 << 20) - 4 * FRAME_HEADER_LEN - LENT_MESSAGE_MIN,
            "every frame copied"
        );
        assert!(ack_returns(&mut h, 4).is_empty(), "nothing left to return");
        assert!(h.tx.all_acknowledged());
    }

    #[test]
    fn lost_frames_of_a_lent_message_are_made_again_from_its_buffer() {
        const PAYLOAD: usize = 64 * 1024;
        let mut h = Harness::with_capacity(PAYLOAD, 1 << 20, 4 << 20);
        let large: Vec<u8> = (0..LENT_MESSAGE_MIN + 5).map(|i| (i * 7) as u8).collect();
        h.send(1, &[1; 3]);
        h.send(2, &large);
        h.send(3, &[3; 4]);
        assert_eq!(h.flush(), [3, 4]);
        let first = frames(&h.far.drain());
        assert_eq!(first.len(), 7);
        // The peer holds frames 0 and 1; the connection breaks.
        h.tx.detach();
        let mut returned = Vec::new();
        h.tx.resume_from(2, |w| returned.push(matches!(w, Written::Data { .. })))
            .unwrap();
        assert!(returned.is_empty(), "the lent message is not yet all there");
        assert!(h.flush().is_empty(), "no message completes twice");
        let again = frames(&h.far.drain());
        assert_eq!(
            again,
            first[2..],
            "the same frames, from the same numbers on"
        );
        assert_eq!(ack_returns(&mut h, 7), [large.len() as u64]);
    }

    #[test]
    fn a_lent_message_half_written_when_the_connection_broke_is_resumed() {
        const PAYLOAD: usize = 64 * 1024;
        // The socket takes two and a half frames.
        let mut h = Harness::with_capacity(PAYLOAD, 1 << 20, 5 * PAYLOAD / 2);
        let large: Vec<u8> = (0..LENT_MESSAGE_MIN).map(|i| (i * 3) as u8).collect();
        h.send(1, &large);
        assert!(h.flush().is_empty());
        let first = h.far.drain();
        assert_eq!(frames(&first[..2 * (FRAME_HEADER_LEN + PAYLOAD)]).len(), 2);
        // The peer got frame 0 only; two frames had been handed over in full.
        h.tx.detach();
        h.tx.resume_from(1, |_| {}).unwrap();
        let mut stream = Vec::new();
        for _ in 0..10 {
            h.flush();
            stream.extend(h.far.drain());
        }
        let again = frames(&stream);
        let seqs: Vec<u64> = again.iter().map(|(r, _)| r.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        let body: Vec<u8> = again.iter().flat_map(|(_, p)| p.clone()).collect();
        assert_eq!(body, large[PAYLOAD..]);
        assert!(ack_returns(&mut h, 3).is_empty());
        assert_eq!(ack_returns(&mut h, 4), [LENT_MESSAGE_MIN as u64]);
    }

    #[test]
    fn an_ended_link_hands_lent_messages_back_unacknowledged() {
        let mut h = Harness::with_capacity(64 * 1024, 1 << 20, 4 << 20);
        h.send(1, &vec![0; LENT_MESSAGE_MIN]);
        h.send(2, &[0; 4]);
        assert_eq!(h.flush(), [4], "the small one completes once written");
        let drained: Vec<usize> =
            h.tx.drain()
                .map(|item| match item {
                    OutItem::Data { buf, .. } => buf.len(),
                    _ => 0,
                })
                .collect();
        assert_eq!(drained, [LENT_MESSAGE_MIN], "the lent one, to be failed");
    }

    #[test]
    fn an_urgent_item_waits_for_the_frame_being_written() {
        let mut h = Harness::with_capacity(8, 0, FRAME_HEADER_LEN + 2);
        h.send(1, &[0; 16]);
        h.send(2, &[0; 4]);
        h.flush();
        h.tx.push_urgent(OutItem::Abort { code: 3 });
        assert!(h.tx.abort_pending());
        let mut stream = Vec::new();
        while !h.tx.is_idle() {
            stream.extend(h.far.drain());
            h.flush();
        }
        stream.extend(h.far.drain());
        let got = frames(&stream);
        let kinds: Vec<FrameKind> = got.iter().map(|(r, _)| r.kind).collect();
        assert_eq!(
            kinds,
            [
                FrameKind::Data,
                FrameKind::Data,
                FrameKind::Abort,
                FrameKind::Data
            ],
            "the message already begun is finished first, then the abort overtakes"
        );
        assert!(!h.tx.abort_pending());
    }
}
