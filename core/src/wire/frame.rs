//! The header that precedes every frame after the hello.

use super::{get_u32, get_u64, WireError};

/// Length of a frame header on the wire.
pub const FRAME_HEADER_LEN: usize = 32;

mod field {
    pub const KIND: usize = 0;
    pub const FLAGS: usize = 1;
    pub const RESERVED_A: usize = 2;
    pub const LEN: usize = 4;
    pub const SEQ: usize = 8;
    pub const TAG: usize = 16;
    pub const RESERVED_B: usize = 20;
    pub const AUX: usize = 24;
}

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// A fragment of an application message; `aux` is the whole message's length.
    Data = 1,
    /// The sender will send nothing more on this link; `aux` is a reason code.
    Close = 2,
    /// The sender's application aborted the job; `aux` is its exit code.
    Abort = 3,
    /// The sender is alive, and `aux` acknowledges the frames it has
    /// received in full on the link. Not numbered (`seq` is 0): it may go
    /// between any two frames, so acknowledgements flow even while a long
    /// message is being written. Sent on quiet links, as the peer's replay
    /// buffer fills, and when the peer closes.
    Heartbeat = 4,
}

impl FrameKind {
    fn from_u8(v: u8) -> Result<Self, WireError> {
        match v {
            1 => Ok(FrameKind::Data),
            2 => Ok(FrameKind::Close),
            3 => Ok(FrameKind::Abort),
            4 => Ok(FrameKind::Heartbeat),
            other => Err(WireError::UnknownKind(other)),
        }
    }
}

/// A typed view over a buffer holding a frame header.
#[derive(Debug)]
pub struct FrameHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FrameHeader<T> {
    /// Wraps `buffer` after checking it holds a whole header.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < FRAME_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(FrameHeader { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The raw kind byte.
    pub fn kind(&self) -> u8 {
        self.bytes()[field::KIND]
    }

    /// The flags byte (no flags are defined in version 1).
    pub fn flags(&self) -> u8 {
        self.bytes()[field::FLAGS]
    }

    /// Payload bytes that follow this header.
    pub fn len(&self) -> u32 {
        get_u32(self.bytes(), field::LEN)
    }

    /// True if no payload follows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame's sequence number on its link.
    pub fn seq(&self) -> u64 {
        get_u64(self.bytes(), field::SEQ)
    }

    /// The message tag (data frames).
    pub fn tag(&self) -> u32 {
        get_u32(self.bytes(), field::TAG)
    }

    /// The kind-specific word.
    pub fn aux(&self) -> u64 {
        get_u64(self.bytes(), field::AUX)
    }

    fn reserved_is_zero(&self) -> bool {
        let b = self.bytes();
        b[field::RESERVED_A] == 0
            && b[field::RESERVED_A + 1] == 0
            && get_u32(b, field::RESERVED_B) == 0
    }
}

/// The validated contents of a frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRepr {
    /// What the frame carries.
    pub kind: FrameKind,
    /// Payload bytes that follow the header.
    pub len: u32,
    /// Sequence number on the link: one more than the previous frame's.
    pub seq: u64,
    /// Message tag (zero for control frames).
    pub tag: u32,
    /// Kind-specific: a data frame's whole message length, a close frame's
    /// reason, an abort frame's exit code (an `i32`, sign-extended), a
    /// heartbeat's count of frames received.
    pub aux: u64,
}

impl FrameRepr {
    /// Validates a header. `max_payload` is the largest payload a frame may carry.
    pub fn parse<T: AsRef<[u8]>>(
        header: &FrameHeader<T>,
        max_payload: u32,
    ) -> Result<Self, WireError> {
        let kind = FrameKind::from_u8(header.kind())?;
        if header.flags() != 0 || !header.reserved_is_zero() {
            return Err(WireError::ReservedNonZero);
        }
        let repr = FrameRepr {
            kind,
            len: header.len(),
            seq: header.seq(),
            tag: header.tag(),
            aux: header.aux(),
        };
        if repr.len > max_payload {
            return Err(WireError::Oversized {
                len: u64::from(repr.len),
                limit: u64::from(max_payload),
            });
        }
        let consistent = match kind {
            FrameKind::Data => u64::from(repr.len) <= repr.aux,
            FrameKind::Close | FrameKind::Abort | FrameKind::Heartbeat => {
                repr.len == 0 && repr.tag == 0
            }
        };
        if !consistent {
            return Err(WireError::Inconsistent);
        }
        Ok(repr)
    }

    /// Writes the header into the first [`FRAME_HEADER_LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let out = buf
            .get_mut(..FRAME_HEADER_LEN)
            .ok_or(WireError::Truncated)?;
        out.fill(0);
        out[field::KIND] = self.kind as u8;
        out[field::LEN..field::LEN + 4].copy_from_slice(&self.len.to_be_bytes());
        out[field::SEQ..field::SEQ + 8].copy_from_slice(&self.seq.to_be_bytes());
        out[field::TAG..field::TAG + 4].copy_from_slice(&self.tag.to_be_bytes());
        out[field::AUX..field::AUX + 8].copy_from_slice(&self.aux.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const DATA: FrameRepr = FrameRepr {
        kind: FrameKind::Data,
        len: 8,
        seq: 41,
        tag: 7,
        aux: 24,
    };

    fn emitted(repr: FrameRepr) -> [u8; FRAME_HEADER_LEN] {
        let mut buf = [0xaau8; FRAME_HEADER_LEN];
        repr.emit(&mut buf).unwrap();
        buf
    }

    fn parse(buf: &[u8], max: u32) -> Result<FrameRepr, WireError> {
        FrameRepr::parse(&FrameHeader::new_checked(buf)?, max)
    }

    #[test]
    fn round_trip() {
        let close = FrameRepr {
            kind: FrameKind::Close,
            len: 0,
            seq: 9,
            tag: 0,
            aux: 3,
        };
        let heartbeat = FrameRepr {
            kind: FrameKind::Heartbeat,
            len: 0,
            seq: 10,
            tag: 0,
            aux: 41,
        };
        for repr in [DATA, close, heartbeat] {
            assert_eq!(parse(&emitted(repr), 1 << 16), Ok(repr));
        }
    }

    #[test]
    fn rejects_malformed_headers() {
        let good = emitted(DATA);
        assert_eq!(parse(&good[..31], 1 << 16), Err(WireError::Truncated));
        let mut b = good;
        b[0] = 0;
        assert_eq!(parse(&b, 1 << 16), Err(WireError::UnknownKind(0)));
        let mut b = good;
        b[1] = 1;
        assert_eq!(parse(&b, 1 << 16), Err(WireError::ReservedNonZero));
        let mut b = good;
        b[23] = 1;
        assert_eq!(parse(&b, 1 << 16), Err(WireError::ReservedNonZero));
        assert_eq!(
            parse(&good, 4),
            Err(WireError::Oversized { len: 8, limit: 4 })
        );
        let longer_than_message = emitted(FrameRepr { aux: 4, ..DATA });
        assert_eq!(
            parse(&longer_than_message, 1 << 16),
            Err(WireError::Inconsistent)
        );
        let close_with_payload = emitted(FrameRepr {
            kind: FrameKind::Close,
            len: 1,
            tag: 0,
            ..DATA
        });
        assert_eq!(
            parse(&close_with_payload, 1 << 16),
            Err(WireError::Inconsistent)
        );
    }

    #[test]
    fn no_input_panics() {
        // Exhaustive over every single-byte change of a valid header: parse must
        // return, never panic, whatever the byte.
        let good = emitted(DATA);
        for at in 0..FRAME_HEADER_LEN {
            for v in 0..=255u8 {
                let mut b = good;
                b[at] = v;
                let _ = parse(&b, 1 << 16);
            }
        }
    }
}
