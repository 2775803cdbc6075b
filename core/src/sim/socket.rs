//! The core's [`Socket`] over one smoltcp TCP socket.

use super::host::SimHost;
use crate::socket::{Socket, SocketError};
use alloc::rc::Rc;
use core::cell::RefCell;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, RecvError};
use smoltcp::wire::IpEndpoint;

/// Linux's "bad file descriptor": the socket was already closed.
const EBADF: i32 = 9;

/// One end of a simulated TCP connection.
///
/// Reads and writes move bytes between the caller's slices and smoltcp's
/// receive and send buffers; the packets themselves move only when the
/// world polls the interface. The error mapping follows a non-blocking
/// Berkeley socket:
/// - while the handshake is in progress, reads and writes report
///   `WouldBlock`;
/// - a connection attempt that ends without being established (answered by
///   a reset, or given up on) reports `Refused`;
/// - `WouldBlock` when no byte can move;
/// - `Ok(0)` once the peer has closed in order (its FIN arrived) and every
///   byte before it has been read;
/// - `Reset` once the connection was aborted or reset (bytes that had
///   already arrived are still read first) or TCP gave up on it.
#[derive(Debug)]
pub struct SimSocket {
    host: Rc<RefCell<SimHost>>,
    /// `None` once closed: the host owns the socket from then on.
    handle: Option<SocketHandle>,
    remote: IpEndpoint,
    /// Whether the handshake has been seen to complete, which tells a
    /// refused connection from a reset one.
    established: bool,
}

impl SimSocket {
    /// Wraps the socket `handle` of `host`, connected (or connecting) to `remote`.
    pub(crate) fn new(
        host: Rc<RefCell<SimHost>>,
        handle: SocketHandle,
        remote: IpEndpoint,
        established: bool,
    ) -> SimSocket {
        SimSocket {
            host,
            handle: Some(handle),
            remote,
            established,
        }
    }
}

/// `Some(error)` if the connection cannot move bytes yet (or ever, having
/// never been established); `None` once it is past its handshake.
fn setup_error(socket: &tcp::Socket, established: &mut bool) -> Option<SocketError> {
    match socket.state() {
        tcp::State::SynSent | tcp::State::SynReceived | tcp::State::Listen => {
            Some(SocketError::WouldBlock)
        }
        tcp::State::Closed if !*established => Some(SocketError::Refused),
        tcp::State::Closed => None,
        _ => {
            *established = true;
            None
        }
    }
}

impl SimSocket {
    /// Runs `io` on the TCP socket once its handshake is over; before that,
    /// or once this end is closed, fails as a non-blocking socket would.
    fn past_handshake<T>(
        &mut self,
        io: impl FnOnce(&mut tcp::Socket<'static>) -> Result<T, SocketError>,
    ) -> Result<T, SocketError> {
        let handle = self.handle.ok_or(SocketError::Other(EBADF))?;
        // The host is borrowed only within calls like this one, which never
        // call back out, so the borrow cannot overlap another.
        let mut host = self.host.borrow_mut();
        let socket = host.tcp(handle);
        if let Some(e) = setup_error(socket, &mut self.established) {
            return Err(e);
        }
        io(socket)
    }
}

/// A vectored read or write, one buffer at a time: `move_one` moves what it
/// can of a buffer and says how much. Like a socket's, it stops at the first
/// buffer not moved whole, leaves an error that follows moved bytes for the
/// next call, and reports `WouldBlock` if nothing moved though there was
/// something to move.
fn move_vectored<B: AsRef<[u8]>>(
    bufs: impl IntoIterator<Item = B>,
    mut move_one: impl FnMut(B) -> Result<usize, SocketError>,
) -> Result<usize, SocketError> {
    let mut total = 0;
    let mut wanted = false;
    for buf in bufs {
        let len = buf.as_ref().len();
        if len == 0 {
            continue;
        }
        wanted = true;
        match move_one(buf) {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            Err(_) if total > 0 => break,
            Err(e) => return Err(e),
        }
    }
    if total == 0 && wanted {
        return Err(SocketError::WouldBlock);
    }
    Ok(total)
}

impl Socket for SimSocket {
    type Addr = IpEndpoint;

    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError> {
        self.past_handshake(|socket| {
            // smoltcp says whether more can arrive even to an empty buffer:
            // the end of the stream is reported before any buffer is looked at.
            match socket.recv_slice(&mut []) {
                Err(RecvError::Finished) => return Ok(0),
                Err(_) => return Err(SocketError::Reset),
                Ok(_) => {}
            }
            move_vectored(bufs.iter_mut(), |buf| {
                socket.recv_slice(buf).map_err(|_| SocketError::Reset)
            })
        })
    }

    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError> {
        self.past_handshake(|socket| {
            // Past the handshake, only a connection that was reset or timed
            // out cannot send: this socket's own side is never closed while
            // it is owned.
            if !socket.may_send() {
                return Err(SocketError::Reset);
            }
            move_vectored(bufs.iter(), |buf| {
                socket.send_slice(buf).map_err(|_| SocketError::Reset)
            })
        })
    }

    fn close(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.host.borrow_mut().release(handle);
        }
    }

    fn peer_addr(&self) -> IpEndpoint {
        self.remote
    }
}

impl Drop for SimSocket {
    fn drop(&mut self) {
        self.close();
    }
}
