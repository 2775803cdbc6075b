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
use crate::socket::{Socket, SocketError};
use crate::stats::LinkStats;
use crate::time::Instant;
use crate::wire::{FrameKind, FrameRepr, FRAME_HEADER_LEN, HELLO_LEN};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

/// Frames gathered into one vectored write at most.
const MAX_GATHER_FRAMES: usize = 32;

/// Bytes of socket data buffered ahead of parsing.
pub(crate) const STAGING_LEN: usize = 64 * 1024;

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
    Data { id: RequestId, tag: u32, buf: Tx },
    Close { reason: u64 },
    Abort { code: i32 },
}

/// An item that has been written in full.
pub(crate) enum Written<Tx> {
    Hello,
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
    Header,
    Payload { frame_left: usize },
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
    pub sent_close: bool,
    pub peer_closed: bool,
    pub stats: LinkStats,

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
}

impl<S: Socket, Tx: AsRef<[u8]>> Link<S, Tx> {
    pub fn new(peer: Rank, dials: bool, frame_payload: usize, now: Instant) -> Self {
        Link {
            peer,
            state: LinkState::Connecting,
            socket: None,
            dials,
            next_dial: now,
            dial_backoff_us: 0,
            handshake_deadline: None,
            sent_close: false,
            peer_closed: false,
            stats: LinkStats::default(),
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
        }
    }

    /// Puts a fresh connection on the link, with our hello first in line.
    pub fn attach(&mut self, socket: S, hello: [u8; HELLO_LEN], rx_phase: RxPhase) {
        self.socket = Some(socket);
        if self.rx_staging.is_empty() {
            self.rx_staging = vec![0; STAGING_LEN];
        }
        self.rx_start = 0;
        self.rx_end = 0;
        self.rx_phase = rx_phase;
        self.tx_head_sent = 0;
        self.tx.push_front(OutItem::Hello(hello));
    }

    /// Drops the connection; a hello still queued goes with it.
    pub fn detach(&mut self) {
        if let Some(mut s) = self.socket.take() {
            s.close();
        }
        if matches!(self.tx.front(), Some(OutItem::Hello(_))) {
            self.tx.pop_front();
            self.tx_head_sent = 0;
        }
    }

    /// Queues `item` to go out next, after whatever item is half written.
    pub fn push_urgent(&mut self, item: OutItem<Tx>) {
        let at = usize::from(self.tx_head_sent > 0).min(self.tx.len());
        self.tx.insert(at, item);
    }

    /// True if an abort frame is still waiting to be written.
    pub fn abort_pending(&self) -> bool {
        self.tx.iter().any(|i| matches!(i, OutItem::Abort { .. }))
    }

    /// True when nothing is queued for writing.
    pub fn tx_idle(&self) -> bool {
        self.tx.is_empty()
    }

    /// May frames beyond the hello be written yet?
    fn may_send_frames(&self) -> bool {
        matches!(self.state, LinkState::Established | LinkState::Closing)
    }

    fn frames_in(&self, item: &OutItem<Tx>) -> u64 {
        match item {
            OutItem::Hello(_) => 0,
            OutItem::Data { buf, .. } => {
                let len = buf.as_ref().len();
                len.div_ceil(self.frame_payload).max(1) as u64
            }
            OutItem::Close { .. } | OutItem::Abort { .. } => 1,
        }
    }

    fn stream_len(&self, item: &OutItem<Tx>) -> usize {
        match item {
            OutItem::Hello(_) => HELLO_LEN,
            OutItem::Data { buf, .. } => {
                self.frames_in(item) as usize * FRAME_HEADER_LEN + buf.as_ref().len()
            }
            OutItem::Close { .. } | OutItem::Abort { .. } => FRAME_HEADER_LEN,
        }
    }

    /// Writes as much of the queue as the socket takes, handing each item
    /// that went out in full to `written`.
    pub fn flush(&mut self, mut written: impl FnMut(Written<Tx>)) -> Result<bool, SocketError> {
        let mut progressed = false;
        while let Some(n) = self.write_once()? {
            progressed = true;
            self.stats.bytes_sent += n as u64;
            self.advance(n, &mut written);
        }
        Ok(progressed)
    }

    /// One vectored write; `None` when there is nothing to send or the socket is full.
    fn write_once(&mut self) -> Result<Option<usize>, SocketError> {
        // (item index, frame index within item, bytes of the frame already sent)
        let mut plan = [(0usize, 0u64, 0usize); MAX_GATHER_FRAMES];
        let mut planned = 0;
        let mut seq = self.tx_next_seq;
        'items: for (i, item) in self.tx.iter().enumerate() {
            if !matches!(item, OutItem::Hello(_)) && !self.may_send_frames() {
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
            if let OutItem::Hello(_) = item {
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
        match item {
            OutItem::Data { tag, buf, .. } => {
                let total = buf.as_ref().len();
                let start = (frame as usize * self.frame_payload).min(total);
                let len = (total - start).min(self.frame_payload);
                FrameRepr {
                    kind: FrameKind::Data,
                    len: len as u32,
                    seq,
                    tag: *tag,
                    aux: total as u64,
                }
            }
            OutItem::Close { reason } => FrameRepr {
                kind: FrameKind::Close,
                len: 0,
                seq,
                tag: 0,
                aux: *reason,
            },
            OutItem::Abort { code } => FrameRepr {
                kind: FrameKind::Abort,
                len: 0,
                seq,
                tag: 0,
                aux: i64::from(*code) as u64,
            },
            // Never framed: write_once sends a hello as it is.
            OutItem::Hello(_) => FrameRepr {
                kind: FrameKind::Close,
                len: 0,
                seq,
                tag: 0,
                aux: 0,
            },
        }
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
            Instant::default(),
        );
        link.attach(a, [9; HELLO_LEN], RxPhase::Header);
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
