//! TCP for the core over the kernel's own sockets: the core's `Socket` and
//! `Network` traits on top of the glue's non-blocking kernel socket calls.

use crate::glue::{Errno, Sock};
use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};
use ternion_core::socket::{Network, Socket, SocketError};
use ternion_core::{Rank, PARTIES};

const EAGAIN: Errno = 11;
const EINPROGRESS: Errno = 115;
const EALREADY: Errno = 114;
const ENOTCONN: Errno = 107;
const ECONNREFUSED: Errno = 111;
const ECONNRESET: Errno = 104;
const EPIPE: Errno = 32;

/// Pending connections the listener queues.
const BACKLOG: i32 = 16;

fn socket_error(errno: Errno) -> SocketError {
    match errno {
        EAGAIN | EINPROGRESS | EALREADY | ENOTCONN => SocketError::WouldBlock,
        ECONNREFUSED => SocketError::Refused,
        ECONNRESET | EPIPE => SocketError::Reset,
        other => SocketError::Other(other),
    }
}

fn wire_address(addr: SocketAddrV4) -> (u32, u16) {
    (u32::from_ne_bytes(addr.ip().octets()), addr.port())
}

/// A kernel TCP stream, possibly still connecting.
pub struct KernelSocket {
    sock: Sock,
    peer: SocketAddrV4,
    connecting: bool,
}

impl KernelSocket {
    /// `Ok(true)` once the connection is up; an error if it failed.
    fn ready(&mut self) -> Result<bool, SocketError> {
        if self.connecting {
            match self.sock.connected() {
                Ok(()) => self.connecting = false,
                Err(EINPROGRESS) => return Ok(false),
                Err(errno) => return Err(socket_error(errno)),
            }
        }
        Ok(true)
    }
}

impl Socket for KernelSocket {
    type Addr = SocketAddrV4;

    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError> {
        if !self.ready()? {
            return Err(SocketError::WouldBlock);
        }
        self.sock.recv(bufs).map_err(socket_error)
    }

    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError> {
        if !self.ready()? {
            return Err(SocketError::WouldBlock);
        }
        self.sock.send(bufs).map_err(socket_error)
    }

    fn close(&mut self) {
        // The glue shuts the connection down when the handle is released;
        // until then a closed link simply stops using the socket.
        self.connecting = false;
    }

    fn peer_addr(&self) -> SocketAddrV4 {
        self.peer
    }
}

/// Why a party could not open its network.
#[derive(Debug)]
pub enum NetworkError {
    /// An address is not `a.b.c.d:port`.
    BadAddress,
    /// Listening on this party's own address failed with a kernel errno.
    Listen(Errno),
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::BadAddress => write!(f, "peer addresses must be IPv4 a.b.c.d:port"),
            NetworkError::Listen(errno) => write!(f, "cannot listen (kernel error {errno})"),
        }
    }
}

/// The three parties' addresses and this party's listener.
pub struct KernelNetwork {
    listener: Sock,
    peers: [SocketAddrV4; PARTIES],
}

impl KernelNetwork {
    /// Parses the peers' `a.b.c.d:port` addresses and listens on `rank`'s.
    pub fn bind(rank: Rank, peers: [&str; PARTIES]) -> Result<KernelNetwork, NetworkError> {
        let mut parsed = [SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0); PARTIES];
        for (slot, text) in parsed.iter_mut().zip(peers) {
            *slot = text.trim().parse().map_err(|_| NetworkError::BadAddress)?;
        }
        let (addr, port) = wire_address(parsed[rank.index()]);
        let listener = Sock::listen(addr, port, BACKLOG).map_err(NetworkError::Listen)?;
        Ok(KernelNetwork {
            listener,
            peers: parsed,
        })
    }
}

impl Network for KernelNetwork {
    type Socket = KernelSocket;

    fn connect(&mut self, peer: Rank) -> Result<KernelSocket, SocketError> {
        let target = self.peers[peer.index()];
        let (addr, port) = wire_address(target);
        let sock = Sock::connect(addr, port).map_err(socket_error)?;
        Ok(KernelSocket {
            sock,
            peer: target,
            connecting: true,
        })
    }

    fn accept(&mut self) -> Result<Option<KernelSocket>, SocketError> {
        match self.listener.accept() {
            Ok(sock) => {
                let peer = match sock.peer() {
                    Ok((addr, port)) => SocketAddrV4::new(Ipv4Addr::from(addr.to_ne_bytes()), port),
                    Err(_) => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
                };
                Ok(Some(KernelSocket {
                    sock,
                    peer,
                    connecting: false,
                }))
            }
            Err(EAGAIN) => Ok(None),
            Err(errno) => Err(socket_error(errno)),
        }
    }
}
