//! Matching arriving messages to receives: where each message's bytes go,
//! and the unexpected path for messages that come before their receive.
//!
//! A message whose receive is posted goes straight into the receive's
//! buffer. One that beats its receive goes to the unexpected queue; a
//! receive posted while it is still arriving claims it, takes what has
//! arrived, and the rest of the stream goes straight to the receive.

use super::Events;
use crate::config::EndpointConfig;
use crate::error::Error;
use crate::link::{Deliver, Inbound, Sink};
use crate::matching::{ArrivalOutcome, Matcher, Unexpected};
use crate::rank::Rank;
use crate::request::{RequestId, Requests, Status};

/// What a link reaches of its endpoint while the endpoint drives it.
pub(crate) struct Context<'a, A, Tx, Rx> {
    pub config: &'a EndpointConfig,
    /// Handshakes started, so each draws its own randomness.
    pub handshakes: &'a mut u64,
    pub requests: &'a mut Requests<Tx, Rx>,
    pub matcher: &'a mut Matcher,
    pub events: &'a mut Events<A>,
    /// A peer can no longer send (it closed, or its link ended): receives
    /// only it could satisfy must be failed.
    pub recheck_receives: bool,
}

impl<A, Tx, Rx: AsMut<[u8]>> Context<'_, A, Tx, Rx> {
    /// Fails the receive of an arriving message whose link ended.
    pub fn abandon(&mut self, sink: Sink, error: Error) {
        match sink {
            Sink::Request { id, .. } => self.requests.complete_recv(id, Err(error)),
            Sink::Unexpected(key) => {
                if let Some(id) = self.matcher.abandon(key) {
                    self.requests.complete_recv(id, Err(error));
                }
            }
        }
    }
}

impl<A, Tx, Rx: AsMut<[u8]>> Deliver for Context<'_, A, Tx, Rx> {
    fn begin(&mut self, peer: Rank, tag: u32, len: u64) -> Option<Sink> {
        match self.matcher.arrive(peer, tag, len).ok()? {
            ArrivalOutcome::Posted(id) => {
                let capacity = self
                    .requests
                    .recv_mut(id)
                    .map_or(0, |r| r.buf.as_mut().len());
                Some(Sink::Request { id, capacity })
            }
            ArrivalOutcome::Unexpected(key) => Some(Sink::Unexpected(key)),
        }
    }

    fn receives_from(&self, peer: Rank) -> bool {
        self.matcher.receives_from(peer)
    }

    fn region(&mut self, inbound: &Inbound, max: usize) -> Option<&mut [u8]> {
        let at = inbound.received as usize;
        match inbound.sink {
            Sink::Request { id, capacity } => {
                let buf = self.requests.recv_mut(id)?.buf.as_mut();
                let end = capacity.min(buf.len()).min(at.saturating_add(max));
                (at < end).then(|| &mut buf[at..end])
            }
            Sink::Unexpected(key) => Some(self.matcher.unexpected_mut(key)?.room_at(at, max)),
        }
    }

    fn truncate(&mut self, sink: Sink, len: usize) {
        if let Sink::Unexpected(key) = sink {
            if let Some(u) = self.matcher.unexpected_mut(key) {
                u.set_filled(len);
            }
        }
    }

    fn write(&mut self, inbound: &Inbound, src: &[u8]) {
        let at = inbound.received as usize;
        match inbound.sink {
            Sink::Request { id, capacity } => {
                if let Some(recv) = self.requests.recv_mut(id) {
                    let buf = recv.buf.as_mut();
                    let end = capacity.min(buf.len()).min(at.saturating_add(src.len()));
                    if at < end {
                        buf[at..end].copy_from_slice(&src[..end - at]);
                    }
                }
            }
            Sink::Unexpected(key) => {
                if let Some(u) = self.matcher.unexpected_mut(key) {
                    u.append(src);
                }
            }
        }
    }

    fn finish(&mut self, peer: Rank, inbound: Inbound) {
        match inbound.sink {
            Sink::Request { id, capacity } => {
                let result = if inbound.len > capacity as u64 {
                    Err(Error::Truncated {
                        message_len: inbound.len,
                        buffer_len: capacity,
                    })
                } else {
                    Ok(Status {
                        peer,
                        tag: inbound.tag,
                        len: inbound.len,
                    })
                };
                self.requests.complete_recv(id, result);
            }
            Sink::Unexpected(key) => {
                if let Some(msg) = self.matcher.take_claimed(key) {
                    if let Some(id) = msg.claimed_by {
                        deliver_unexpected(self.requests, self.matcher, id, msg);
                    }
                }
            }
        }
    }
}

/// Copies a complete unexpected message into receive `id` and completes it.
pub(super) fn deliver_unexpected<Tx, Rx: AsMut<[u8]>>(
    requests: &mut Requests<Tx, Rx>,
    matcher: &mut Matcher,
    id: RequestId,
    msg: Unexpected,
) {
    let Some(recv) = requests.recv_mut(id) else {
        return;
    };
    let buf = recv.buf.as_mut();
    let n = buf.len().min(msg.bytes().len());
    buf[..n].copy_from_slice(&msg.bytes()[..n]);
    let result = if msg.len > buf.len() as u64 {
        Err(Error::Truncated {
            message_len: msg.len,
            buffer_len: buf.len(),
        })
    } else {
        Ok(Status {
            peer: msg.source,
            tag: msg.tag,
            len: msg.len,
        })
    };
    requests.complete_recv(id, result);
    matcher.recycle(msg.into_buffer());
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::matching::{PostOutcome, Source, TagFilter};
    use crate::request::PendingRecv;
    use alloc::vec;
    use alloc::vec::Vec;

    struct Fixture {
        config: EndpointConfig,
        handshakes: u64,
        requests: Requests<Vec<u8>, Vec<u8>>,
        matcher: Matcher,
        events: Events<u32>,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                config: EndpointConfig::new(Rank::ZERO, [0; 16]),
                handshakes: 0,
                requests: Requests::new(),
                matcher: Matcher::new(4, 1 << 20),
                events: Events::new(),
            }
        }

        fn context(&mut self) -> Context<'_, u32, Vec<u8>, Vec<u8>> {
            Context {
                config: &self.config,
                handshakes: &mut self.handshakes,
                requests: &mut self.requests,
                matcher: &mut self.matcher,
                events: &mut self.events,
                recheck_receives: false,
            }
        }

        fn post(&mut self, capacity: usize) -> RequestId {
            let id = self.requests.insert_recv(PendingRecv {
                buf: vec![0; capacity],
            });
            let outcome = self.matcher.post(id, Source::Any, TagFilter::Any);
            assert!(matches!(outcome, PostOutcome::Queued));
            id
        }

        /// Delivers a whole message from rank 1 in two pieces, as a link does.
        fn arrive(&mut self, tag: u32, data: &[u8]) -> Sink {
            let peer = Rank::new(1).unwrap();
            let mut ctx = self.context();
            let sink = ctx.begin(peer, tag, data.len() as u64).unwrap();
            let mut inbound = Inbound {
                tag,
                len: data.len() as u64,
                received: 0,
                sink,
            };
            let (a, b) = data.split_at(data.len() / 2);
            for piece in [a, b] {
                ctx.write(&inbound, piece);
                inbound.received += piece.len() as u64;
            }
            ctx.finish(peer, inbound);
            sink
        }

        fn taken(&mut self, id: RequestId) -> (Vec<u8>, Result<Status, Error>) {
            let done = self.requests.take(id).unwrap().expect("complete");
            match done.buffer {
                crate::Buffer::Recv(buf) => (buf, done.result),
                crate::Buffer::Send(_) => panic!("a receive hands back its buffer"),
            }
        }
    }

    #[test]
    fn a_posted_receive_gets_the_message_in_place() {
        let mut f = Fixture::new();
        let id = f.post(8);
        let sink = f.arrive(7, &[1, 2, 3, 4, 5]);
        assert!(matches!(sink, Sink::Request { capacity: 8, .. }));
        let (buf, result) = f.taken(id);
        assert_eq!(&buf[..5], &[1, 2, 3, 4, 5]);
        let status = result.unwrap();
        assert_eq!((status.tag, status.len), (7, 5));
    }

    #[test]
    fn a_message_longer_than_its_receive_is_truncated_and_says_so() {
        let mut f = Fixture::new();
        let id = f.post(3);
        f.arrive(0, &[9; 6]);
        let (buf, result) = f.taken(id);
        assert_eq!(buf, [9, 9, 9], "the buffer holds the message's start");
        assert_eq!(
            result,
            Err(Error::Truncated {
                message_len: 6,
                buffer_len: 3
            })
        );
    }

    #[test]
    fn a_message_before_its_receive_waits_in_the_unexpected_queue() {
        let mut f = Fixture::new();
        let sink = f.arrive(4, &[5, 6, 7]);
        assert!(matches!(sink, Sink::Unexpected(_)));
        assert_eq!(f.matcher.unexpected_len(), 1);
        let id = f.requests.insert_recv(PendingRecv { buf: vec![0; 3] });
        let PostOutcome::Ready(msg) = f.matcher.post(id, Source::Any, TagFilter::Tag(4)) else {
            panic!("the whole message is waiting");
        };
        deliver_unexpected(&mut f.requests, &mut f.matcher, id, msg);
        let (buf, result) = f.taken(id);
        assert_eq!(buf, [5, 6, 7]);
        assert_eq!(result.unwrap().len, 3);
    }

    #[test]
    fn an_abandoned_message_fails_its_receive_with_the_links_reason() {
        let mut f = Fixture::new();
        let id = f.post(4);
        let peer = Rank::new(2).unwrap();
        let sink = f.context().begin(peer, 0, 4).unwrap();
        let error = Error::LinkClosed { peer };
        f.context().abandon(sink, error);
        assert_eq!(f.taken(id).1, Err(error));
    }

    #[test]
    fn a_direct_read_region_stops_at_the_receive_buffer() {
        let mut f = Fixture::new();
        f.post(10);
        let mut ctx = f.context();
        let sink = ctx.begin(Rank::new(1).unwrap(), 0, 100).unwrap();
        let inbound = Inbound {
            tag: 0,
            len: 100,
            received: 6,
            sink,
        };
        assert_eq!(ctx.region(&inbound, 50).map(|r| r.len()), Some(4));
        let full = Inbound {
            received: 10,
            ..inbound
        };
        assert!(ctx.region(&full, 50).is_none(), "the rest is dropped");
    }
}
