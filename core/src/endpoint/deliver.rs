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

    fn region(&mut self, inbound: &Inbound, max: usize) -> Option<&mut [u8]> {
        let at = inbound.received as usize;
        match inbound.sink {
            Sink::Request { id, capacity } => {
                let buf = self.requests.recv_mut(id)?.buf.as_mut();
                let end = capacity.min(buf.len()).min(at.saturating_add(max));
                (at < end).then(|| &mut buf[at..end])
            }
            Sink::Unexpected(key) => {
                let u = self.matcher.unexpected_mut(key)?;
                u.data.resize(at + max, 0);
                Some(&mut u.data[at..])
            }
        }
    }

    fn truncate(&mut self, sink: Sink, len: usize) {
        if let Sink::Unexpected(key) = sink {
            if let Some(u) = self.matcher.unexpected_mut(key) {
                u.data.truncate(len);
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
                    u.data.extend_from_slice(src);
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
    let n = buf.len().min(msg.data.len());
    buf[..n].copy_from_slice(&msg.data[..n]);
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
    matcher.recycle(msg.data);
}
