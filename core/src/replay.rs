//! The frames a link has sent and its peer has not yet acknowledged.
//!
//! Link resume needs them: when a connection breaks, whatever the peer did
//! not receive in full is written again on the next connection. A frame of
//! a small message is copied (header and payload, in plaintext: a resumed
//! secure link seals them again under its new keys) into a byte ring,
//! released from the front as acknowledgements arrive. A frame of a large
//! message is not copied: the link keeps the caller's buffer instead, lent
//! until the peer acknowledges the whole message, and makes the frame again
//! from it if it must. The ring's capacity bounds the copied bytes in
//! flight: a link whose ring is full writes no further small data frames
//! until the peer acknowledges some, so a slow or stalled peer slows the
//! sender down instead of growing memory.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

/// The first allocation; the ring grows by doubling up to its capacity, so
/// a link that only ever carries small messages stays small.
const INITIAL_RING: usize = 64 * 1024;

/// Why a peer's resume point cannot be honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfRange;

/// How one kept frame is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// Copied into the ring: this many bytes.
    Copied(usize),
    /// Made again from the lent message it belongs to.
    Lent,
}

/// The next frame to be written again after a reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsent {
    /// Its bytes were copied into the caller's buffer.
    Copied,
    /// Frame `seq` of a lent message: the caller makes it again.
    Lent { seq: u64 },
}

/// Sent frames kept until acknowledged.
#[derive(Debug)]
pub(crate) struct ReplayBuffer {
    ring: Vec<u8>,
    capacity: usize,
    /// Ring index of the oldest byte held.
    head: usize,
    /// Bytes held.
    len: usize,
    /// Every frame kept, oldest first.
    frames: VecDeque<Kept>,
    /// Sequence number of the oldest frame held.
    first_seq: u64,
    /// Frames at the back still to be written again after a reconnect.
    unsent_frames: usize,
    /// Ring bytes before the first of them (while there are any).
    unsent_offset: usize,
}

impl ReplayBuffer {
    /// A buffer that copies up to `capacity` bytes of data frames.
    pub fn new(capacity: usize) -> Self {
        ReplayBuffer {
            ring: Vec::new(),
            capacity,
            head: 0,
            len: 0,
            frames: VecDeque::new(),
            first_seq: 0,
            unsent_frames: 0,
            unsent_offset: 0,
        }
    }

    /// Bytes of data frames that may still be copied in.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.len)
    }

    /// True when every frame sent has been acknowledged.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Sequence number of the oldest frame held.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// Sequence number of the next frame to be added.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.frames.len() as u64
    }

    /// Frames that must be written again before any new frame.
    pub fn unsent_frames(&self) -> usize {
        self.unsent_frames
    }

    /// Copies one frame in, given in parts. Control frames may go past the
    /// capacity (by one header each): an abort or close is never held back.
    pub fn push(&mut self, parts: &[&[u8]]) {
        let frame_len: usize = parts.iter().map(|p| p.len()).sum();
        self.reserve(frame_len);
        let size = self.ring.len();
        let mut at = (self.head + self.len) % size;
        for part in parts {
            let first = part.len().min(size - at);
            self.ring[at..at + first].copy_from_slice(&part[..first]);
            self.ring[..part.len() - first].copy_from_slice(&part[first..]);
            at = (at + part.len()) % size;
        }
        self.len += frame_len;
        self.frames.push_back(Kept::Copied(frame_len));
    }

    /// Counts in one frame of a lent message, which costs the ring nothing.
    pub fn push_lent(&mut self) {
        self.frames.push_back(Kept::Lent);
    }

    /// Grows the ring, keeping its contents in order, until `more` bytes fit.
    fn reserve(&mut self, more: usize) {
        let need = self.len + more;
        if need <= self.ring.len() {
            return;
        }
        let size = (self.ring.len() * 2)
            .max(INITIAL_RING)
            .min(self.capacity)
            .max(need);
        let mut ring = vec![0; size];
        let (a, b) = self.slices(0, self.len);
        ring[..a.len()].copy_from_slice(a);
        ring[a.len()..a.len() + b.len()].copy_from_slice(b);
        self.ring = ring;
        self.head = 0;
    }

    /// Forgets every frame numbered below `seq`: the peer has it.
    pub fn release_below(&mut self, seq: u64) {
        while self.first_seq < seq {
            let was_unsent = self.frames.len() <= self.unsent_frames;
            let Some(kept) = self.frames.pop_front() else {
                break;
            };
            self.first_seq += 1;
            if was_unsent {
                self.unsent_frames -= 1;
            }
            if let Kept::Copied(frame_len) = kept {
                self.len -= frame_len;
                self.head = (self.head + frame_len) % self.ring.len().max(1);
                if !was_unsent && self.unsent_frames > 0 {
                    self.unsent_offset -= frame_len;
                }
            }
        }
    }

    /// Prepares a new connection whose peer expects frame `seq` next: frames
    /// below it are released and everything from it on is to be written again.
    pub fn rewind_to(&mut self, seq: u64) -> Result<(), OutOfRange> {
        if seq < self.first_seq || seq > self.end_seq() {
            return Err(OutOfRange);
        }
        self.release_below(seq);
        self.unsent_frames = self.frames.len();
        self.unsent_offset = 0;
        Ok(())
    }

    /// Takes the next frame to be written again and counts it written: a
    /// copied frame's bytes go into `out` (cleared first); a lent frame is
    /// named for the caller to make again. `None` when there is none.
    pub fn take_unsent_frame(&mut self, out: &mut Vec<u8>) -> Option<Unsent> {
        if self.unsent_frames == 0 {
            return None;
        }
        let index = self.frames.len() - self.unsent_frames;
        self.unsent_frames -= 1;
        match self.frames[index] {
            Kept::Lent => Some(Unsent::Lent {
                seq: self.first_seq + index as u64,
            }),
            Kept::Copied(frame_len) => {
                let (a, b) = self.slices(self.unsent_offset, frame_len);
                out.clear();
                out.extend_from_slice(a);
                out.extend_from_slice(b);
                self.unsent_offset += frame_len;
                Some(Unsent::Copied)
            }
        }
    }

    /// `len` bytes starting `offset` bytes after the oldest, as at most two
    /// slices (the ring may wrap).
    fn slices(&self, offset: usize, len: usize) -> (&[u8], &[u8]) {
        if len == 0 {
            return (&[], &[]);
        }
        let size = self.ring.len();
        let start = (self.head + offset) % size;
        let first = len.min(size - start);
        (&self.ring[start..start + first], &self.ring[..len - first])
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn frame(seq: u8, len: usize) -> Vec<u8> {
        (0..len).map(|i| seq.wrapping_add(i as u8)).collect()
    }

    /// Every frame still to be written again: copied bytes, or the lent
    /// frame's number.
    fn unsent(buffer: &mut ReplayBuffer) -> Vec<Result<Vec<u8>, u64>> {
        let mut out = Vec::new();
        let mut frames = Vec::new();
        while let Some(next) = buffer.take_unsent_frame(&mut out) {
            frames.push(match next {
                Unsent::Copied => Ok(out.clone()),
                Unsent::Lent { seq } => Err(seq),
            });
        }
        frames
    }

    #[test]
    fn frames_wrap_around_and_come_back_in_order() {
        let mut buffer = ReplayBuffer::new(INITIAL_RING);
        let big = INITIAL_RING / 3;
        for seq in 0..3 {
            buffer.push(&[&frame(seq, big)]);
        }
        buffer.release_below(2);
        assert_eq!(buffer.room(), INITIAL_RING - big);
        // These wrap past the end of the ring.
        buffer.push(&[&frame(3, 100), &frame(4, big - 100)]);
        buffer.push(&[&frame(5, 1000)]);
        assert_eq!(buffer.ring.len(), INITIAL_RING, "no growth needed");
        buffer.rewind_to(3).unwrap();
        assert_eq!(buffer.unsent_frames(), 2);
        assert_eq!(
            unsent(&mut buffer),
            [
                Ok([frame(3, 100), frame(4, big - 100)].concat()),
                Ok(frame(5, 1000))
            ]
        );
        assert_eq!(buffer.unsent_frames(), 0);
    }

    #[test]
    fn the_ring_grows_only_as_needed_and_keeps_order() {
        let mut buffer = ReplayBuffer::new(1 << 20);
        assert!(buffer.ring.is_empty());
        for seq in 0..40 {
            buffer.push(&[&frame(seq, 10_000)]);
        }
        assert!(buffer.ring.len() >= 400_000 && buffer.ring.len() <= 1 << 20);
        buffer.rewind_to(38).unwrap();
        assert_eq!(
            unsent(&mut buffer),
            [Ok(frame(38, 10_000)), Ok(frame(39, 10_000))]
        );
    }

    #[test]
    fn lent_frames_cost_no_room_and_come_back_in_their_place() {
        let mut buffer = ReplayBuffer::new(100);
        buffer.push(&[&frame(0, 40)]);
        buffer.push_lent();
        buffer.push_lent();
        buffer.push(&[&frame(3, 30)]);
        assert_eq!(buffer.room(), 30, "only the copied frames take room");
        assert_eq!(buffer.end_seq(), 4);
        buffer.rewind_to(0).unwrap();
        assert_eq!(
            unsent(&mut buffer),
            [Ok(frame(0, 40)), Err(1), Err(2), Ok(frame(3, 30))]
        );
        // Acknowledgements arriving while frames are written again release
        // the ones written and leave the rest to be written.
        buffer.rewind_to(0).unwrap();
        let mut out = Vec::new();
        assert_eq!(buffer.take_unsent_frame(&mut out), Some(Unsent::Copied));
        buffer.release_below(2);
        assert_eq!(buffer.unsent_frames(), 2);
        assert_eq!(unsent(&mut buffer), [Err(2), Ok(frame(3, 30))]);
        buffer.release_below(4);
        assert!(buffer.is_empty());
        assert_eq!(buffer.room(), 100);
    }

    #[test]
    fn resume_points_outside_what_is_kept_are_refused() {
        let mut buffer = ReplayBuffer::new(1 << 16);
        for seq in 0..5 {
            buffer.push(&[&frame(seq, 10)]);
        }
        buffer.release_below(2);
        assert_eq!(buffer.rewind_to(1), Err(OutOfRange));
        assert_eq!(buffer.rewind_to(6), Err(OutOfRange));
        assert_eq!(buffer.rewind_to(5), Ok(()));
        assert!(buffer.is_empty());
        assert_eq!((buffer.first_seq(), buffer.end_seq()), (5, 5));
    }

    #[test]
    fn capacity_bounds_data_but_not_control_frames() {
        let mut buffer = ReplayBuffer::new(100);
        buffer.push(&[&frame(0, 90)]);
        assert_eq!(buffer.room(), 10);
        buffer.push(&[&frame(1, 32)]);
        assert_eq!(buffer.room(), 0);
        buffer.rewind_to(0).unwrap();
        assert_eq!(unsent(&mut buffer), [Ok(frame(0, 90)), Ok(frame(1, 32))]);
    }
}
