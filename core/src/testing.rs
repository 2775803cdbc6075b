//! In-memory sockets and a three-party switchboard for deterministic tests.
//!
//! Nothing here touches the operating system: three endpoints can run a whole
//! job in one thread, stepped by the test, with a simulated clock.

use crate::rank::{Rank, PARTIES};
use crate::socket::{Network, Socket, SocketError};
use crate::time::Duration;
use alloc::collections::VecDeque;
use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

#[derive(Debug, Default)]
struct Pipe {
    bytes: VecDeque<u8>,
    writer_closed: bool,
    reader_closed: bool,
}

/// One end of an in-memory byte stream with bounded capacity.
#[derive(Debug)]
pub struct MemSocket {
    incoming: Rc<RefCell<Pipe>>,
    outgoing: Rc<RefCell<Pipe>>,
    capacity: usize,
    write_limit: Option<usize>,
    label: u32,
    tap: Option<Rc<RefCell<Vec<u8>>>>,
    round_trip: Option<Duration>,
    unsent_limit: Rc<Cell<Option<usize>>>,
}

impl MemSocket {
    /// Two connected ends; each direction holds at most `capacity` bytes.
    pub fn pair(capacity: usize) -> (MemSocket, MemSocket) {
        let ab = Rc::new(RefCell::new(Pipe::default()));
        let ba = Rc::new(RefCell::new(Pipe::default()));
        let a = MemSocket {
            incoming: ba.clone(),
            outgoing: ab.clone(),
            capacity,
            write_limit: None,
            label: 0,
            tap: None,
            round_trip: None,
            unsent_limit: Rc::default(),
        };
        let b = MemSocket {
            incoming: ab,
            outgoing: ba,
            capacity,
            write_limit: None,
            label: 1,
            tap: None,
            round_trip: None,
            unsent_limit: Rc::default(),
        };
        (a, b)
    }

    /// Makes each write accept at most `limit` bytes (to exercise partial writes).
    pub fn set_write_limit(&mut self, limit: Option<usize>) {
        self.write_limit = limit;
    }

    /// Makes the socket report `rtt` as its path's round trip.
    pub fn set_round_trip(&mut self, rtt: Option<Duration>) {
        self.round_trip = rtt;
    }

    /// What the link last asked the socket to keep unsent at most (shared
    /// with the socket, so it can be read after the link took it).
    pub fn unsent_limit(&self) -> Rc<Cell<Option<usize>>> {
        Rc::clone(&self.unsent_limit)
    }

    /// Takes every byte waiting to be read.
    pub fn drain(&mut self) -> Vec<u8> {
        self.incoming.borrow_mut().bytes.drain(..).collect()
    }

    /// Writes raw bytes, ignoring the capacity (a test playing a bad peer).
    pub fn inject(&mut self, bytes: &[u8]) {
        self.outgoing
            .borrow_mut()
            .bytes
            .extend(bytes.iter().copied());
    }
}

impl Socket for MemSocket {
    type Addr = u32;

    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError> {
        let mut pipe = self.incoming.borrow_mut();
        if pipe.bytes.is_empty() {
            return if pipe.writer_closed {
                Ok(0)
            } else {
                Err(SocketError::WouldBlock)
            };
        }
        let mut n = 0;
        for buf in bufs.iter_mut() {
            let take = buf.len().min(pipe.bytes.len());
            for (slot, b) in buf.iter_mut().zip(pipe.bytes.drain(..take)) {
                *slot = b;
            }
            n += take;
            if pipe.bytes.is_empty() {
                break;
            }
        }
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError> {
        let mut pipe = self.outgoing.borrow_mut();
        if pipe.reader_closed {
            return Err(SocketError::Reset);
        }
        let room = self.capacity.saturating_sub(pipe.bytes.len());
        let room = self.write_limit.map_or(room, |l| room.min(l));
        if room == 0 {
            return Err(SocketError::WouldBlock);
        }
        let mut n = 0;
        for buf in bufs {
            let part = &buf[..buf.len().min(room - n)];
            pipe.bytes.extend(part.iter().copied());
            if let Some(tap) = &self.tap {
                tap.borrow_mut().extend_from_slice(part);
            }
            n += part.len();
            if n == room {
                break;
            }
        }
        Ok(n)
    }

    fn close(&mut self) {
        self.outgoing.borrow_mut().writer_closed = true;
        self.incoming.borrow_mut().reader_closed = true;
    }

    fn peer_addr(&self) -> u32 {
        self.label
    }

    fn round_trip(&self) -> Option<Duration> {
        self.round_trip
    }

    fn limit_unsent(&mut self, bytes: usize) {
        self.unsent_limit.set(Some(bytes));
    }
}

impl Drop for MemSocket {
    fn drop(&mut self) {
        self.close();
    }
}

/// Connects three in-memory endpoints: who listens and who waits to be accepted.
#[derive(Debug, Default)]
pub struct Switchboard {
    listening: [bool; PARTIES],
    backlog: [VecDeque<MemSocket>; PARTIES],
    capacity: usize,
    /// Every byte written on any connection, in order, for wire inspection.
    wire: Rc<RefCell<Vec<u8>>>,
    /// Every connection made, so a test can cut them.
    connections: Vec<Connection>,
}

/// Both directions of one connection, and who dialled whom.
#[derive(Debug)]
struct Connection {
    dialler: Rank,
    acceptor: Rank,
    pipes: [Weak<RefCell<Pipe>>; 2],
}

/// One party's view of a [`Switchboard`].
#[derive(Debug, Clone)]
pub struct MemNetwork {
    me: Rank,
    board: Rc<RefCell<Switchboard>>,
}

impl MemNetwork {
    /// A switchboard whose pipes hold `capacity` bytes each way, and the three parties' views of it.
    pub fn three(capacity: usize) -> [MemNetwork; PARTIES] {
        let board = Rc::new(RefCell::new(Switchboard {
            capacity,
            ..Switchboard::default()
        }));
        Rank::ALL.map(|me| MemNetwork {
            me,
            board: board.clone(),
        })
    }

    /// Every byte written on any connection of this switchboard so far.
    pub fn wire_bytes(&self) -> Vec<u8> {
        self.board.borrow().wire.borrow().clone()
    }

    /// Starts (or stops) accepting connections for this party.
    pub fn listen(&self, on: bool) {
        self.board.borrow_mut().listening[self.me.index()] = on;
    }

    /// Breaks every open connection between this party and `other`, as a
    /// failed route would: bytes in flight are lost, and each end sees the
    /// connection closed (end-of-stream on reads, a reset on writes).
    pub fn cut(&self, other: Rank) {
        let mut board = self.board.borrow_mut();
        board.connections.retain(|c| {
            let ends = (c.dialler, c.acceptor);
            let ours = ends == (self.me, other) || ends == (other, self.me);
            if ours {
                for pipe in c.pipes.iter().filter_map(Weak::upgrade) {
                    let mut pipe = pipe.borrow_mut();
                    pipe.bytes.clear();
                    pipe.writer_closed = true;
                    pipe.reader_closed = true;
                }
            }
            !ours && c.pipes.iter().any(|p| p.strong_count() > 0)
        });
    }

    /// Opens a raw connection to `to` as a stranger would, returning our end.
    pub fn dial_raw(&self, to: Rank) -> Option<MemSocket> {
        let mut board = self.board.borrow_mut();
        if !board.listening[to.index()] {
            return None;
        }
        let (mut ours, mut theirs) = MemSocket::pair(board.capacity);
        ours.label = 100 + self.me.index() as u32;
        theirs.label = 200 + self.me.index() as u32;
        ours.tap = Some(board.wire.clone());
        theirs.tap = Some(board.wire.clone());
        let pipes = [Rc::downgrade(&ours.incoming), Rc::downgrade(&ours.outgoing)];
        board.connections.push(Connection {
            dialler: self.me,
            acceptor: to,
            pipes,
        });
        board.backlog[to.index()].push_back(theirs);
        Some(ours)
    }

    /// Appends `bytes` to the stream this party sends `to` on their latest
    /// connection, behind whatever it has written so far, as a forger on
    /// the path would: the bytes ignore the capacity and are not recorded
    /// in [`MemNetwork::wire_bytes`]. Returns false, forging nothing, once
    /// this party's end of that connection is closed.
    pub fn forge(&self, to: Rank, bytes: &[u8]) -> bool {
        let board = self.board.borrow();
        let latest = board.connections.iter().rev().find(|c| {
            let ends = (c.dialler, c.acceptor);
            ends == (self.me, to) || ends == (to, self.me)
        });
        // `pipes` holds the dialler's incoming and outgoing streams.
        let sent = latest.and_then(|c| c.pipes[usize::from(c.dialler == self.me)].upgrade());
        let Some(stream) = sent else {
            return false;
        };
        let mut pipe = stream.borrow_mut();
        if pipe.writer_closed {
            return false;
        }
        pipe.bytes.extend(bytes.iter().copied());
        true
    }
}

impl Network for MemNetwork {
    type Socket = MemSocket;

    fn connect(&mut self, peer: Rank) -> Result<MemSocket, SocketError> {
        self.dial_raw(peer).ok_or(SocketError::Refused)
    }

    fn accept(&mut self) -> Result<Option<MemSocket>, SocketError> {
        Ok(self.board.borrow_mut().backlog[self.me.index()].pop_front())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn vectored_writes_stop_at_capacity_and_reads_span_buffers() {
        let (mut a, mut b) = MemSocket::pair(16);
        assert_eq!(a.write_vectored(&[b"0123456789", b"abcdefghij"]), Ok(16));
        assert_eq!(a.write_vectored(&[b"z"]), Err(SocketError::WouldBlock));
        let (mut head, mut tail) = ([0; 4], [0; 32]);
        assert_eq!(b.read_vectored(&mut [&mut head, &mut tail]), Ok(16));
        assert_eq!(&head, b"0123");
        assert_eq!(&tail[..12], b"456789abcdef");
        assert_eq!(
            b.read_vectored(&mut [&mut tail]),
            Err(SocketError::WouldBlock)
        );
    }

    #[test]
    fn forged_bytes_follow_what_the_party_wrote_until_it_closes() {
        let [zero, one, _] = MemNetwork::three(4);
        one.listen(true);
        let mut ours = zero.clone().connect(Rank::ALL[1]).unwrap();
        let mut theirs = one.clone().accept().unwrap().unwrap();
        assert_eq!(ours.write_vectored(&[b"abc"]), Ok(3));
        // A forger ignores the capacity, and the wire record misses it.
        assert!(zero.forge(Rank::ALL[1], b"forged"));
        let mut buf = [0; 16];
        assert_eq!(theirs.read_vectored(&mut [&mut buf]), Ok(9));
        assert_eq!(&buf[..9], b"abcforged");
        assert_eq!(zero.wire_bytes(), b"abc");
        // The acceptor's direction too.
        assert!(one.forge(Rank::ZERO, b"back"));
        assert_eq!(ours.read_vectored(&mut [&mut buf]), Ok(4));
        assert_eq!(&buf[..4], b"back");
        ours.close();
        assert!(!zero.forge(Rank::ALL[1], b"late"));
    }
}
