//! Errors a user of the core can act on.

use crate::rank::Rank;
use crate::socket::SocketError;
use crate::wire::WireError;
use core::fmt;

/// Why a link stopped working. Every variant names a distinct cause so that a
/// log line or an error returned to the application says what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The peer sent bytes that do not decode.
    Malformed(WireError),
    /// The socket failed.
    Socket(SocketError),
    /// The peer closed the connection without an orderly close.
    PeerVanished,
    /// The peer belongs to another job.
    WrongSession,
    /// The peer claimed a rank other than the one this link is for.
    WrongRank {
        /// The rank the hello claimed.
        claimed: Rank,
    },
    /// The hello was addressed to a different rank.
    NotAddressedToUs {
        /// The receiver rank the hello named.
        addressed_to: Rank,
    },
    /// The two ends ask for different link capabilities (e.g. one encrypted, one not).
    CapabilityMismatch,
    /// A frame arrived out of sequence.
    SequenceGap {
        /// The sequence number expected.
        expected: u64,
        /// The sequence number received.
        got: u64,
    },
    /// A frame that is valid on its own but not at this point of the stream.
    UnexpectedFrame,
    /// A second connection claimed a rank that is already connected.
    DuplicateRank,
    /// No connection to the peer was made before the connect deadline.
    NeverConnected,
    /// A connection opened but its hello did not arrive before the deadline.
    HandshakeTimeout,
    /// Messages nobody has asked for exceeded the unexpected-queue bound.
    UnexpectedQueueFull,
    /// The peer closed the link in order; nothing more will arrive.
    Closed,
    /// The secure handshake failed: the peer holds a key other than the one
    /// configured for its rank, or the hellos were tampered with.
    HandshakeFailed,
    /// A record failed authentication: it was altered, replayed, reordered,
    /// or one before it was dropped.
    RecordRejected,
    /// The peer's application aborted the job with this exit code.
    PeerAborted {
        /// The code the application passed to abort.
        code: i32,
    },
    /// Nothing arrived from the peer, not even a heartbeat, for the
    /// configured peer timeout: it is presumed dead (or cut off).
    PeerSilent {
        /// The timeout that passed, in milliseconds.
        timeout_ms: u64,
    },
    /// A reconnecting peer asked to resume from a frame this side no longer
    /// holds (or never sent): it is not the process the link was made with.
    CannotResume {
        /// The frame the peer asked to resume from.
        asked: u64,
        /// The first frame this side could still send again.
        kept_from: u64,
        /// One past the last frame this side has sent.
        kept_to: u64,
    },
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Malformed(e) => write!(f, "malformed input: {e}"),
            LinkError::Socket(e) => write!(f, "{e}"),
            LinkError::PeerVanished => write!(f, "peer closed the connection unexpectedly"),
            LinkError::WrongSession => write!(f, "peer belongs to a different session"),
            LinkError::WrongRank { claimed } => write!(f, "peer claimed to be {claimed}"),
            LinkError::NotAddressedToUs { addressed_to } => {
                write!(f, "hello was addressed to {addressed_to}")
            }
            LinkError::CapabilityMismatch => write!(f, "peer asks for different link capabilities"),
            LinkError::SequenceGap { expected, got } => {
                write!(f, "frame sequence {got} where {expected} was expected")
            }
            LinkError::UnexpectedFrame => write!(f, "frame not valid at this point of the stream"),
            LinkError::DuplicateRank => write!(f, "rank is already connected"),
            LinkError::NeverConnected => write!(f, "peer never connected before the deadline"),
            LinkError::HandshakeTimeout => write!(f, "peer connected but sent no hello in time"),
            LinkError::UnexpectedQueueFull => {
                write!(
                    f,
                    "too many messages arrived before their receives were posted"
                )
            }
            LinkError::Closed => write!(f, "peer closed the link"),
            LinkError::HandshakeFailed => {
                write!(f, "secure handshake failed (wrong key, or tampered hello)")
            }
            LinkError::RecordRejected => write!(
                f,
                "record failed authentication (altered, replayed, reordered or dropped)"
            ),
            LinkError::PeerAborted { code } => write!(f, "peer aborted the job with code {code}"),
            LinkError::PeerSilent { timeout_ms } => write!(
                f,
                "peer sent nothing for {timeout_ms} ms (presumed dead or cut off)"
            ),
            LinkError::CannotResume {
                asked,
                kept_from,
                kept_to,
            } => write!(
                f,
                "peer asked to resume from frame {asked}, but only frames {kept_from}..{kept_to} \
                 can be sent again (did it restart?)"
            ),
        }
    }
}

impl core::error::Error for LinkError {}

impl From<WireError> for LinkError {
    fn from(e: WireError) -> Self {
        LinkError::Malformed(e)
    }
}

/// Why an operation on the endpoint failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The link to `peer` failed or closed.
    Link {
        /// The party on the other end.
        peer: Rank,
        /// What happened to the link.
        reason: LinkError,
    },
    /// A message was longer than the receive buffer; the buffer holds its start.
    Truncated {
        /// Length of the message that arrived.
        message_len: u64,
        /// Length of the buffer it was received into.
        buffer_len: usize,
    },
    /// A party cannot send to or receive from itself.
    SelfMessage,
    /// The tag is outside the range the caller may use.
    InvalidTag(u32),
    /// The request handle is not known (already taken, or never issued).
    UnknownRequest,
    /// The endpoint is closing or closed and accepts no new operations.
    EndpointClosed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Link { peer, reason } => write!(f, "link to {peer}: {reason}"),
            Error::Truncated {
                message_len,
                buffer_len,
            } => write!(
                f,
                "message of {message_len} bytes does not fit a {buffer_len}-byte receive buffer"
            ),
            Error::SelfMessage => write!(f, "a party cannot message itself"),
            Error::InvalidTag(t) => write!(f, "tag {t} is reserved or out of range"),
            Error::UnknownRequest => write!(f, "unknown request handle"),
            Error::EndpointClosed => write!(f, "endpoint is closed"),
        }
    }
}

impl core::error::Error for Error {}
