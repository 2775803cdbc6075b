//! MPI-style message matching.
//!
//! A receive names a source (or any source) and a tag (or any application
//! tag). An arriving message goes to the earliest-posted receive that matches
//! it; a receive takes the earliest-arrived message that matches it. Because
//! both queues are first-in first-out and a link delivers messages in the order
//! they were sent, messages between a pair with the same tag never overtake
//! each other.
//!
//! Messages that arrive before their receive wait in the unexpected queue,
//! which is bounded in count and bytes: exceeding either is an error, never
//! unbounded growth.

use crate::rank::Rank;
use crate::request::RequestId;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Tags at or above this value are reserved for ternion's own collectives;
/// applications use `0..FIRST_RESERVED_TAG` (the range of a non-negative C `int`).
pub const FIRST_RESERVED_TAG: u32 = 1 << 31;

/// Which sender a receive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Only this party.
    Rank(Rank),
    /// Whichever party's matching message comes first.
    Any,
}

/// Which tags a receive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagFilter {
    /// Exactly this tag.
    Tag(u32),
    /// Any application tag (never a reserved one).
    Any,
}

impl Source {
    fn accepts(self, from: Rank) -> bool {
        match self {
            Source::Rank(r) => r == from,
            Source::Any => true,
        }
    }
}

impl TagFilter {
    fn accepts(self, tag: u32) -> bool {
        match self {
            TagFilter::Tag(t) => t == tag,
            TagFilter::Any => tag < FIRST_RESERVED_TAG,
        }
    }
}

/// A receive waiting for its message.
#[derive(Debug, Clone, Copy)]
struct Posted {
    id: RequestId,
    source: Source,
    tag: TagFilter,
}

/// Identifies one unexpected message while it is still arriving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnexpectedKey(u64);

/// A message that arrived (or is arriving) before a receive asked for it.
#[derive(Debug)]
pub(crate) struct Unexpected {
    key: UnexpectedKey,
    pub source: Rank,
    pub tag: u32,
    pub len: u64,
    /// A receive posted while the message was still arriving.
    pub claimed_by: Option<RequestId>,
    /// The message's bytes so far are `buf[..filled]`. The rest of `buf` is
    /// initialised memory, written over as bytes arrive: a buffer grows (and
    /// is zeroed) once, not before every read into it, and a recycled one
    /// is never zeroed again.
    buf: Vec<u8>,
    filled: usize,
}

impl Unexpected {
    /// Is every byte of the message here?
    pub fn is_complete(&self) -> bool {
        self.filled as u64 == self.len
    }

    /// The message's bytes that have arrived.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// Room for `max` bytes from offset `at`, for a read straight into it.
    pub fn room_at(&mut self, at: usize, max: usize) -> &mut [u8] {
        let end = at.saturating_add(max);
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        &mut self.buf[at..end]
    }

    /// The message's bytes end at `len` for now (after a read into
    /// [`Unexpected::room_at`], or when a frame's start is taken back).
    pub fn set_filled(&mut self, len: usize) {
        self.filled = len.min(self.buf.len());
    }

    /// Appends bytes that came through the link's staging buffer.
    pub fn append(&mut self, src: &[u8]) {
        let at = self.filled;
        self.room_at(at, src.len()).copy_from_slice(src);
        self.filled += src.len();
    }

    /// The buffer, for [`Matcher::recycle`].
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }
}

/// What a newly posted receive found.
pub(crate) enum PostOutcome {
    /// Nothing yet: the receive waits.
    Queued,
    /// A complete unexpected message, removed from the queue for the receive.
    Ready(Unexpected),
    /// A matching message, under this key, is still arriving; the receive
    /// completes with it.
    Claimed(UnexpectedKey),
}

/// Where an arriving message goes.
pub(crate) enum ArrivalOutcome {
    /// Into this posted receive.
    Posted(RequestId),
    /// Into the unexpected queue under this key.
    Unexpected(UnexpectedKey),
}

/// Both matching queues plus the bounds on the unexpected one.
#[derive(Debug)]
pub(crate) struct Matcher {
    posted: VecDeque<Posted>,
    unexpected: VecDeque<Unexpected>,
    unexpected_bytes: u64,
    next_key: u64,
    max_unexpected_messages: usize,
    max_unexpected_bytes: u64,
    /// The last unexpected buffer freed, kept for the next large arrival so
    /// its pages are not faulted in afresh every time.
    spare: Vec<u8>,
}

/// The largest buffer kept for reuse.
const MAX_SPARE: usize = 256 << 20;

/// The most an unexpected message's buffer reserves before its bytes
/// arrive. A message's length is only what its first frame header claims:
/// reserving all of it at once would let one 32-byte header take gigabytes
/// (up to the byte bound). Beyond this the buffer grows as bytes arrive, by
/// doubling: its memory stays within twice the bytes received (counting
/// the frame being read straight into it), and the copies made while
/// growing add up to less than the message.
const MAX_UP_FRONT_RESERVATION: usize = 1 << 20;

/// The unexpected queue is full (by its bounds, or memory ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueFull;

impl Matcher {
    pub fn new(max_unexpected_messages: usize, max_unexpected_bytes: u64) -> Self {
        Matcher {
            posted: VecDeque::new(),
            unexpected: VecDeque::new(),
            unexpected_bytes: 0,
            next_key: 0,
            max_unexpected_messages,
            max_unexpected_bytes,
            spare: Vec::new(),
        }
    }

    /// Keeps a freed unexpected buffer for reuse, if it is the largest seen
    /// (up to a bound).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() > self.spare.capacity() && buf.capacity() <= MAX_SPARE {
            self.spare = buf;
        }
    }

    /// Is a receive posted that would take a message from `peer`?
    pub fn receives_from(&self, peer: Rank) -> bool {
        self.posted.iter().any(|p| p.source.accepts(peer))
    }

    /// Posts a receive: matches it against the unexpected queue or queues it.
    pub fn post(&mut self, id: RequestId, source: Source, tag: TagFilter) -> PostOutcome {
        let found = self
            .unexpected
            .iter()
            .position(|u| u.claimed_by.is_none() && source.accepts(u.source) && tag.accepts(u.tag));
        match found {
            Some(i) if self.unexpected[i].is_complete() => match self.unexpected.remove(i) {
                Some(msg) => {
                    self.unexpected_bytes -= msg.len;
                    PostOutcome::Ready(msg)
                }
                None => PostOutcome::Queued,
            },
            Some(i) => {
                self.unexpected[i].claimed_by = Some(id);
                PostOutcome::Claimed(self.unexpected[i].key)
            }
            None => {
                self.posted.push_back(Posted { id, source, tag });
                PostOutcome::Queued
            }
        }
    }

    /// Routes a message whose first frame just arrived.
    pub fn arrive(&mut self, from: Rank, tag: u32, len: u64) -> Result<ArrivalOutcome, QueueFull> {
        if let Some(i) = self
            .posted
            .iter()
            .position(|p| p.source.accepts(from) && p.tag.accepts(tag))
        {
            if let Some(p) = self.posted.remove(i) {
                return Ok(ArrivalOutcome::Posted(p.id));
            }
        }
        let bytes = self.unexpected_bytes.saturating_add(len);
        if self.unexpected.len() >= self.max_unexpected_messages
            || bytes > self.max_unexpected_bytes
        {
            return Err(QueueFull);
        }
        // The bound counts the whole announced length, but memory is
        // reserved only for a first stretch of it: the rest may never come.
        let up_front = usize::try_from(len)
            .map_err(|_| QueueFull)?
            .min(MAX_UP_FRONT_RESERVATION);
        let mut buf = if self.spare.capacity() >= up_front {
            core::mem::take(&mut self.spare)
        } else {
            Vec::new()
        };
        buf.try_reserve_exact(up_front.saturating_sub(buf.len()))
            .map_err(|_| QueueFull)?;
        self.unexpected_bytes = bytes;
        let key = UnexpectedKey(self.next_key);
        self.next_key += 1;
        self.unexpected.push_back(Unexpected {
            key,
            source: from,
            tag,
            len,
            claimed_by: None,
            buf,
            filled: 0,
        });
        Ok(ArrivalOutcome::Unexpected(key))
    }

    /// The unexpected message under `key`, while it is arriving.
    pub fn unexpected_mut(&mut self, key: UnexpectedKey) -> Option<&mut Unexpected> {
        // The message being filled is among the most recent, so search from the back.
        self.unexpected.iter_mut().rev().find(|u| u.key == key)
    }

    /// Removes a finished unexpected message that a receive claimed mid-arrival.
    pub fn take_claimed(&mut self, key: UnexpectedKey) -> Option<Unexpected> {
        let i = self.unexpected.iter().rposition(|u| u.key == key)?;
        self.unexpected[i].claimed_by?;
        let msg = self.unexpected.remove(i)?;
        self.unexpected_bytes -= msg.len;
        Some(msg)
    }

    /// Drops an unexpected message that will never complete (its link failed).
    pub fn abandon(&mut self, key: UnexpectedKey) -> Option<RequestId> {
        let i = self.unexpected.iter().rposition(|u| u.key == key)?;
        let msg = self.unexpected.remove(i)?;
        self.unexpected_bytes -= msg.len;
        let claimed = msg.claimed_by;
        self.recycle(msg.into_buffer());
        claimed
    }

    /// Removes and returns the posted receives that only `peer` could satisfy.
    pub fn drain_posted_from(&mut self, peer: Rank) -> Vec<RequestId> {
        let mut out = Vec::new();
        self.posted.retain(|p| {
            let only_peer = p.source == Source::Rank(peer);
            if only_peer {
                out.push(p.id);
            }
            !only_peer
        });
        out
    }

    /// Removes and returns every posted receive (no party can satisfy them).
    pub fn drain_all_posted(&mut self) -> Vec<RequestId> {
        self.posted.drain(..).map(|p| p.id).collect()
    }

    /// Receives posted and waiting.
    pub fn posted_len(&self) -> usize {
        self.posted.len()
    }

    /// Messages in the unexpected queue, complete or arriving.
    #[cfg(test)]
    pub fn unexpected_len(&self) -> usize {
        self.unexpected.len()
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::request::Requests;

    fn ids(n: usize) -> Vec<RequestId> {
        let mut reqs: Requests<(), ()> = Requests::new();
        (0..n).map(|_| reqs.insert_send()).collect()
    }

    fn r(i: u8) -> Rank {
        Rank::new(i).unwrap()
    }

    #[test]
    fn arrivals_take_the_earliest_matching_receive() {
        let id = ids(3);
        let mut m = Matcher::new(8, 1 << 20);
        assert!(matches!(
            m.post(id[0], Source::Rank(r(1)), TagFilter::Tag(5)),
            PostOutcome::Queued
        ));
        assert!(matches!(
            m.post(id[1], Source::Any, TagFilter::Any),
            PostOutcome::Queued
        ));
        assert!(matches!(
            m.post(id[2], Source::Rank(r(1)), TagFilter::Tag(5)),
            PostOutcome::Queued
        ));
        // From rank 2: only the wildcard receive accepts it.
        assert!(matches!(m.arrive(r(2), 5, 1), Ok(ArrivalOutcome::Posted(x)) if x == id[1]));
        // From rank 1 tag 5: the first posted specific receive, then the second.
        assert!(matches!(m.arrive(r(1), 5, 1), Ok(ArrivalOutcome::Posted(x)) if x == id[0]));
        assert!(matches!(m.arrive(r(1), 5, 1), Ok(ArrivalOutcome::Posted(x)) if x == id[2]));
    }

    #[test]
    fn receives_take_the_earliest_matching_arrival() {
        let id = ids(2);
        let mut m = Matcher::new(8, 1 << 20);
        let Ok(ArrivalOutcome::Unexpected(first)) = m.arrive(r(1), 9, 2) else {
            panic!()
        };
        let Ok(ArrivalOutcome::Unexpected(_)) = m.arrive(r(1), 9, 0) else {
            panic!()
        };
        // The first message is still arriving: the receive claims it.
        assert!(matches!(
            m.post(id[0], Source::Rank(r(1)), TagFilter::Tag(9)),
            PostOutcome::Claimed(k) if k == first
        ));
        // The second is complete (zero length): it is handed over at once.
        let PostOutcome::Ready(msg) = m.post(id[1], Source::Any, TagFilter::Tag(9)) else {
            panic!()
        };
        assert_eq!(msg.len, 0);
        m.unexpected_mut(first).unwrap().append(&[1, 2]);
        let done = m.take_claimed(first).unwrap();
        assert_eq!(done.claimed_by, Some(id[0]));
        assert_eq!(m.unexpected_len(), 0);
    }

    #[test]
    fn wildcard_tag_never_matches_reserved_tags() {
        let id = ids(1);
        let mut m = Matcher::new(8, 1 << 20);
        m.post(id[0], Source::Any, TagFilter::Any);
        assert!(matches!(
            m.arrive(r(1), FIRST_RESERVED_TAG, 0),
            Ok(ArrivalOutcome::Unexpected(_))
        ));
    }

    #[test]
    fn an_announced_length_counts_in_full_but_reserves_little() {
        let mut m = Matcher::new(8, 8 << 30);
        // What one forged plaintext header can announce.
        let announced = 6u64 << 30;
        let Ok(ArrivalOutcome::Unexpected(key)) = m.arrive(r(1), 3, announced) else {
            panic!()
        };
        let arriving = m.unexpected_mut(key).unwrap();
        assert_eq!(arriving.len, announced);
        assert!(arriving.buf.capacity() <= MAX_UP_FRONT_RESERVATION);
        assert_eq!(
            m.arrive(r(2), 3, (2 << 30) + 1).err(),
            Some(QueueFull),
            "the byte bound counts the announced length"
        );
    }

    #[test]
    fn a_message_beyond_the_up_front_reservation_arrives_intact_in_pieces() {
        let id = ids(1);
        let mut m = Matcher::new(8, 1 << 30);
        let message: Vec<u8> = (0..3 * MAX_UP_FRONT_RESERVATION + 5)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let Ok(ArrivalOutcome::Unexpected(key)) = m.arrive(r(1), 3, message.len() as u64) else {
            panic!()
        };
        // The endpoint fills the buffer in both of its ways: copying from
        // its staging buffer, and reading straight into room it makes.
        for (i, piece) in message.chunks(200_003).enumerate() {
            let arriving = m.unexpected_mut(key).unwrap();
            let at = arriving.bytes().len();
            if i % 2 == 0 {
                arriving.append(piece);
            } else {
                arriving.room_at(at, piece.len()).copy_from_slice(piece);
                arriving.set_filled(at + piece.len());
            }
            let received = arriving.bytes().len();
            assert!(arriving.buf.capacity() <= 2 * received.max(MAX_UP_FRONT_RESERVATION));
        }
        let PostOutcome::Ready(msg) = m.post(id[0], Source::Rank(r(1)), TagFilter::Tag(3)) else {
            panic!("the whole message is here")
        };
        assert!(msg.bytes() == message, "the message arrived altered");
    }

    #[test]
    fn unexpected_queue_is_bounded() {
        let mut m = Matcher::new(2, 10);
        assert!(m.arrive(r(1), 0, 4).is_ok());
        assert_eq!(m.arrive(r(1), 0, 7).err(), Some(QueueFull), "byte bound");
        assert!(m.arrive(r(1), 0, 6).is_ok());
        assert_eq!(m.arrive(r(1), 0, 0).err(), Some(QueueFull), "count bound");
    }
}
