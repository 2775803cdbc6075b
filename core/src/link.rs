//! One link: the state machine and byte queues for the connection to one peer.
//!
//! The transmit side keeps a queue of items (the hello, messages, a close) and
//! turns its front into frames lazily, so a message's bytes are written
//! straight from the application's buffer, several frames per vectored write.
//! Sequence numbers are derived from the queue rather than stored per item,
//! which keeps the queue a plain FIFO.

use crate::error::LinkError;
use crate::matching::UnexpectedKey;
use crate::rank::Rank;
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

/// Something waiting to be written on a link.
#[derive(Debug)]
pub(crate) enum OutItem<Tx> {
    Hello([u8; HELLO_LEN]),
    /// A length-prefixed Noise handshake message, written as it is.
    Handshake(Vec<u8>),
    Data {
        id: RequestId,
        tag: u32,
        buf: Tx,
    },
    Close {
        reason: u64,
    },
    Abort {
        code: i32,
    },
    /// `acked` frames from the peer had arrived when it was queued.
    Heartbeat {
        acked: u64,
    },
}

/// An item that has been written in full.
pub(crate) enum Written<Tx> {
    Hello,
    Handshake,
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

    pub tx: VecDeque<OutItem<Tx>>,
    tx_head_sent: usize,
    tx_next_seq: u64,
    frame_payload: usize,
    header_scratch: [[u8; FRAME_HEADER_LEN]; MAX_GATHER_FRAMES],

    pub rx_staging: Vec<u8>,
    pub rx_start: usize,
    pub rx_end: usize,
    pub rx_phase: RxPhase,
    pub rx_next_seq: u64,
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
    pub fn new(peer: Rank, dials: bool, frame_payload: usize, secure: bool, now: Instant) -> Self {
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
            tx: VecDeque::new(),
            tx_head_sent: 0,
            tx_next_seq: 0,
            frame_payload: frame_payload.max(1),
            header_scratch: [[0; FRAME_HEADER_LEN]; MAX_GATHER_FRAMES],
            rx_staging: Vec::new(),
            rx_start: 0,
            rx_end: 0,
            rx_phase: RxPhase::Hello,
            rx_next_seq: 0,
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
        self.last_heard = now;
        self.last_sent = now;
        if self.rx_staging.is_empty() {
            self.rx_staging = vec![0; STAGING_LEN];
        }
        self.rx_start = 0;
        self.rx_end = 0;
        self.rx_phase = rx_phase;
        self.tx_head_sent = 0;
        self.tx.push_front(OutItem::Hello(hello));
    }

    /// Drops the connection; hellos and handshake messages still queued,
    /// and any handshake or channel state, go with it.
    pub fn detach(&mut self) {
        if let Some(mut s) = self.socket.take() {
            s.close();
        }
        while matches!(
            self.tx.front(),
            Some(OutItem::Hello(_) | OutItem::Handshake(_))
        ) {
            self.tx.pop_front();
            self.tx_head_sent = 0;
        }
        self.handshake = None;
        self.channel = None;
        self.sealed_out.clear();
        self.sealed_out_pos = 0;
        self.sealed_in_start = 0;
        self.sealed_in_end = 0;
        self.rx_failure = None;
    }

    /// Queues a raw message behind the raw messages already queued (the
    /// hello), ahead of any frame.
    pub fn queue_raw(&mut self, message: Vec<u8>) {
        let at = self
            .tx
            .iter()
            .position(|i| !matches!(i, OutItem::Hello(_) | OutItem::Handshake(_)));
        self.tx
            .insert(at.unwrap_or(self.tx.len()), OutItem::Handshake(message));
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

    fn head_is_raw(&self) -> bool {
        matches!(
            self.tx.front(),
            Some(OutItem::Hello(_) | OutItem::Handshake(_))
        )
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

    /// True when nothing is queued for writing: no item, and no sealed
    /// record waiting for room in the socket.
    pub fn tx_idle(&self) -> bool {
        self.tx.is_empty() && self.sealed_out_pos >= self.sealed_out.len()
    }

    /// May frames beyond the hello be written yet?
    fn may_send_frames(&self) -> bool {
        matches!(self.state, LinkState::Established | LinkState::Closing)
    }

    /// At most this many frames have been handed to the socket (or sealed):
    /// those of the items written in full, and all of the item being
    /// written, whose frames the peer counts as their headers arrive. No
    /// honest peer acknowledges more.
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
            OutItem::Hello(_) => HELLO_LEN,
            OutItem::Handshake(m) => m.len(),
            OutItem::Data { buf, .. } => {
                self.frames_in(item) as usize * FRAME_HEADER_LEN + buf.as_ref().len()
            }
            OutItem::Close { .. } | OutItem::Abort { .. } | OutItem::Heartbeat { .. } => {
                FRAME_HEADER_LEN
            }
        }
    }

    /// Writes as much of the queue as the socket takes, handing each item
    /// that went out in full to `written`. On a secure link, frames are
    /// sealed into records first; a send is complete once sealed (its bytes
    /// have been copied).
    pub fn flush(&mut self, mut written: impl FnMut(Written<Tx>)) -> Result<bool, SocketError> {
        let mut progressed = false;
        loop {
            if self.sealed_out_pos < self.sealed_out.len() {
                let Some(n) = self.write_sealed()? else {
                    return Ok(progressed);
                };
                progressed = true;
                self.stats.bytes_sent += n as u64;
                continue;
            }
            if self.channel.is_some() && !self.head_is_raw() {
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

    fn write_sealed(&mut self) -> Result<Option<usize>, SocketError> {
        let Some(socket) = self.socket.as_mut() else {
            return Ok(None);
        };
        match socket.write_vectored(&[&self.sealed_out[self.sealed_out_pos..]]) {
            Ok(0) | Err(SocketError::WouldBlock) => Ok(None),
            Ok(n) => {
                self.sealed_out_pos += n;
                if self.sealed_out_pos == self.sealed_out.len() {
                    self.sealed_out.clear();
                    self.sealed_out_pos = 0;
                }
                Ok(Some(n))
            }
            Err(e) => Err(e),
        }
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
        'items: for (i, item) in self.tx.iter().enumerate() {
            if matches!(item, OutItem::Hello(_) | OutItem::Handshake(_)) {
                break;
            }
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
                if repr.emit(&mut header).is_err() {
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
        'items: for (i, item) in self.tx.iter().enumerate() {
            let raw = matches!(item, OutItem::Hello(_) | OutItem::Handshake(_));
            // Frames of a secure link are sealed, never written here.
            if !raw && (self.secure || !self.may_send_frames()) {
                break;
            }
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
            if raw {
                plan[planned] = (i, 0, skip);
                planned += 1;
                if planned == MAX_GATHER_FRAMES {
                    break;
                }
                continue;
            }
            while frame < frames {
                let header = self.frame_header(item, frame, item_seq + frame);
                if header.emit(&mut self.header_scratch[planned]).is_err() {
                    break 'items;
                }
                plan[planned] = (i, frame, skip);
                planned += 1;
                skip = 0;
                frame += 1;
                if planned == MAX_GATHER_FRAMES {
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
                OutItem::Hello(h) => (&h[..], &[]),
                OutItem::Handshake(m) => (&m[..], &[]),
                OutItem::Data { buf, .. } => {
                    let data = buf.as_ref();
                    let start = (frame as usize * self.frame_payload).min(data.len());
                    let end = (start + self.frame_payload).min(data.len());
                    (&self.header_scratch[slot][..], &data[start..end])
                }
                OutItem::Close { .. } | OutItem::Abort { .. } | OutItem::Heartbeat { .. } => {
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
        let Some(socket) = self.socket.as_mut() else {
            return Ok(None);
        };
        match socket.write_vectored(&iov[..n_iov]) {
            Ok(0) => Ok(None),
            Ok(n) => Ok(Some(n)),
            Err(SocketError::WouldBlock) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn frame_header(&self, item: &OutItem<Tx>, frame: u64, seq: u64) -> FrameRepr {
        frame_header(item, frame, seq, self.frame_payload)
    }

    fn advance(&mut self, mut n: usize, written: &mut impl FnMut(Written<Tx>)) {
        while n > 0 {
            let Some(head) = self.tx.front() else { return };
            let left = self.stream_len(head) - self.tx_head_sent;
            if n < left {
                self.tx_head_sent += n;
                return;
            }
            n -= left;
            self.tx_head_sent = 0;
            let frames = self.frames_in(head);
            self.tx_next_seq += frames;
            match self.tx.pop_front() {
                Some(OutItem::Hello(_)) => written(Written::Hello),
                Some(OutItem::Handshake(_)) => written(Written::Handshake),
                Some(OutItem::Data { id, tag, buf }) => {
                    self.stats.messages_sent += 1;
                    let len = buf.as_ref().len() as u64;
                    written(Written::Data { id, tag, buf, len })
                }
                Some(OutItem::Close { .. }) => written(Written::Close),
                Some(OutItem::Abort { .. }) => written(Written::Abort),
                Some(OutItem::Heartbeat { .. }) => {}
                None => return,
            }
        }
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

/// Frames an item takes on the wire (raw messages take none).
fn frames_in<Tx: AsRef<[u8]>>(item: &OutItem<Tx>, frame_payload: usize) -> u64 {
    match item {
        OutItem::Hello(_) | OutItem::Handshake(_) => 0,
        OutItem::Data { buf, .. } => buf.as_ref().len().div_ceil(frame_payload).max(1) as u64,
        OutItem::Close { .. } | OutItem::Abort { .. } | OutItem::Heartbeat { .. } => 1,
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
        OutItem::Heartbeat { acked } => control(FrameKind::Heartbeat, *acked),
        // Never framed: raw messages are written as they are.
        OutItem::Hello(_) | OutItem::Handshake(_) => control(FrameKind::Close, 0),
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
        assert_eq!(done, [false, true], "hello, then the message");

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
