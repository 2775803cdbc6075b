//! One party's TCP/IP stack: a smoltcp interface on its [`SimDevice`], and
//! the TCP sockets bound to it.
//!
//! Besides the sockets its connections own, a host keeps a backlog of
//! listening sockets (smoltcp turns a listening socket into the connection
//! itself, so a fresh one must take its place for the next dialler) and the
//! sockets their owners have closed, until TCP has finished with them.

use super::address::{address_of, port_of};
use super::config::SimConfig;
use super::device::SimDevice;
use crate::rank::Rank;
use crate::socket::SocketError;
use crate::time::Instant;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::iface::{Config as IfaceConfig, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::{tcp, AnySocket};
use smoltcp::time::{Duration as SmolDuration, Instant as SmolInstant};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Address};

/// Ports a host dials from, as Linux's default `ip_local_port_range` roughly does.
const EPHEMERAL_PORTS: core::ops::RangeInclusive<u16> = 49152..=65535;
/// Largest buffer smoltcp accepts (it panics beyond, for a receive buffer).
const MAX_TCP_BUFFER: usize = 1 << 30;
/// Linux's error numbers, for the failures that have one.
const EINVAL: i32 = 22;
const EADDRNOTAVAIL: i32 = 99;

/// One party's interface, device and TCP sockets.
pub(crate) struct SimHost {
    address: Ipv4Address,
    listen_port: u16,
    iface: Interface,
    device: SimDevice,
    sockets: SocketSet<'static>,
    tcp_send_buffer: usize,
    tcp_receive_buffer: usize,
    tcp_give_up: Option<SmolDuration>,
    listen_backlog: usize,
    /// Listening sockets, some of which may be mid-handshake.
    listeners: Vec<SocketHandle>,
    /// Connections whose handshake completed, and where they came from,
    /// waiting to be accepted.
    accepted: VecDeque<(SocketHandle, IpEndpoint)>,
    /// Sockets their owner closed, finishing TCP's shutdown before removal.
    orphans: Vec<SocketHandle>,
    next_port: u16,
}

impl core::fmt::Debug for SimHost {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimHost")
            .field("address", &self.address)
            .field("listen_port", &self.listen_port)
            .field("listeners", &self.listeners.len())
            .field("accepted", &self.accepted.len())
            .field("orphans", &self.orphans.len())
            .finish_non_exhaustive()
    }
}

impl SimHost {
    /// Party `rank`'s stack at its address, listening on its port from
    /// `now`. `random_seed` feeds smoltcp's initial sequence numbers.
    pub fn new(rank: Rank, config: &SimConfig, random_seed: u64, now: Instant) -> SimHost {
        let address = address_of(rank);
        let mut device = SimDevice::new(config.mtu);
        let mut iface_config = IfaceConfig::new(HardwareAddress::Ip);
        iface_config.random_seed = random_seed;
        let mut iface = Interface::new(iface_config, &mut device, smol_instant(now));
        iface.update_ip_addrs(|addrs| {
            // One address on a fresh interface always fits.
            let _ = addrs.push(IpCidr::new(address.into(), 24));
        });
        let mut host = SimHost {
            address,
            listen_port: port_of(rank),
            iface,
            device,
            sockets: SocketSet::new(vec![]),
            tcp_send_buffer: config.tcp_send_buffer.clamp(1, MAX_TCP_BUFFER),
            tcp_receive_buffer: config.tcp_receive_buffer.clamp(1, MAX_TCP_BUFFER),
            tcp_give_up: config.tcp_give_up.map(smol_duration),
            listen_backlog: config.listen_backlog.max(1),
            listeners: Vec::new(),
            accepted: VecDeque::new(),
            orphans: Vec::new(),
            next_port: *EPHEMERAL_PORTS.start(),
        };
        host.tend_sockets();
        host
    }

    /// Lets the interface process arrived packets and send what its sockets
    /// have to send at `now`. Returns true if any packet moved or any
    /// socket may have changed state.
    pub fn poll(&mut self, now: Instant) -> bool {
        let arrivals = self.device.pending() > 0;
        let result = self
            .iface
            .poll(smol_instant(now), &mut self.device, &mut self.sockets);
        self.tend_sockets();
        arrivals || result == PollResult::SocketStateChanged
    }

    /// When the interface must be polled again even if no packet arrives
    /// (a retransmission, a delayed ACK, TIME-WAIT's end...).
    pub fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        self.iface
            .poll_at(smol_instant(now), &self.sockets)
            .map(|at| Instant::from_micros(u64::try_from(at.total_micros()).unwrap_or(0)))
    }

    /// Queues a packet from the medium for the interface.
    pub fn deliver(&mut self, packet: Vec<u8>) {
        self.device.deliver(packet);
    }

    /// Takes the packets the interface has sent, oldest first.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        self.device.take_sent()
    }

    /// Aborts every TCP connection with `peer`, as a reset from a middlebox
    /// would: each socket goes to CLOSED at once, and its owner's next read
    /// or write reports the reset. Returns how many connections it aborted.
    pub fn abort_connections_with(&mut self, peer: Ipv4Address) -> usize {
        let mut aborted = 0;
        for (_, socket) in self.sockets.iter_mut() {
            let Some(socket) = tcp::Socket::downcast_mut(socket) else {
                continue;
            };
            let with_peer = socket
                .remote_endpoint()
                .is_some_and(|remote| remote.addr == IpAddress::from(peer));
            if with_peer && socket.is_active() {
                socket.abort();
                aborted += 1;
            }
        }
        aborted
    }

    /// Opens a TCP connection to `remote` from a free ephemeral port.
    pub(crate) fn connect(&mut self, remote: IpEndpoint) -> Result<SocketHandle, SocketError> {
        let local_port = self.free_port().ok_or(SocketError::Other(EADDRNOTAVAIL))?;
        let socket = self.new_tcp_socket();
        let handle = self.sockets.add(socket);
        let local = IpEndpoint::new(self.address.into(), local_port);
        let socket = self.sockets.get_mut::<tcp::Socket>(handle);
        match socket.connect(self.iface.context(), remote, local) {
            Ok(()) => Ok(handle),
            Err(_) => {
                self.sockets.remove(handle);
                Err(SocketError::Other(EINVAL))
            }
        }
    }

    /// The oldest connection whose handshake has completed, and its remote
    /// end, if any.
    pub(crate) fn accept(&mut self) -> Option<(SocketHandle, IpEndpoint)> {
        self.tend_sockets();
        self.accepted.pop_front()
    }

    /// The TCP socket behind `handle`. Every handle given out by
    /// [`SimHost::connect`] or [`SimHost::accept`] stays valid until it is
    /// given back through [`SimHost::release`].
    pub(crate) fn tcp(&mut self, handle: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(handle)
    }

    /// Takes back a socket its owner has closed. As Linux does, a socket
    /// closed with unread data is reset rather than shut down in order; any
    /// other is shut down with a FIN, and removed once TCP is done with it.
    pub(crate) fn release(&mut self, handle: SocketHandle) {
        let socket = self.tcp(handle);
        if socket.recv_queue() > 0 {
            socket.abort();
        } else {
            socket.close();
        }
        self.orphans.push(handle);
    }

    fn new_tcp_socket(&self) -> tcp::Socket<'static> {
        let rx = tcp::SocketBuffer::new(vec![0; self.tcp_receive_buffer]);
        let tx = tcp::SocketBuffer::new(vec![0; self.tcp_send_buffer]);
        let mut socket = tcp::Socket::new(rx, tx);
        // The core writes whole frames and wants them sent now (TCP_NODELAY).
        socket.set_nagle_enabled(false);
        socket.set_timeout(self.tcp_give_up);
        socket
    }

    /// Moves finished handshakes to the accept queue, keeps the listen
    /// backlog full, and removes closed sockets nobody owns.
    fn tend_sockets(&mut self) {
        let mut i = 0;
        while i < self.listeners.len() {
            let handle = self.listeners[i];
            match self.tcp(handle).state() {
                tcp::State::Listen | tcp::State::SynReceived => i += 1,
                // A reset took it mid-handshake: nobody will own it.
                tcp::State::Closed => {
                    self.listeners.remove(i);
                    self.orphans.push(handle);
                }
                _ => {
                    self.listeners.remove(i);
                    match self.tcp(handle).remote_endpoint() {
                        Some(remote) => self.accepted.push_back((handle, remote)),
                        None => self.orphans.push(handle),
                    }
                }
            }
        }
        while self.listeners.len() < self.listen_backlog {
            let mut socket = self.new_tcp_socket();
            if socket.listen(self.listen_port).is_err() {
                // Only a zero port is refused, and no party has one.
                break;
            }
            let handle = self.sockets.add(socket);
            self.listeners.push(handle);
        }
        let mut i = 0;
        while i < self.orphans.len() {
            let handle = self.orphans[i];
            let socket = self.tcp(handle);
            // Data for a closed socket is answered with a reset (Linux does the same).
            if socket.can_recv() {
                socket.abort();
            }
            // Gone once CLOSED with any final reset already sent.
            if socket.state() == tcp::State::Closed && socket.remote_endpoint().is_none() {
                self.orphans.swap_remove(i);
                self.sockets.remove(handle);
            } else {
                i += 1;
            }
        }
    }

    /// The next ephemeral port no socket of this host is bound to.
    fn free_port(&mut self) -> Option<u16> {
        let span = usize::from(EPHEMERAL_PORTS.end() - EPHEMERAL_PORTS.start()) + 1;
        for _ in 0..span {
            let port = self.next_port;
            self.next_port = if port == *EPHEMERAL_PORTS.end() {
                *EPHEMERAL_PORTS.start()
            } else {
                port + 1
            };
            let in_use = self.sockets.iter().any(|(_, socket)| {
                tcp::Socket::downcast(socket)
                    .and_then(|s| s.local_endpoint())
                    .is_some_and(|local| local.port == port)
            });
            if !in_use {
                return Some(port);
            }
        }
        None
    }
}

fn smol_instant(at: Instant) -> SmolInstant {
    SmolInstant::from_micros(i64::try_from(at.as_micros()).unwrap_or(i64::MAX))
}

fn smol_duration(d: crate::time::Duration) -> SmolDuration {
    SmolDuration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
