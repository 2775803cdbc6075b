//! The receive side of a link: staging, opening records, parsing frames and
//! handing payload to where each message goes.
//!
//! Bytes arrive into a staging buffer and are parsed from there; a large
//! payload whose receive is known is read straight into its destination
//! instead. On a secure link the socket's bytes are records: they arrive in
//! the staging buffer too, behind the plaintext not yet parsed, and each is
//! opened where it lies, its plaintext landing right behind that plaintext
//! (with ring, in the AEAD's own pass), so the parser reads a secure link's
//! frames as it would a plaintext stream.

use crate::error::{LinkError, Misbehaviour, SecurityError};
use crate::matching::UnexpectedKey;
use crate::rank::Rank;
use crate::request::RequestId;
use crate::secure::{Channel, SecureError};
use crate::socket::{Socket, SocketError};
use crate::stats::LinkStats;
use crate::wire::{
    FrameHeader, FrameKind, FrameRepr, Record, FRAME_HEADER_LEN, HELLO_LEN, MAX_RECORD_BODY,
    RECORD_PREFIX_LEN,
};
use crate::MAX_FRAME_PAYLOAD;
use alloc::vec;
use alloc::vec::Vec;

/// Bytes of socket data buffered ahead of parsing: on a secure link, room
/// for several records, so that the partial record left at the end of a
/// read, moved to the front before the next, is a small share of the bytes.
pub(crate) const STAGING_LEN: usize = 256 * 1024;
/// A secure link reads only with room for at least one whole record.
const RECORD_ROOM: usize = RECORD_PREFIX_LEN + MAX_RECORD_BODY;
/// Payloads at least this long are read straight into their destination.
const DIRECT_READ_MIN: usize = 16 * 1024;
/// Bytes of a payload nobody will keep (beyond a receive's buffer) read at once.
const DISCARD_LEN: usize = 4096;
/// Messages at least this long wait in the socket for their receive (see
/// [`Receive::set_may_hold`]); a shorter one costs little to copy.
const HOLD_MIN: u64 = 64 * 1024;

/// The message currently arriving on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inbound {
    pub tag: u32,
    pub len: u64,
    pub received: u64,
    pub sink: Sink,
}

/// Where an arriving message's bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The endpoint's side of delivery: matching an arriving message to its
/// receive, and the memory its bytes go to.
pub(crate) trait Deliver {
    /// A message from `peer` begins: where its bytes go. `None` when the
    /// unexpected queue has no room for it.
    fn begin(&mut self, peer: Rank, tag: u32, len: u64) -> Option<Sink>;
    /// Would a posted receive take a message from `peer` now?
    fn receives_from(&self, peer: Rank) -> bool;
    /// Memory for up to `max` more bytes of `inbound`, for a read straight
    /// from the socket; `None` if they are to be dropped (a receive's
    /// buffer is full).
    fn region(&mut self, inbound: &Inbound, max: usize) -> Option<&mut [u8]>;
    /// The message's bytes end at `len` for now: a direct read filled less
    /// than it offered, or a frame's start was taken back. (A receive's
    /// buffer keeps its size; only what the endpoint grew shrinks.)
    fn truncate(&mut self, sink: Sink, len: usize);
    /// Copies bytes that arrived through staging to where the message goes.
    fn write(&mut self, inbound: &Inbound, src: &[u8]);
    /// The message from `peer` arrived in full.
    fn finish(&mut self, peer: Rank, inbound: Inbound);
}

/// A unit the parser took from the stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// The peer's hello (its bytes, to bind into the handshake).
    Hello([u8; HELLO_LEN]),
    /// A Noise handshake message, without its prefix.
    Handshake(Vec<u8>),
    /// A frame header; its payload, if any, is delivered as it arrives.
    Frame(FrameRepr),
    /// A message ended (its last payload byte was delivered).
    MessageDone(Inbound),
}

/// The outcome of one socket read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Nothing arrived (or, on a secure link, nothing opened).
    Nothing,
    /// Bytes arrived or records opened.
    Moved,
    /// The peer ended the connection.
    End,
}

impl Inbound {
    fn holds(&self, key: UnexpectedKey) -> bool {
        self.sink == Sink::Unexpected(key)
    }
}

/// The receive state of one link.
#[derive(Debug)]
pub(crate) struct Receive {
    staging: Vec<u8>,
    start: usize,
    end: usize,
    phase: RxPhase,
    next_seq: u64,
    /// Payload length of the frame being received, to undo a partial frame.
    frame_len: usize,
    inbound: Option<Inbound>,
    /// Records not yet opened, in `staging[sealed_start..sealed_end]`
    /// (secure links only; `end <= sealed_start`).
    sealed_start: usize,
    sealed_end: usize,
    /// A failure found behind records still to be delivered.
    failure: Option<LinkError>,
    discard: Vec<u8>,
    /// The parser may stop at a large message nobody receives yet.
    may_hold: bool,
    /// It has: that message's first header is the next staged unit, and
    /// nothing more is read until it goes on.
    holding: bool,
    /// A hold ran out: the application is not receiving from this peer
    /// soon, so the messages behind go on unheld until it posts a receive
    /// from it (else a stream of large messages would stall at each one).
    hold_spent: bool,
}

impl Receive {
    pub fn new() -> Self {
        Receive {
            staging: Vec::new(),
            start: 0,
            end: 0,
            phase: RxPhase::Hello,
            next_seq: 0,
            frame_len: 0,
            inbound: None,
            sealed_start: 0,
            sealed_end: 0,
            failure: None,
            discard: Vec::new(),
            may_hold: true,
            holding: false,
            hold_spent: false,
        }
    }

    /// A new connection, whose first bytes are of `phase`.
    pub fn attach(&mut self, phase: RxPhase) {
        if self.staging.is_empty() {
            self.staging = vec![0; STAGING_LEN];
        }
        self.start = 0;
        self.end = 0;
        self.sealed_start = 0;
        self.sealed_end = 0;
        self.phase = phase;
        self.holding = false;
    }

    /// The connection is gone: records not yet opened go with it.
    pub fn detach(&mut self) {
        self.sealed_start = self.end;
        self.sealed_end = self.end;
        self.failure = None;
    }

    pub fn set_phase(&mut self, phase: RxPhase) {
        self.phase = phase;
    }

    /// Switches to the secure channel: raw bytes that arrived behind the
    /// last handshake message are records, to be opened where they are.
    pub fn start_channel(&mut self) {
        self.sealed_start = self.start;
        self.sealed_end = self.end;
        self.end = self.start;
        self.phase = RxPhase::Header;
    }

    /// Lets the parser stop at the first frame of a large message (at
    /// least [`HOLD_MIN`] bytes) from a peer no posted receive takes from,
    /// leaving the message in the socket: its receive, usually posted soon
    /// after (the party is finishing a round), then gets it straight from
    /// the socket instead of through the unexpected queue and one more full
    /// copy. The link allows it on plaintext links (see
    /// `Link::may_hold`), for a short while only, because frames
    /// behind the message (a smaller message, an acknowledgement) wait too:
    /// then the message goes to the unexpected queue, as any other would,
    /// and so do the large messages behind it until a receive from the
    /// peer is posted again.
    pub fn set_may_hold(&mut self, may_hold: bool) {
        self.may_hold = may_hold;
    }

    /// Is the parser stopped at a message that waits for its receive?
    pub fn holding(&self) -> bool {
        self.holding
    }

    /// The message arriving now, if one is.
    pub fn inbound(&self) -> Option<Inbound> {
        self.inbound
    }

    /// Takes the message arriving now away, for a link that has ended.
    pub fn take_inbound(&mut self) -> Option<Inbound> {
        self.inbound.take()
    }

    /// Sends the rest of the message filling unexpected entry `key` to
    /// `sink` instead; false if this link is not filling it.
    pub fn redirect(&mut self, key: UnexpectedKey, sink: Sink) -> bool {
        match self.inbound.as_mut() {
            Some(inbound) if inbound.holds(key) => {
                inbound.sink = sink;
                true
            }
            _ => false,
        }
    }

    /// True if this link is filling unexpected entry `key`.
    pub fn fills(&self, key: UnexpectedKey) -> bool {
        self.inbound.is_some_and(|i| i.holds(key))
    }

    /// Frames received in full: what an acknowledgement or a resume point
    /// names. A frame whose payload is still arriving does not count, so it
    /// is sent again whole if the connection breaks.
    pub fn frames_received(&self) -> u64 {
        match self.phase {
            RxPhase::Payload { frame_left } if frame_left > 0 => self.next_seq - 1,
            _ => self.next_seq,
        }
    }

    /// Forgets the part of a frame that had arrived when the connection
    /// broke: its sender writes it again whole.
    pub fn forget_partial_frame(&mut self, deliver: &mut impl Deliver) {
        let RxPhase::Payload { frame_left } = self.phase else {
            return;
        };
        self.phase = RxPhase::Header;
        if frame_left == 0 {
            return;
        }
        self.next_seq -= 1;
        let arrived = (self.frame_len - frame_left) as u64;
        if let Some(inbound) = self.inbound.as_mut() {
            inbound.received -= arrived;
            if arrived > 0 {
                deliver.truncate(inbound.sink, inbound.received as usize);
            }
        }
    }

    /// Checks a numbered frame's place in the stream and counts it.
    pub fn number_frame(&mut self, repr: &FrameRepr) -> Result<(), LinkError> {
        if repr.seq != self.next_seq {
            return Err(Misbehaviour::SequenceGap {
                expected: self.next_seq,
                got: repr.seq,
            }
            .into());
        }
        self.next_seq += 1;
        Ok(())
    }

    /// A data frame from `peer` begins: its message's first frame asks the
    /// endpoint where the bytes go, later ones must continue it.
    pub fn begin_data(
        &mut self,
        peer: Rank,
        repr: &FrameRepr,
        deliver: &mut impl Deliver,
    ) -> Result<(), LinkError> {
        let inbound = match self.inbound {
            None => {
                let sink = deliver
                    .begin(peer, repr.tag, repr.aux)
                    .ok_or(LinkError::UnexpectedQueueFull)?;
                Inbound {
                    tag: repr.tag,
                    len: repr.aux,
                    received: 0,
                    sink,
                }
            }
            Some(current) => {
                if current.tag != repr.tag || current.len != repr.aux || repr.len == 0 {
                    return Err(Misbehaviour::NotAContinuation.into());
                }
                current
            }
        };
        if inbound.received + u64::from(repr.len) > inbound.len {
            return Err(Misbehaviour::PastMessageEnd.into());
        }
        self.inbound = Some(inbound);
        self.frame_len = repr.len as usize;
        self.phase = RxPhase::Payload {
            frame_left: repr.len as usize,
        };
        Ok(())
    }

    /// Bytes staged and not yet parsed.
    fn staged(&self) -> &[u8] {
        &self.staging[self.start..self.end]
    }

    /// Moves staged bytes to the front when little room is left behind them.
    fn compact(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.staging.len() - self.end < FRAME_HEADER_LEN * 4 {
            self.staging.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Should the message whose first frame header is `repr` wait in the
    /// socket for its receive?
    fn waits_for_receive(&mut self, peer: Rank, repr: &FrameRepr, deliver: &impl Deliver) -> bool {
        if repr.kind != FrameKind::Data || self.inbound.is_some() || repr.aux < HOLD_MIN {
            return false;
        }
        if deliver.receives_from(peer) {
            self.hold_spent = false;
            return false;
        }
        if self.holding && !self.may_hold {
            self.hold_spent = true;
        }
        self.may_hold && !self.hold_spent
    }

    /// Takes the next unit from the staged bytes of `peer`'s stream,
    /// delivering payload bytes on the way; `None` when more bytes must
    /// arrive first, or while a message waits for its receive.
    pub fn next(
        &mut self,
        peer: Rank,
        deliver: &mut impl Deliver,
    ) -> Result<Option<Parsed>, LinkError> {
        loop {
            let staged = self.staged().len();
            match self.phase {
                RxPhase::Hello => {
                    if staged < HELLO_LEN {
                        return Ok(None);
                    }
                    let mut bytes = [0u8; HELLO_LEN];
                    bytes.copy_from_slice(&self.staged()[..HELLO_LEN]);
                    self.start += HELLO_LEN;
                    return Ok(Some(Parsed::Hello(bytes)));
                }
                RxPhase::Handshake => {
                    let Ok(record) = Record::new_checked(self.staged()) else {
                        return Ok(None);
                    };
                    let Some(body) = record.body() else {
                        return Ok(None);
                    };
                    let message = body.to_vec();
                    self.start += record.total_len();
                    return Ok(Some(Parsed::Handshake(message)));
                }
                RxPhase::Header => {
                    if staged < FRAME_HEADER_LEN {
                        return Ok(None);
                    }
                    let view = FrameHeader::new_checked(self.staged())?;
                    let repr = FrameRepr::parse(&view, MAX_FRAME_PAYLOAD as u32)?;
                    self.holding = self.waits_for_receive(peer, &repr, deliver);
                    if self.holding {
                        return Ok(None);
                    }
                    self.start += FRAME_HEADER_LEN;
                    return Ok(Some(Parsed::Frame(repr)));
                }
                RxPhase::Payload { frame_left: 0 } => {
                    self.phase = RxPhase::Header;
                    match self.inbound {
                        Some(inbound) if inbound.received >= inbound.len => {
                            self.inbound = None;
                            return Ok(Some(Parsed::MessageDone(inbound)));
                        }
                        _ => continue,
                    }
                }
                RxPhase::Payload { frame_left } => {
                    if staged == 0 {
                        return Ok(None);
                    }
                    let n = staged.min(frame_left);
                    let Some(inbound) = self.inbound.as_mut() else {
                        return Err(Misbehaviour::PayloadWithoutMessage.into());
                    };
                    let src = &self.staging[self.start..self.start + n];
                    deliver.write(inbound, src);
                    inbound.received += n as u64;
                    self.start += n;
                    self.phase = RxPhase::Payload {
                        frame_left: frame_left - n,
                    };
                }
            }
        }
    }

    /// One socket read: straight into the destination for a large payload,
    /// else into the staging buffer; on a secure link, ciphertext into the
    /// sealed input, opening what is complete.
    pub fn read<S: Socket>(
        &mut self,
        socket: &mut S,
        channel: Option<&mut Channel>,
        deliver: &mut impl Deliver,
        stats: &mut LinkStats,
    ) -> Result<Read, LinkError> {
        if self.holding {
            return Ok(Read::Nothing);
        }
        if let Some(channel) = channel {
            return self.read_sealed(socket, channel, stats);
        }
        self.compact();
        let direct = match (self.phase, self.inbound) {
            (RxPhase::Payload { frame_left }, Some(inbound))
                if frame_left >= DIRECT_READ_MIN && self.start == self.end =>
            {
                Some((frame_left, inbound))
            }
            _ => None,
        };
        // A direct read pulls in at most the next frame's header behind the
        // payload: more would land payload bytes in staging, to be copied again.
        let spare_len = match direct {
            Some(_) => FRAME_HEADER_LEN.min(self.staging.len() - self.end),
            None => self.staging.len() - self.end,
        };
        let spare = &mut self.staging[self.end..self.end + spare_len];
        let (result, into_payload) = match direct {
            Some((frame_left, inbound)) => {
                if self.discard.is_empty() {
                    self.discard = vec![0; DISCARD_LEN];
                }
                let region = match deliver.region(&inbound, frame_left) {
                    Some(region) => region,
                    None => {
                        let n = self.discard.len().min(frame_left);
                        &mut self.discard[..n]
                    }
                };
                let region_len = region.len();
                let r = socket.read_vectored(&mut [region, spare]);
                let got = r.as_ref().map_or(0, |&n| n.min(region_len));
                deliver.truncate(inbound.sink, inbound.received as usize + got);
                (r, got)
            }
            None => (socket.read_vectored(&mut [spare]), 0),
        };
        let n = match result {
            Ok(0) => return Ok(Read::End),
            Ok(n) => n,
            Err(SocketError::WouldBlock) => return Ok(Read::Nothing),
            Err(e) => return Err(e.into()),
        };
        stats.bytes_received += n as u64;
        self.end += n - into_payload;
        if into_payload > 0 {
            if let (RxPhase::Payload { frame_left }, Some(inbound)) =
                (self.phase, self.inbound.as_mut())
            {
                inbound.received += into_payload as u64;
                self.phase = RxPhase::Payload {
                    frame_left: frame_left - into_payload,
                };
            }
        }
        Ok(Read::Moved)
    }

    /// Reads records behind those not yet opened, and opens every
    /// complete one.
    fn read_sealed<S: Socket>(
        &mut self,
        socket: &mut S,
        channel: &mut Channel,
        stats: &mut LinkStats,
    ) -> Result<Read, LinkError> {
        if let Some(failure) = self.failure.take() {
            return Err(failure);
        }
        // Records that arrived behind the handshake, or behind a bad one,
        // are parsed before anything more is read: a read's failure or end
        // of stream must not overtake genuine frames already here.
        let opened = self.open_records(channel)?;
        if opened > 0 {
            return Ok(Read::Moved);
        }
        self.compact_sealed();
        if self.sealed_end == self.staging.len() {
            // Only a parser that stopped short leaves this little room.
            return Ok(Read::Nothing);
        }
        match socket.read_vectored(&mut [&mut self.staging[self.sealed_end..]]) {
            Ok(0) => Ok(Read::End),
            Ok(n) => {
                self.sealed_end += n;
                stats.bytes_received += n as u64;
                self.open_records(channel)?;
                Ok(Read::Moved)
            }
            Err(SocketError::WouldBlock) => Ok(Read::Nothing),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves the plaintext not yet parsed and the records not yet opened to
    /// the front, closing the gap between them, when less than a record's
    /// room is left behind them.
    fn compact_sealed(&mut self) {
        if self.staging.len() - self.sealed_end >= RECORD_ROOM {
            return;
        }
        let plain = self.end - self.start;
        let sealed = self.sealed_end - self.sealed_start;
        self.staging.copy_within(self.start..self.end, 0);
        self.staging
            .copy_within(self.sealed_start..self.sealed_end, plain);
        self.start = 0;
        self.end = plain;
        self.sealed_start = plain;
        self.sealed_end = plain + sealed;
    }

    /// Opens the complete records at the front of those not yet opened,
    /// each where it lies, its plaintext landing behind the staged bytes.
    fn open_records(&mut self, channel: &mut Channel) -> Result<usize, LinkError> {
        let mut opened = 0;
        while self.failure.is_none() {
            let sealed = &self.staging[self.sealed_start..self.sealed_end];
            let Ok(record) = Record::new_checked(sealed) else {
                break;
            };
            if record.body().is_none() {
                break;
            }
            let record_end = self.sealed_start + record.total_len();
            let body_at = self.sealed_start + RECORD_PREFIX_LEN - self.end;
            let in_out = &mut self.staging[self.end..record_end];
            let n = match channel.open_within(in_out, body_at) {
                Ok(n) => n,
                // Records opened before this one are genuine: let the parser
                // deliver them, and fail the link on the next read.
                Err(e) if opened > 0 => {
                    self.failure = Some(open_failure(e));
                    break;
                }
                Err(e) => return Err(open_failure(e)),
            };
            self.end += n;
            self.sealed_start = record_end;
            opened += n;
        }
        if self.sealed_start == self.sealed_end && self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.sealed_start = 0;
            self.sealed_end = 0;
        }
        Ok(opened)
    }
}

/// Why a record would not open: a record too short to hold a tag is as
/// forged as one whose tag is wrong.
fn open_failure(e: SecureError) -> LinkError {
    match e {
        SecureError::NoncesExhausted => e.into(),
        _ => SecurityError::RecordRejected.into(),
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::testing::MemSocket;

    /// A stand-in for the endpoint: every message goes to one buffer.
    #[derive(Default)]
    struct Collect {
        messages: Vec<(u32, Vec<u8>)>,
        current: Vec<u8>,
        refuse: bool,
        /// No receive is posted (so a large message may be held).
        nobody_receives: bool,
    }

    impl Deliver for Collect {
        fn begin(&mut self, _peer: Rank, _tag: u32, len: u64) -> Option<Sink> {
            self.current = Vec::with_capacity(len as usize);
            (!self.refuse).then_some(Sink::Request {
                id: RequestId::from_bits(1).unwrap(),
                capacity: len as usize,
            })
        }
        fn receives_from(&self, _peer: Rank) -> bool {
            !self.nobody_receives
        }
        fn region(&mut self, inbound: &Inbound, max: usize) -> Option<&mut [u8]> {
            let at = inbound.received as usize;
            self.current.resize(at + max, 0);
            Some(&mut self.current[at..])
        }
        fn truncate(&mut self, _sink: Sink, len: usize) {
            self.current.truncate(len);
        }
        fn write(&mut self, _inbound: &Inbound, src: &[u8]) {
            self.current.extend_from_slice(src);
        }
        fn finish(&mut self, _peer: Rank, inbound: Inbound) {
            let data = core::mem::take(&mut self.current);
            self.messages.push((inbound.tag, data));
        }
    }

    fn peer() -> Rank {
        Rank::new(1).unwrap()
    }

    fn frame(seq: u64, tag: u32, total: usize, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; FRAME_HEADER_LEN];
        FrameRepr {
            kind: FrameKind::Data,
            len: payload.len() as u32,
            seq,
            tag,
            aux: total as u64,
        }
        .emit(&mut out)
        .unwrap();
        out.extend_from_slice(payload);
        out
    }

    /// Reads and parses everything the socket holds, as the link does.
    fn pump(
        rx: &mut Receive,
        socket: &mut MemSocket,
        deliver: &mut Collect,
    ) -> Result<Vec<FrameRepr>, LinkError> {
        pump_through(rx, socket, None, deliver)
    }

    /// [`pump`] through a secure channel's receiving end, if given.
    fn pump_through(
        rx: &mut Receive,
        socket: &mut MemSocket,
        mut channel: Option<&mut Channel>,
        deliver: &mut Collect,
    ) -> Result<Vec<FrameRepr>, LinkError> {
        let mut headers = Vec::new();
        let mut stats = LinkStats::default();
        loop {
            while let Some(parsed) = rx.next(peer(), deliver)? {
                match parsed {
                    Parsed::Frame(repr) => {
                        rx.number_frame(&repr)?;
                        rx.begin_data(peer(), &repr, deliver)?;
                        headers.push(repr);
                    }
                    Parsed::MessageDone(inbound) => deliver.finish(peer(), inbound),
                    other => panic!("unexpected {other:?}"),
                }
            }
            match rx.read(socket, channel.as_deref_mut(), deliver, &mut stats)? {
                Read::Moved => {}
                Read::Nothing | Read::End => return Ok(headers),
            }
        }
    }

    fn receiver() -> (Receive, MemSocket, MemSocket) {
        let mut rx = Receive::new();
        rx.attach(RxPhase::Header);
        let (ours, far) = MemSocket::pair(1 << 22);
        (rx, ours, far)
    }

    #[test]
    fn frames_reassemble_messages_in_any_read_sizes() {
        let (mut rx, mut ours, mut far) = receiver();
        let mut stream = frame(0, 5, 6, &[1, 2, 3, 4]);
        stream.extend(frame(1, 5, 6, &[5, 6]));
        stream.extend(frame(2, 9, 0, &[]));
        let mut deliver = Collect::default();
        for byte in stream {
            far.inject(&[byte]);
            pump(&mut rx, &mut ours, &mut deliver).unwrap();
        }
        assert_eq!(
            deliver.messages,
            [(5, vec![1, 2, 3, 4, 5, 6]), (9, vec![])],
            "byte-at-a-time arrival makes the same messages"
        );
        assert_eq!(rx.frames_received(), 3);
    }

    #[test]
    fn a_large_payload_is_read_straight_into_place() {
        let (mut rx, mut ours, mut far) = receiver();
        let payload: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        far.inject(&frame(0, 1, payload.len(), &payload));
        let mut deliver = Collect::default();
        pump(&mut rx, &mut ours, &mut deliver).unwrap();
        assert_eq!(deliver.messages, [(1, payload)]);
    }

    #[test]
    fn reordered_or_dropped_frames_are_a_sequence_gap() {
        let (mut rx, mut ours, mut far) = receiver();
        far.inject(&frame(1, 1, 1, &[7]));
        let err = pump(&mut rx, &mut ours, &mut Collect::default()).unwrap_err();
        assert_eq!(
            err,
            LinkError::Misbehaviour(Misbehaviour::SequenceGap {
                expected: 0,
                got: 1
            })
        );
    }

    #[test]
    fn a_frame_that_does_not_continue_its_message_is_refused() {
        for (tag, total, payload) in [(2, 8, &[0u8; 4][..]), (1, 9, &[0; 4]), (1, 8, &[])] {
            let (mut rx, mut ours, mut far) = receiver();
            far.inject(&frame(0, 1, 8, &[0; 4]));
            far.inject(&frame(1, tag, total, payload));
            let err = pump(&mut rx, &mut ours, &mut Collect::default()).unwrap_err();
            assert_eq!(
                err,
                Misbehaviour::NotAContinuation.into(),
                "tag {tag} total {total}"
            );
        }
        let (mut rx, mut ours, mut far) = receiver();
        far.inject(&frame(0, 1, 8, &[0; 4]));
        far.inject(&frame(1, 1, 8, &[0; 8]));
        let err = pump(&mut rx, &mut ours, &mut Collect::default()).unwrap_err();
        assert_eq!(
            err,
            Misbehaviour::PastMessageEnd.into(),
            "runs past its message's end"
        );
    }

    #[test]
    fn a_truncated_stream_delivers_nothing_partial() {
        let (mut rx, mut ours, mut far) = receiver();
        let whole = frame(0, 1, 8, &[3; 8]);
        far.inject(&whole[..whole.len() - 1]);
        let mut deliver = Collect::default();
        pump(&mut rx, &mut ours, &mut deliver).unwrap();
        assert!(deliver.messages.is_empty());
        assert_eq!(
            rx.frames_received(),
            0,
            "a frame still arriving is not counted"
        );
        // The connection breaks: the partial frame is taken back whole.
        rx.forget_partial_frame(&mut deliver);
        assert!(deliver.current.is_empty());
        rx.attach(RxPhase::Header);
        far.inject(&whole);
        pump(&mut rx, &mut ours, &mut deliver).unwrap();
        assert_eq!(deliver.messages, [(1, vec![3; 8])]);
    }

    #[test]
    fn a_full_unexpected_queue_is_named() {
        let (mut rx, mut ours, mut far) = receiver();
        far.inject(&frame(0, 1, 1, &[1]));
        let mut deliver = Collect {
            refuse: true,
            ..Collect::default()
        };
        let err = pump(&mut rx, &mut ours, &mut deliver).unwrap_err();
        assert_eq!(err, LinkError::UnexpectedQueueFull);
    }

    /// A secure receiver, and the sender's channel and records.
    fn secure_receiver() -> (Receive, MemSocket, MemSocket, Channel, Channel) {
        let (mut rx, ours, far) = receiver();
        rx.attach(RxPhase::Handshake);
        rx.start_channel();
        let (sending, receiving) = crate::secure::test_channel_pair();
        (rx, ours, far, sending, receiving)
    }

    /// Seals each frame as one record; the records, each with its prefix.
    fn seal(channel: &mut Channel, frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
        frames
            .iter()
            .map(|f| {
                let mut record = Vec::new();
                channel.seal(f, &mut record).unwrap();
                record
            })
            .collect()
    }

    #[test]
    fn records_open_into_frames_and_messages() {
        let (mut rx, mut ours, mut far, mut sending, mut receiving) = secure_receiver();
        let records = seal(
            &mut sending,
            &[frame(0, 3, 4, &[1, 2]), frame(1, 3, 4, &[3, 4])],
        );
        for record in &records {
            far.inject(record);
        }
        let mut deliver = Collect::default();
        pump_through(&mut rx, &mut ours, Some(&mut receiving), &mut deliver).unwrap();
        assert_eq!(deliver.messages, [(3, vec![1, 2, 3, 4])]);
    }

    #[test]
    fn altered_replayed_and_dropped_records_are_rejected() {
        let rejected = LinkError::Security(SecurityError::RecordRejected);
        let frames = [frame(0, 1, 1, &[1]), frame(1, 1, 1, &[2])];
        // A flipped bit.
        let (mut rx, mut ours, mut far, mut sending, mut receiving) = secure_receiver();
        let mut records = seal(&mut sending, &frames);
        records[0][RECORD_PREFIX_LEN + 3] ^= 0x10;
        far.inject(&records[0]);
        let err = pump_through(
            &mut rx,
            &mut ours,
            Some(&mut receiving),
            &mut Collect::default(),
        );
        assert_eq!(err, Err(rejected), "altered");
        // The same record twice.
        let (mut rx, mut ours, mut far, mut sending, mut receiving) = secure_receiver();
        let records = seal(&mut sending, &frames);
        far.inject(&records[0]);
        far.inject(&records[0]);
        let mut deliver = Collect::default();
        let err = pump_through(&mut rx, &mut ours, Some(&mut receiving), &mut deliver);
        assert_eq!(err, Err(rejected), "replayed");
        assert_eq!(
            deliver.messages,
            [(1, vec![1])],
            "the genuine one came first"
        );
        // The first record lost: the second does not open.
        let (mut rx, mut ours, mut far, mut sending, mut receiving) = secure_receiver();
        let records = seal(&mut sending, &frames);
        far.inject(&records[1]);
        let mut deliver = Collect::default();
        let err = pump_through(&mut rx, &mut ours, Some(&mut receiving), &mut deliver);
        assert_eq!(err, Err(rejected), "dropped or reordered");
        assert!(deliver.messages.is_empty());
    }

    #[test]
    fn a_record_cut_short_waits_and_opens_nothing() {
        let (mut rx, mut ours, mut far, mut sending, mut receiving) = secure_receiver();
        let records = seal(&mut sending, &[frame(0, 1, 2, &[5, 6])]);
        let (head, tail) = records[0].split_at(records[0].len() - 1);
        far.inject(head);
        let mut deliver = Collect::default();
        pump_through(&mut rx, &mut ours, Some(&mut receiving), &mut deliver).unwrap();
        assert!(deliver.messages.is_empty());
        far.inject(tail);
        pump_through(&mut rx, &mut ours, Some(&mut receiving), &mut deliver).unwrap();
        assert_eq!(deliver.messages, [(1, vec![5, 6])]);
    }

    #[test]
    fn records_behind_the_handshake_are_delivered_before_a_bad_one_fails_the_link() {
        let (mut rx, mut ours, mut far) = receiver();
        let (mut sending, mut receiving) = crate::secure::test_channel_pair();
        rx.attach(RxPhase::Handshake);
        let records = seal(
            &mut sending,
            &[frame(0, 1, 2, &[5, 6]), frame(1, 2, 1, &[7])],
        );
        // The first record came in the same read as the last handshake message.
        rx.staging[..records[0].len()].copy_from_slice(&records[0]);
        rx.end = records[0].len();
        rx.start_channel();
        let mut bad = records[1].clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        far.inject(&bad);
        let mut deliver = Collect::default();
        let result = pump_through(&mut rx, &mut ours, Some(&mut receiving), &mut deliver);
        assert_eq!(deliver.messages, [(1, vec![5, 6])]);
        assert_eq!(
            result.unwrap_err(),
            LinkError::Security(SecurityError::RecordRejected)
        );
    }

    #[test]
    fn handshake_messages_wait_for_their_whole_record() {
        let (mut rx, _ours, mut far) = receiver();
        rx.attach(RxPhase::Handshake);
        let _ = &mut far;
        rx.staging[..4].copy_from_slice(&[0, 3, 7, 8]);
        rx.end = 4;
        assert_eq!(rx.next(peer(), &mut Collect::default()), Ok(None));
        rx.staging[4] = 9;
        rx.end = 5;
        assert_eq!(
            rx.next(peer(), &mut Collect::default()),
            Ok(Some(Parsed::Handshake(vec![7, 8, 9])))
        );
    }
}
