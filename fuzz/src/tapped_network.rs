//! An in-memory network for three endpoints on which the harness can forge
//! bytes into any connection, in either direction.
//!
//! `ternion_core::testing::MemNetwork` hands each socket to an endpoint,
//! which keeps it out of reach, and moves bytes one at a time. Here the
//! network keeps a weak handle on every stream it creates, so it can write
//! into one without keeping it alive after both ends are gone, and bytes
//! move in bulk, which keeps the `link` target fast enough to explore.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::{Rc, Weak};
use ternion_core::socket::{Network, Socket, SocketError};
use ternion_core::{Rank, PARTIES};

/// One direction of a connection.
#[derive(Debug, Default)]
struct Stream {
    bytes: VecDeque<u8>,
    writer_closed: bool,
    reader_closed: bool,
}

/// One party's end of a connection: it reads one stream and writes the other.
#[derive(Debug)]
pub struct TappedSocket {
    incoming: Rc<RefCell<Stream>>,
    outgoing: Rc<RefCell<Stream>>,
    /// Bytes the outgoing stream holds before writes would block.
    capacity: usize,
    peer: Rank,
}

impl Socket for TappedSocket {
    type Addr = Rank;

    fn read_vectored(&mut self, bufs: &mut [&mut [u8]]) -> Result<usize, SocketError> {
        let mut stream = self.incoming.borrow_mut();
        if stream.bytes.is_empty() {
            return if stream.writer_closed {
                Ok(0)
            } else {
                Err(SocketError::WouldBlock)
            };
        }
        let mut moved = 0;
        for buf in bufs.iter_mut() {
            let n = stream
                .bytes
                .read(buf)
                .expect("reading from memory cannot fail");
            moved += n;
            if n < buf.len() {
                break;
            }
        }
        Ok(moved)
    }

    fn write_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize, SocketError> {
        let mut stream = self.outgoing.borrow_mut();
        if stream.reader_closed {
            return Err(SocketError::Reset);
        }
        let mut room = self.capacity.saturating_sub(stream.bytes.len());
        if room == 0 {
            return Err(SocketError::WouldBlock);
        }
        let mut moved = 0;
        for buf in bufs {
            let n = buf.len().min(room);
            stream.bytes.extend(&buf[..n]);
            moved += n;
            room -= n;
        }
        Ok(moved)
    }

    fn close(&mut self) {
        self.outgoing.borrow_mut().writer_closed = true;
        self.incoming.borrow_mut().reader_closed = true;
    }

    fn peer_addr(&self) -> Rank {
        self.peer
    }
}

impl Drop for TappedSocket {
    fn drop(&mut self) {
        self.close();
    }
}

#[derive(Debug)]
struct Switchboard {
    /// Bytes each stream holds before its writer blocks.
    capacity: usize,
    /// Connections dialled to each rank, not yet accepted.
    backlog: [VecDeque<TappedSocket>; PARTIES],
    /// `streams[a][b]`: what rank `a` sends rank `b` on their latest connection.
    streams: [[Weak<RefCell<Stream>>; PARTIES]; PARTIES],
}

/// One party's view of a shared switchboard; every party listens.
#[derive(Debug, Clone)]
pub struct TappedNetwork {
    me: Rank,
    board: Rc<RefCell<Switchboard>>,
}

impl TappedNetwork {
    /// The three parties' views of one switchboard whose streams hold
    /// `capacity` bytes before writes block.
    pub fn three(capacity: usize) -> [TappedNetwork; PARTIES] {
        let board = Rc::new(RefCell::new(Switchboard {
            capacity,
            backlog: Default::default(),
            streams: Default::default(),
        }));
        Rank::ALL.map(|me| TappedNetwork {
            me,
            board: board.clone(),
        })
    }

    /// Appends `bytes` to the stream this party sends `to`, behind whatever
    /// it has written so far, as a forger on the wire would. Returns false,
    /// forging nothing, once this party has closed its end.
    pub fn forge(&self, to: Rank, bytes: &[u8]) -> bool {
        let stream = self.board.borrow().streams[self.me.index()][to.index()].upgrade();
        let Some(stream) = stream else {
            return false;
        };
        let mut stream = stream.borrow_mut();
        if stream.writer_closed {
            return false;
        }
        stream.bytes.extend(bytes);
        true
    }
}

impl Network for TappedNetwork {
    type Socket = TappedSocket;

    fn connect(&mut self, peer: Rank) -> Result<TappedSocket, SocketError> {
        let mut board = self.board.borrow_mut();
        let sent = Rc::new(RefCell::new(Stream::default()));
        let received = Rc::new(RefCell::new(Stream::default()));
        board.streams[self.me.index()][peer.index()] = Rc::downgrade(&sent);
        board.streams[peer.index()][self.me.index()] = Rc::downgrade(&received);
        let capacity = board.capacity;
        board.backlog[peer.index()].push_back(TappedSocket {
            incoming: sent.clone(),
            outgoing: received.clone(),
            capacity,
            peer: self.me,
        });
        Ok(TappedSocket {
            incoming: received,
            outgoing: sent,
            capacity,
            peer,
        })
    }

    fn accept(&mut self) -> Result<Option<TappedSocket>, SocketError> {
        Ok(self.board.borrow_mut().backlog[self.me.index()].pop_front())
    }
}
