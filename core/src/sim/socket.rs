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

impl Socket for SimSocket {
    type Addr = IpEndpoint;

    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError> {
        let handle = self.handle.ok_or(SocketError::Other(EBADF))?;
        // The host is borrowed only within calls like this one, which never
        // call back out, so the borrow cannot overlap another.
        let mut host = self.host.borrow_mut();
        let socket = host.tcp(handle);
        if let Some(e) = setup_error(socket, &mut self.established) {
            return Err(e);
        }
        let mut total = 0;
        for buf in bufs.iter_mut().filter(|b| !b.is_empty()) {
            match socket.recv_slice(buf) {
                Ok(n) => {
                    total += n;
                    if n < buf.len() {
                        break;
                    }
                }
                // What was read so far is returned; the next call reports the end.
                Err(_) if total > 0 => break,
                Err(RecvError::Finished) => return Ok(0),
                Err(_) => return Err(SocketError::Reset),
            }
        }
        let wanted = bufs.iter().any(|b| !b.is_empty());
        if total == 0 && wanted {
            return Err(SocketError::WouldBlock);
        }
        Ok(total)
    }

    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError> {
        let handle = self.handle.ok_or(SocketError::Other(EBADF))?;
        let mut host = self.host.borrow_mut();
        let socket = host.tcp(handle);
        if let Some(e) = setup_error(socket, &mut self.established) {
            return Err(e);
        }
        // Past the handshake, only a connection that was reset or timed out
        // cannot send: this socket's own side is never closed while it is owned.
        if !socket.may_send() {
            return Err(SocketError::Reset);
        }
        let mut total = 0;
        for buf in bufs.iter().filter(|b| !b.is_empty()) {
            match socket.send_slice(buf) {
                Ok(n) => {
                    total += n;
                    if n < buf.len() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let offered = bufs.iter().any(|b| !b.is_empty());
        if total == 0 && offered {
            return Err(SocketError::WouldBlock);
        }
        Ok(total)
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
