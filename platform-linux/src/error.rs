//! Errors of the Linux backend.

use std::fmt;
use ternion_core::{LinkError, Rank, TransportError};

/// Why a ternion call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The protocol core refused or failed the operation.
    Protocol(ternion_core::Error),
    /// The configuration is incomplete or invalid.
    Config(String),
    /// The operating system refused something (binding the port, threads, ...).
    Io(std::io::Error),
    /// Some party was never connected before the connect deadline.
    PeerNeverCame(Rank),
    /// Received bytes are not a valid value of the requested type.
    InvalidValue(&'static str),
    /// A received message's length is not what the call expected.
    LengthMismatch {
        /// Bytes expected.
        expected: usize,
        /// Bytes received.
        got: u64,
    },
    /// A blocking call reached its deadline.
    TimedOut,
}

impl Error {
    /// The peer whose link failure caused this error, if any.
    pub fn failed_peer(&self) -> Option<Rank> {
        match self {
            Error::Protocol(ternion_core::Error::Link { peer, .. }) => Some(*peer),
            Error::PeerNeverCame(peer) => Some(*peer),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "{e}"),
            Error::Config(msg) => write!(f, "configuration: {msg}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::PeerNeverCame(peer) => {
                write!(f, "{peer} never connected before the connect deadline")
            }
            Error::InvalidValue(ty) => write!(f, "received bytes are not a valid {ty}"),
            Error::LengthMismatch { expected, got } => {
                write!(f, "expected a {expected}-byte message, got {got} bytes")
            }
            Error::TimedOut => write!(f, "timed out"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Protocol(e) => Some(e),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ternion_core::Error> for Error {
    fn from(e: ternion_core::Error) -> Self {
        match e {
            ternion_core::Error::Link {
                peer,
                reason: LinkError::Transport(TransportError::NeverConnected),
            } => Error::PeerNeverCame(peer),
            other => Error::Protocol(other),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Result of a ternion call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
