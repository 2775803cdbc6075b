//! Errors a user of the core can act on.
//!
//! A link's failure is a [`LinkError`]: first the kind of cause (the peer's
//! bytes, its behaviour, an incompatibility, the transport, security,
//! resume, a refused connection), then, in a sub-enum, exactly which one, in
//! the style of rustls. Every enum is `#[non_exhaustive]`, so new reasons
//! can be named without breaking a caller's `match`. The orderly end of a
//! link is not an error: it is [`crate::LinkState::Closed`], and operations
//! that needed the link fail with [`Error::LinkClosed`].

use crate::rank::Rank;
use crate::socket::SocketError;
use crate::wire::WireError;
use core::fmt;

/// Why a link failed, or why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkError {
    /// The peer sent bytes that do not decode.
    Malformed(WireError),
    /// The peer sent well-formed bytes that break the protocol.
    Misbehaviour(Misbehaviour),
    /// The two ends cannot work together.
    Incompatible(Incompatibility),
    /// The connection underneath failed or never came.
    Transport(TransportError),
    /// The secure channel refused the peer or one of its records.
    Security(SecurityError),
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
    /// An inbound connection was refused before it joined a link.
    Refused(Refusal),
    /// The peer's application aborted the job with this exit code.
    PeerAborted {
        /// The code the application passed to abort.
        code: i32,
    },
    /// Messages nobody has asked for exceeded the unexpected-queue bound.
    UnexpectedQueueFull,
}

/// A peer's well-formed input that is not valid where it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// A frame arrived out of sequence (one was dropped, reordered or repeated).
    SequenceGap {
        /// The sequence number expected.
        expected: u64,
        /// The sequence number received.
        got: u64,
    },
    /// A heartbeat carried a sequence number (heartbeats are unnumbered).
    NumberedHeartbeat,
    /// An acknowledgement named frames never sent, or took one back.
    AckOutOfRange {
        /// The frames the acknowledgement covers.
        acked: u64,
    },
    /// A frame came after the peer's close, which must be its last.
    FrameAfterClose,
    /// A data frame does not continue the message arriving (another tag or
    /// length, or no payload).
    NotAContinuation,
    /// A data frame runs past the end of its message.
    PastMessageEnd,
    /// A close came in the middle of a message.
    CloseMidMessage,
    /// Payload bytes came with no message to hold them.
    PayloadWithoutMessage,
    /// A handshake message came on a link that is not handshaking.
    UnexpectedHandshake,
}

/// Why the two ends cannot form a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incompatibility {
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
}

/// What went wrong with the connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The socket failed.
    Socket(SocketError),
    /// The peer closed the connection without an orderly close.
    PeerVanished,
    /// No connection to the peer was made before the connect deadline.
    NeverConnected,
    /// A connection opened but its set-up (hellos, handshake) did not
    /// finish before the deadline.
    HandshakeTimeout,
    /// Nothing arrived from the peer, not even a heartbeat, for the
    /// configured peer timeout: it is presumed dead (or cut off).
    PeerSilent {
        /// The timeout that passed, in milliseconds.
        timeout_ms: u64,
    },
}

/// Why the secure channel refused the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityError {
    /// The Noise handshake failed, for this reason.
    Handshake(HandshakeFailure),
    /// A record failed authentication: it was altered, replayed, reordered,
    /// or one before it was dropped.
    RecordRejected,
    /// A direction has sealed or opened every record number Noise allows
    /// under one key (2^64 − 1).
    NoncesExhausted,
}

/// What the Noise handshake reported (snow's reason, kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// A handshake message failed to decrypt: the peer holds a key other
    /// than the one configured for its rank, or the hellos were tampered with.
    Decrypt,
    /// A handshake message has the wrong length for the pattern.
    BadMessage,
    /// A public key is invalid.
    BadKey,
    /// The handshake was closed on us by the acceptor: it refused our key.
    ClosedByPeer,
    /// The handshake could not be set up from this party's configuration.
    Setup,
    /// The handshake's messages came in an order the pattern does not allow.
    OutOfOrder,
    /// The random generator failed.
    Randomness,
}

/// Why an inbound connection was refused (the link it claimed is unaffected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The claimed rank is already connected.
    DuplicateRank,
    /// No hello arrived before the deadline.
    HelloTimeout,
    /// The queue of connections waiting for their hello was full.
    AcceptQueueFull,
    /// The link the connection claims has closed in order: our hello tells
    /// the peer what we received, so it can finish its close too.
    LinkClosed,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Malformed(e) => write!(f, "malformed input: {e}"),
            LinkError::Misbehaviour(e) => write!(f, "protocol violation: {e}"),
            LinkError::Incompatible(e) => write!(f, "{e}"),
            LinkError::Transport(e) => write!(f, "{e}"),
            LinkError::Security(e) => write!(f, "{e}"),
            LinkError::CannotResume {
                asked,
                kept_from,
                kept_to,
            } => write!(
                f,
                "peer asked to resume from frame {asked}, but only frames {kept_from}..{kept_to} \
                 can be sent again (did it restart?)"
            ),
            LinkError::Refused(e) => write!(f, "{e}"),
            LinkError::PeerAborted { code } => write!(f, "peer aborted the job with code {code}"),
            LinkError::UnexpectedQueueFull => write!(
                f,
                "too many messages arrived before their receives were posted"
            ),
        }
    }
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misbehaviour::SequenceGap { expected, got } => {
                write!(f, "frame sequence {got} where {expected} was expected")
            }
            Misbehaviour::NumberedHeartbeat => write!(f, "a heartbeat carried a sequence number"),
            Misbehaviour::AckOutOfRange { acked } => write!(
                f,
                "acknowledgement of {acked} frames names frames never sent or takes one back"
            ),
            Misbehaviour::FrameAfterClose => write!(f, "a frame came after the peer's close"),
            Misbehaviour::NotAContinuation => {
                write!(f, "a data frame does not continue the message arriving")
            }
            Misbehaviour::PastMessageEnd => write!(f, "a data frame runs past its message's end"),
            Misbehaviour::CloseMidMessage => write!(f, "a close came in the middle of a message"),
            Misbehaviour::PayloadWithoutMessage => {
                write!(f, "payload bytes came with no message to hold them")
            }
            Misbehaviour::UnexpectedHandshake => {
                write!(
                    f,
                    "a handshake message came on a link that is not handshaking"
                )
            }
        }
    }
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incompatibility::WrongSession => write!(f, "peer belongs to a different session"),
            Incompatibility::WrongRank { claimed } => write!(f, "peer claimed to be {claimed}"),
            Incompatibility::NotAddressedToUs { addressed_to } => {
                write!(f, "hello was addressed to {addressed_to}")
            }
            Incompatibility::CapabilityMismatch => {
                write!(f, "peer asks for different link capabilities")
            }
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Socket(e) => write!(f, "{e}"),
            TransportError::PeerVanished => write!(f, "peer closed the connection unexpectedly"),
            TransportError::NeverConnected => {
                write!(f, "peer never connected before the deadline")
            }
            TransportError::HandshakeTimeout => {
                write!(f, "peer connected but did not finish the set-up in time")
            }
            TransportError::PeerSilent { timeout_ms } => write!(
                f,
                "peer sent nothing for {timeout_ms} ms (presumed dead or cut off)"
            ),
        }
    }
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecurityError::Handshake(reason) => write!(f, "secure handshake failed: {reason}"),
            SecurityError::RecordRejected => write!(
                f,
                "record failed authentication (altered, replayed, reordered or dropped)"
            ),
            SecurityError::NoncesExhausted => {
                write!(f, "every record number of the channel's key is used")
            }
        }
    }
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandshakeFailure::Decrypt => {
                "a handshake message did not decrypt (wrong key, or tampered hello)"
            }
            HandshakeFailure::BadMessage => "a handshake message has the wrong length",
            HandshakeFailure::BadKey => "a public key is invalid",
            HandshakeFailure::ClosedByPeer => "the peer closed the connection (it refused our key)",
            HandshakeFailure::Setup => "the handshake could not be set up from the configuration",
            HandshakeFailure::OutOfOrder => "handshake messages came out of order",
            HandshakeFailure::Randomness => "the random generator failed",
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::DuplicateRank => "rank is already connected",
            Refusal::HelloTimeout => "connected but sent no hello in time",
            Refusal::AcceptQueueFull => "too many connections are waiting for their hello",
            Refusal::LinkClosed => "the link it claims has closed",
        })
    }
}

impl core::error::Error for LinkError {}

impl From<WireError> for LinkError {
    fn from(e: WireError) -> Self {
        LinkError::Malformed(e)
    }
}

impl From<Misbehaviour> for LinkError {
    fn from(e: Misbehaviour) -> Self {
        LinkError::Misbehaviour(e)
    }
}

impl From<Incompatibility> for LinkError {
    fn from(e: Incompatibility) -> Self {
        LinkError::Incompatible(e)
    }
}

impl From<TransportError> for LinkError {
    fn from(e: TransportError) -> Self {
        LinkError::Transport(e)
    }
}

impl From<SecurityError> for LinkError {
    fn from(e: SecurityError) -> Self {
        LinkError::Security(e)
    }
}

impl From<HandshakeFailure> for LinkError {
    fn from(e: HandshakeFailure) -> Self {
        LinkError::Security(SecurityError::Handshake(e))
    }
}

impl From<Refusal> for LinkError {
    fn from(e: Refusal) -> Self {
        LinkError::Refused(e)
    }
}

impl From<SocketError> for LinkError {
    fn from(e: SocketError) -> Self {
        LinkError::Transport(TransportError::Socket(e))
    }
}

/// Why an operation on the endpoint failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The link to `peer` failed.
    Link {
        /// The party on the other end.
        peer: Rank,
        /// What happened to the link.
        reason: LinkError,
    },
    /// The link to `peer` has closed in order (or is closing): nothing more
    /// can be sent to it, nor arrive from it.
    LinkClosed {
        /// The party on the other end.
        peer: Rank,
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
            Error::LinkClosed { peer } => write!(f, "link to {peer}: peer closed the link"),
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

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn every_kind_converts_and_says_what_failed() {
        let cases: [(LinkError, &str); 6] = [
            (WireError::BadMagic.into(), "bad magic"),
            (
                Misbehaviour::SequenceGap {
                    expected: 1,
                    got: 3,
                }
                .into(),
                "frame sequence 3 where 1 was expected",
            ),
            (Incompatibility::WrongSession.into(), "different session"),
            (SocketError::Reset.into(), "reset"),
            (HandshakeFailure::Decrypt.into(), "wrong key"),
            (Refusal::AcceptQueueFull.into(), "waiting for their hello"),
        ];
        for (error, says) in cases {
            let text = alloc::format!("{error}");
            assert!(text.contains(says), "{text:?} should say {says:?}");
        }
    }
}
