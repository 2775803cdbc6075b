//! TCP for the core: non-blocking std sockets behind the core's `Socket`
//! and `Network` traits.

use crate::sys;
use socket2::{Domain, Protocol, Socket as RawSocket, Type};
use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use ternion_core::socket::{Network, Socket, SocketError};
use ternion_core::Rank;

/// A connected (or connecting) non-blocking TCP stream with `TCP_NODELAY`.
///
/// It remembers whether it may have bytes to read (or room to write):
/// cleared when a read finds the socket drained (or a write finds it full),
/// set again when poll(2) reports it ready. Calls in between return
/// `WouldBlock` without a system call, which keeps the latency path of an
/// exchange at one send, one poll and one read, and keeps a large transfer
/// from retrying sends on a full socket every time data arrives.
#[derive(Debug)]
pub struct TcpSocket {
    stream: TcpStream,
    peer: SocketAddr,
    maybe_readable: Cell<bool>,
    maybe_writable: Cell<bool>,
    /// The link's limit on unsent bytes applies ([`UnsentLimit::ByPath`]).
    limit_by_path: bool,
}

impl TcpSocket {
    fn new(stream: TcpStream, peer: SocketAddr, tuning: &TcpTuning) -> io::Result<TcpSocket> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(TcpSocket {
            stream,
            peer,
            maybe_readable: Cell::new(true),
            maybe_writable: Cell::new(true),
            limit_by_path: tuning.unsent == UnsentLimit::ByPath,
        })
    }

    /// Records that poll(2) found the socket readable (or closed, or in error).
    pub fn mark_readable(&self) {
        self.maybe_readable.set(true);
    }

    /// Records that poll(2) found room to write (or the socket closed, or in error).
    pub fn mark_writable(&self) {
        self.maybe_writable.set(true);
    }
}

fn socket_error(e: io::Error) -> SocketError {
    match e.kind() {
        io::ErrorKind::WouldBlock => SocketError::WouldBlock,
        io::ErrorKind::ConnectionRefused => SocketError::Refused,
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => SocketError::Reset,
        _ => match e.raw_os_error() {
            // A connect still in progress.
            Some(libc::ENOTCONN) | Some(libc::EINPROGRESS) => SocketError::WouldBlock,
            Some(code) => SocketError::Other(code),
            None => SocketError::Other(0),
        },
    }
}

impl Socket for TcpSocket {
    type Addr = SocketAddr;

    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError> {
        if !self.maybe_readable.get() {
            return Err(SocketError::WouldBlock);
        }
        let wanted: usize = bufs.iter().map(|b| b.len()).sum();
        match sys::read_vectored(self.stream.as_raw_fd(), bufs) {
            // A short read drained the socket; end-of-stream stays readable.
            Ok(n) if n > 0 && n < wanted => {
                self.maybe_readable.set(false);
                Ok(n)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                let e = socket_error(e);
                if e == SocketError::WouldBlock {
                    self.maybe_readable.set(false);
                }
                Err(e)
            }
        }
    }

    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError> {
        if !self.maybe_writable.get() {
            return Err(SocketError::WouldBlock);
        }
        let offered: usize = bufs.iter().map(|b| b.len()).sum();
        match sys::send_vectored(self.stream.as_raw_fd(), bufs) {
            // A short write filled the socket.
            Ok(n) if n < offered => {
                self.maybe_writable.set(false);
                Ok(n)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                let e = socket_error(e);
                if e == SocketError::WouldBlock {
                    self.maybe_writable.set(false);
                }
                Err(e)
            }
        }
    }

    fn close(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    fn round_trip(&self) -> Option<std::time::Duration> {
        sys::tcp_min_round_trip(self.stream.as_raw_fd())
            .ok()
            .flatten()
    }

    fn limit_unsent(&mut self, bytes: usize) {
        if !self.limit_by_path {
            return;
        }
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        if let Err(e) = sys::set_tcp_notsent_lowat(self.stream.as_raw_fd(), bytes) {
            log::warn!("TCP_NOTSENT_LOWAT {bytes} to {}: {e}", self.peer);
        }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
}

/// What ternion asks of every TCP connection besides `TCP_NODELAY`: the
/// choices for long paths (docs/architecture.md, "TCP across clouds").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpTuning {
    /// The congestion control to ask for (`None`: the host's default).
    /// Where the kernel lacks it or refuses it to this process, the
    /// connection keeps the host's default and a warning says so once.
    pub congestion: Option<String>,
    /// How many written bytes may wait unsent in the kernel.
    pub unsent: UnsentLimit,
}

/// How many written bytes a connection may keep unsent in the kernel
/// (`TCP_NOTSENT_LOWAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsentLimit {
    /// As the link's policy asks for the path's round trip: 128 KiB on
    /// paths of 1 ms or more, the host's default on shorter ones.
    ByPath,
    /// This many bytes on every connection.
    Fixed(u32),
    /// The host's default on every connection.
    Host,
}

impl TcpTuning {
    /// BBR, which across the emulated clouds filled a path that loses 0.01%
    /// or 0.1% of its packets with one connection where cubic (Linux's
    /// default) reached half of it or less, and kept its sending rate over
    /// an idle gap where cubic started again from its initial window.
    pub const DEFAULT_CONGESTION: &'static str = "bbr";

    fn apply(&self, fd: RawFd) {
        if let Some(name) = &self.congestion {
            if let Err(e) = sys::set_tcp_congestion(fd, name) {
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    log::warn!(
                        "TCP congestion control {name} is not available to this process ({e}); \
                         links use the host's default"
                    )
                });
            }
        }
        if let UnsentLimit::Fixed(bytes) = self.unsent {
            if let Err(e) = sys::set_tcp_notsent_lowat(fd, bytes) {
                log::warn!("TCP_NOTSENT_LOWAT {bytes}: {e}");
            }
        }
    }
}

impl Default for TcpTuning {
    fn default() -> TcpTuning {
        TcpTuning {
            congestion: Some(TcpTuning::DEFAULT_CONGESTION.into()),
            unsent: UnsentLimit::ByPath,
        }
    }
}

/// Listens on this party's address and dials the others by rank.
#[derive(Debug)]
pub struct TcpNetwork {
    listener: TcpListener,
    peers: [String; 3],
    tuning: TcpTuning,
    maybe_acceptable: bool,
}

impl TcpNetwork {
    /// Binds `peers[me]` and remembers where the other ranks listen; every
    /// connection, dialled or accepted, gets `tuning`.
    pub fn bind(me: Rank, peers: [String; 3], tuning: TcpTuning) -> io::Result<TcpNetwork> {
        let addr = resolve(&peers[me.index()])?;
        let socket = RawSocket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        tuning.apply(socket.as_raw_fd());
        socket.bind(&addr.into())?;
        socket.listen(64)?;
        socket.set_nonblocking(true)?;
        Ok(TcpNetwork {
            listener: socket.into(),
            peers,
            tuning,
            maybe_acceptable: true,
        })
    }

    /// Records that poll(2) found a connection waiting to be accepted.
    pub fn mark_acceptable(&mut self) {
        self.maybe_acceptable = true;
    }
}

impl AsRawFd for TcpNetwork {
    fn as_raw_fd(&self) -> RawFd {
        self.listener.as_raw_fd()
    }
}

fn resolve(host_port: &str) -> io::Result<SocketAddr> {
    host_port.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host_port} resolves to no address"),
        )
    })
}

impl Network for TcpNetwork {
    type Socket = TcpSocket;

    fn connect(&mut self, peer: Rank) -> Result<TcpSocket, SocketError> {
        let addr = resolve(&self.peers[peer.index()]).map_err(|_| SocketError::Refused)?;
        let open = || -> io::Result<TcpSocket> {
            let socket =
                RawSocket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            self.tuning.apply(socket.as_raw_fd());
            socket.set_nonblocking(true)?;
            match socket.connect(&addr.into()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
                Err(e) => return Err(e),
            }
            TcpSocket::new(socket.into(), addr, &self.tuning)
        };
        open().map_err(socket_error)
    }

    fn accept(&mut self) -> Result<Option<TcpSocket>, SocketError> {
        if !self.maybe_acceptable {
            return Ok(None);
        }
        match self.listener.accept() {
            Ok((stream, addr)) => {
                // Accepted connections inherit the listener's options;
                // set them again in case this kernel does not pass one on.
                self.tuning.apply(stream.as_raw_fd());
                TcpSocket::new(stream, addr, &self.tuning)
                    .map(Some)
                    .map_err(socket_error)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.maybe_acceptable = false;
                Ok(None)
            }
            Err(e) => Err(socket_error(e)),
        }
    }
}
