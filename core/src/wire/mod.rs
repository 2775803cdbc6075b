//! Wire formats: typed views over byte buffers plus `Repr` structs.
//!
//! Every format comes as a pair, in the style of smoltcp: a view (`Hello<T>`,
//! `FrameHeader<T>`, `Record<T>`) that checks the buffer is long enough before any field is
//! read, and a `Repr` that `parse`s a view into validated values and `emit`s
//! values back into bytes. Nothing in this module can panic on any input.
//!
//! Header fields are in network byte order (big endian). The exact layouts are
//! specified in `docs/protocol.md`.

mod frame;
mod hello;
mod record;

pub use frame::{FrameHeader, FrameKind, FrameRepr, FRAME_HEADER_LEN};
pub use hello::{Capabilities, Hello, HelloRepr, HELLO_LEN, MAGIC};
pub use record::{Record, RecordRepr, MAX_RECORD_BODY, RECORD_PREFIX_LEN};

use core::fmt;

/// Why a buffer was rejected by a wire decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The buffer is shorter than the fixed header.
    Truncated,
    /// The first four bytes are not ternion's magic.
    BadMagic,
    /// The peer speaks a protocol version this build does not.
    UnsupportedVersion(u16),
    /// A frame kind this build does not know.
    UnknownKind(u8),
    /// A field that must be zero is not.
    ReservedNonZero,
    /// Capability bits this build does not know.
    UnknownCapabilities(u16),
    /// A rank outside `0..3`.
    BadRank(u8),
    /// A payload length above the limit in force.
    Oversized {
        /// The length the header announced.
        len: u64,
        /// The largest length accepted.
        limit: u64,
    },
    /// Fields that contradict each other (e.g. a fragment longer than its message).
    Inconsistent,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => write!(f, "truncated header"),
            WireError::BadMagic => write!(f, "bad magic (not a ternion peer)"),
            WireError::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            WireError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            WireError::ReservedNonZero => write!(f, "reserved field is not zero"),
            WireError::UnknownCapabilities(c) => write!(f, "unknown capability bits {c:#06x}"),
            WireError::BadRank(r) => write!(f, "rank {r} out of range"),
            WireError::Oversized { len, limit } => {
                write!(f, "length {len} exceeds limit {limit}")
            }
            WireError::Inconsistent => write!(f, "inconsistent header fields"),
        }
    }
}

impl core::error::Error for WireError {}

/// Reads a big-endian `u16` at `at`; callers have checked the length.
fn get_u16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buf[at], buf[at + 1]])
}

/// Reads a big-endian `u32` at `at`; callers have checked the length.
fn get_u32(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_be_bytes(b)
}

/// Reads a big-endian `u64` at `at`; callers have checked the length.
fn get_u64(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_be_bytes(b)
}
