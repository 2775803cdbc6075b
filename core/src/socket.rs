//! What the core needs from a platform's network: non-blocking byte streams.
//!
//! The core calls these traits; it never performs I/O of its own. A platform
//! implements them over std sockets, kernel sockets, smoltcp, or an in-memory
//! pipe for tests. Reads and writes are vectored so the core can move a frame
//! header and its payload in one call, straight between the socket and the
//! application's buffer.

use crate::rank::Rank;
use crate::time::Duration;
use core::fmt;

/// Why a socket operation did not move bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketError {
    /// Nothing can be moved now; try again when the socket is ready.
    WouldBlock,
    /// The peer refused the connection (nobody listening yet).
    Refused,
    /// The connection was reset or broke.
    Reset,
    /// Any other error, with the platform's error number where it has one.
    Other(i32),
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::WouldBlock => write!(f, "operation would block"),
            SocketError::Refused => write!(f, "connection refused"),
            SocketError::Reset => write!(f, "connection reset"),
            SocketError::Other(code) => write!(f, "socket error {code}"),
        }
    }
}

impl core::error::Error for SocketError {}

/// A connected, non-blocking byte stream.
pub trait Socket {
    /// The address the platform reports for the remote end, for error messages.
    type Addr: fmt::Display + Clone;

    /// Reads into `bufs` in order. `Ok(0)` means the peer closed its side.
    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError>;

    /// Writes from `bufs` in order, returning how many bytes were taken.
    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError>;

    /// Closes the stream. Dropping the socket must also close it.
    fn close(&mut self);

    /// The remote address.
    fn peer_addr(&self) -> Self::Addr;

    /// The connection's round-trip time without queueing (the least the
    /// transport has measured), or `None` where it cannot tell: the path's
    /// own delay, which a busy host does not inflate. A link lends a large message
    /// (completing its send only on the peer's acknowledgement) instead of
    /// copying it only where this round trip costs less than the copy.
    fn round_trip(&self) -> Option<Duration> {
        None
    }

    /// Asks the transport to report room to write only while fewer than
    /// `bytes` written bytes wait unsent in it (Linux: TCP_NOTSENT_LOWAT),
    /// so that what the link has written but the path has not yet taken
    /// stays small. Where the transport cannot, nothing changes.
    fn limit_unsent(&mut self, bytes: usize) {
        let _ = bytes;
    }
}

/// Opens and accepts connections on the core's behalf.
pub trait Network {
    /// The stream type this network produces.
    type Socket: Socket;

    /// Starts connecting to `peer`. The returned socket may still be
    /// connecting: until it is, reads and writes report `WouldBlock`, and a
    /// failed attempt reports `Refused` or `Reset`.
    fn connect(&mut self, peer: Rank) -> Result<Self::Socket, SocketError>;

    /// Accepts one pending inbound connection, if any.
    fn accept(&mut self) -> Result<Option<Self::Socket>, SocketError>;
}

/// Wakes whatever thread drives the core, when it may be asleep waiting for
/// socket readiness and new work has arrived from another thread.
pub trait Notify {
    /// Requests another pass of the driver loop soon.
    fn notify(&self);
}
