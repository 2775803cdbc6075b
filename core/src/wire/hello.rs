//! The hello that opens every connection, in both directions.

use super::{get_u16, get_u64, WireError};
use crate::rank::Rank;
use crate::PROTOCOL_VERSION;

/// The four bytes every ternion connection starts with.
pub const MAGIC: [u8; 4] = *b"TRN3";

/// Length of a hello on the wire.
pub const HELLO_LEN: usize = 40;

mod field {
    use core::ops::Range;
    pub const MAGIC: Range<usize> = 0..4;
    pub const VERSION: usize = 4;
    pub const CAPS: usize = 6;
    pub const SESSION: Range<usize> = 8..24;
    pub const SENDER: usize = 24;
    pub const RECEIVER: usize = 25;
    pub const RESERVED_A: usize = 26;
    pub const RESUME: usize = 28;
    pub const RESERVED_B: core::ops::Range<usize> = 36..40;
}

bitflags::bitflags! {
    /// What a party asks of a link. Both ends must agree.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Capabilities: u16 {
        /// Frames after the hello travel inside an authenticated encryption
        /// channel (specified by the secure-channel extension).
        const ENCRYPTED = 1 << 0;
        /// The sender keeps unacknowledged frames and can resume a broken link
        /// (specified by the link-resume extension).
        const RESUME = 1 << 1;
    }
}

/// A typed view over a buffer holding a hello.
#[derive(Debug)]
pub struct Hello<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Hello<T> {
    /// Wraps `buffer` after checking it is long enough for every field.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < HELLO_LEN {
            return Err(WireError::Truncated);
        }
        Ok(Hello { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The magic bytes.
    pub fn magic(&self) -> [u8; 4] {
        let mut m = [0u8; 4];
        m.copy_from_slice(&self.bytes()[field::MAGIC]);
        m
    }

    /// The protocol version the sender speaks.
    pub fn version(&self) -> u16 {
        get_u16(self.bytes(), field::VERSION)
    }

    /// The raw capability bits.
    pub fn capability_bits(&self) -> u16 {
        get_u16(self.bytes(), field::CAPS)
    }

    /// The session this connection belongs to.
    pub fn session(&self) -> [u8; 16] {
        let mut s = [0u8; 16];
        s.copy_from_slice(&self.bytes()[field::SESSION]);
        s
    }

    /// The sender's rank byte.
    pub fn sender(&self) -> u8 {
        self.bytes()[field::SENDER]
    }

    /// The rank byte of the party the sender believes it is talking to.
    pub fn receiver(&self) -> u8 {
        self.bytes()[field::RECEIVER]
    }

    /// The next frame sequence number the sender expects to receive.
    pub fn resume_seq(&self) -> u64 {
        get_u64(self.bytes(), field::RESUME)
    }

    fn reserved_is_zero(&self) -> bool {
        let b = self.bytes();
        b[field::RESERVED_A] == 0
            && b[field::RESERVED_A + 1] == 0
            && b[field::RESERVED_B].iter().all(|&x| x == 0)
    }
}

/// The validated contents of a hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelloRepr {
    /// Capabilities the sender requires of the link.
    pub capabilities: Capabilities,
    /// The job's session identifier.
    pub session: [u8; 16],
    /// Who sent it.
    pub sender: Rank,
    /// Who the sender meant to reach.
    pub receiver: Rank,
    /// The next sequence number the sender expects to receive (0 on a new link).
    pub resume_seq: u64,
}

impl HelloRepr {
    /// Validates a hello: magic, version, known capabilities, ranks, zero padding.
    pub fn parse<T: AsRef<[u8]>>(hello: &Hello<T>) -> Result<Self, WireError> {
        if hello.magic() != MAGIC {
            return Err(WireError::BadMagic);
        }
        if hello.version() != PROTOCOL_VERSION {
            return Err(WireError::UnsupportedVersion(hello.version()));
        }
        let capabilities = Capabilities::from_bits(hello.capability_bits())
            .ok_or(WireError::UnknownCapabilities(hello.capability_bits()))?;
        if !hello.reserved_is_zero() {
            return Err(WireError::ReservedNonZero);
        }
        let sender = Rank::new(hello.sender()).ok_or(WireError::BadRank(hello.sender()))?;
        let receiver = Rank::new(hello.receiver()).ok_or(WireError::BadRank(hello.receiver()))?;
        if sender == receiver {
            return Err(WireError::Inconsistent);
        }
        Ok(HelloRepr {
            capabilities,
            session: hello.session(),
            sender,
            receiver,
            resume_seq: hello.resume_seq(),
        })
    }

    /// Writes the hello into the first [`HELLO_LEN`] bytes of `buf`.
    ///
    /// Returns [`WireError::Truncated`] if `buf` is too short.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let out = buf.get_mut(..HELLO_LEN).ok_or(WireError::Truncated)?;
        out.fill(0);
        out[field::MAGIC].copy_from_slice(&MAGIC);
        out[field::VERSION..field::VERSION + 2].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        out[field::CAPS..field::CAPS + 2].copy_from_slice(&self.capabilities.bits().to_be_bytes());
        out[field::SESSION].copy_from_slice(&self.session);
        out[field::SENDER] = self.sender.index() as u8;
        out[field::RECEIVER] = self.receiver.index() as u8;
        out[field::RESUME..field::RESUME + 8].copy_from_slice(&self.resume_seq.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn sample() -> HelloRepr {
        HelloRepr {
            capabilities: Capabilities::empty(),
            session: [7; 16],
            sender: Rank::new(2).unwrap(),
            receiver: Rank::new(0).unwrap(),
            resume_seq: 0x0102_0304_0506_0708,
        }
    }

    #[test]
    fn round_trip() {
        let mut buf = [0xffu8; HELLO_LEN];
        sample().emit(&mut buf).unwrap();
        let view = Hello::new_checked(&buf[..]).unwrap();
        assert_eq!(HelloRepr::parse(&view), Ok(sample()));
    }

    #[test]
    fn rejects_each_malformed_field() {
        let mut good = [0u8; HELLO_LEN];
        sample().emit(&mut good).unwrap();
        let parse = |b: &[u8]| HelloRepr::parse(&Hello::new_checked(b)?);

        assert_eq!(parse(&good[..HELLO_LEN - 1]), Err(WireError::Truncated));
        let mut b = good;
        b[0] = b'X';
        assert_eq!(parse(&b), Err(WireError::BadMagic));
        let mut b = good;
        b[5] = 99;
        assert_eq!(parse(&b), Err(WireError::UnsupportedVersion(99)));
        let mut b = good;
        b[6] = 0x80;
        assert_eq!(parse(&b), Err(WireError::UnknownCapabilities(0x8000)));
        let mut b = good;
        b[24] = 3;
        assert_eq!(parse(&b), Err(WireError::BadRank(3)));
        let mut b = good;
        b[25] = 2;
        assert_eq!(parse(&b), Err(WireError::Inconsistent));
        let mut b = good;
        b[39] = 1;
        assert_eq!(parse(&b), Err(WireError::ReservedNonZero));
    }

    #[test]
    fn emit_refuses_short_buffer() {
        let mut buf = [0u8; HELLO_LEN - 1];
        assert_eq!(sample().emit(&mut buf), Err(WireError::Truncated));
    }
}
