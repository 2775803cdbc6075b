//! Handles for outstanding operations and the slab that tracks them.
//!
//! A request is posted, then tested or waited on through its [`RequestId`].
//! Handles carry a generation so a stale handle can never reach a slot that
//! has been reused for a later request.

use crate::error::Error;
use crate::rank::Rank;
use alloc::vec::Vec;

/// A handle to a posted send or receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId {
    index: u32,
    generation: u32,
}

impl RequestId {
    /// The handle as one integer (never 0), for handles that cross a C ABI.
    pub fn to_bits(self) -> u64 {
        ((u64::from(self.generation) << 32) | u64::from(self.index)).wrapping_add(1)
    }

    /// The handle [`RequestId::to_bits`] produced, or `None` for 0.
    pub fn from_bits(bits: u64) -> Option<RequestId> {
        let raw = bits.checked_sub(1)?;
        Some(RequestId {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        })
    }
}

/// What a completed operation moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The other party: the destination of a send, the source of a receive.
    pub peer: Rank,
    /// The message tag.
    pub tag: u32,
    /// Bytes in the message.
    pub len: u64,
}

/// The buffer an operation borrowed, handed back when it completes.
#[derive(Debug)]
pub enum Buffer<Tx, Rx> {
    /// A send's source buffer.
    Send(Tx),
    /// A receive's destination buffer.
    Recv(Rx),
}

/// A finished operation: its buffer, and what happened.
#[derive(Debug)]
pub struct Completion<Tx, Rx> {
    /// The buffer the operation was posted with.
    pub buffer: Buffer<Tx, Rx>,
    /// The message's status, or why the operation failed.
    pub result: Result<Status, Error>,
}

/// A receive that is posted and not yet complete.
#[derive(Debug)]
pub(crate) struct PendingRecv<Rx> {
    pub buf: Rx,
}

#[derive(Debug)]
enum Slot<Tx, Rx> {
    Free {
        next_free: Option<u32>,
    },
    /// A send whose buffer sits in a link's transmit queue.
    Sending,
    Receiving(PendingRecv<Rx>),
    Done(Completion<Tx, Rx>),
}

/// Every outstanding request of an endpoint.
#[derive(Debug)]
pub(crate) struct Requests<Tx, Rx> {
    slots: Vec<(u32, Slot<Tx, Rx>)>,
    free_head: Option<u32>,
    detached: Vec<bool>,
    live: usize,
}

impl<Tx, Rx> Requests<Tx, Rx> {
    pub fn new() -> Self {
        Requests {
            slots: Vec::new(),
            free_head: None,
            detached: Vec::new(),
            live: 0,
        }
    }

    /// Number of requests posted and not yet taken.
    pub fn live(&self) -> usize {
        self.live
    }

    fn insert(&mut self, slot: Slot<Tx, Rx>) -> RequestId {
        self.live += 1;
        if let Some(index) = self.free_head {
            let entry = &mut self.slots[index as usize];
            self.free_head = match entry.1 {
                Slot::Free { next_free } => next_free,
                _ => None,
            };
            entry.1 = slot;
            self.detached[index as usize] = false;
            return RequestId {
                index,
                generation: entry.0,
            };
        }
        let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push((0, slot));
        self.detached.push(false);
        RequestId {
            index,
            generation: 0,
        }
    }

    /// Registers a send whose buffer the caller has queued on a link.
    pub fn insert_send(&mut self) -> RequestId {
        self.insert(Slot::Sending)
    }

    /// Registers a posted receive.
    pub fn insert_recv(&mut self, recv: PendingRecv<Rx>) -> RequestId {
        self.insert(Slot::Receiving(recv))
    }

    fn slot(&self, id: RequestId) -> Option<&Slot<Tx, Rx>> {
        match self.slots.get(id.index as usize) {
            Some((generation, slot)) if *generation == id.generation => Some(slot),
            _ => None,
        }
    }

    fn slot_mut(&mut self, id: RequestId) -> Option<&mut Slot<Tx, Rx>> {
        match self.slots.get_mut(id.index as usize) {
            Some((generation, slot)) if *generation == id.generation => Some(slot),
            _ => None,
        }
    }

    /// The pending receive behind `id`, if it is one.
    pub fn recv_mut(&mut self, id: RequestId) -> Option<&mut PendingRecv<Rx>> {
        match self.slot_mut(id) {
            Some(Slot::Receiving(r)) => Some(r),
            _ => None,
        }
    }

    /// Is `id` finished? `Err` if the handle is unknown.
    pub fn is_complete(&self, id: RequestId) -> Result<bool, Error> {
        match self.slot(id) {
            Some(Slot::Done(_)) => Ok(true),
            Some(Slot::Sending | Slot::Receiving(_)) => Ok(false),
            Some(Slot::Free { .. }) | None => Err(Error::UnknownRequest),
        }
    }

    /// Records the outcome of a send.
    pub fn complete_send(&mut self, id: RequestId, buf: Tx, result: Result<Status, Error>) {
        self.finish(
            id,
            Completion {
                buffer: Buffer::Send(buf),
                result,
            },
        );
    }

    /// Records the outcome of a receive, taking its buffer out of the slot.
    pub fn complete_recv(&mut self, id: RequestId, result: Result<Status, Error>) {
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        if let Slot::Receiving(_) = slot {
            let Slot::Receiving(recv) = core::mem::replace(slot, Slot::Sending) else {
                return;
            };
            self.finish(
                id,
                Completion {
                    buffer: Buffer::Recv(recv.buf),
                    result,
                },
            );
        }
    }

    fn finish(&mut self, id: RequestId, completion: Completion<Tx, Rx>) {
        if self
            .detached
            .get(id.index as usize)
            .copied()
            .unwrap_or(false)
        {
            drop(completion);
            self.release(id);
        } else if let Some(slot) = self.slot_mut(id) {
            *slot = Slot::Done(completion);
        }
    }

    /// Takes a finished request's completion, freeing its handle.
    /// `Ok(None)` means still pending.
    pub fn take(&mut self, id: RequestId) -> Result<Option<Completion<Tx, Rx>>, Error> {
        if !self.is_complete(id)? {
            return Ok(None);
        }
        let slot = self.slot_mut(id).ok_or(Error::UnknownRequest)?;
        let Slot::Done(done) = core::mem::replace(slot, Slot::Free { next_free: None }) else {
            return Err(Error::UnknownRequest);
        };
        self.release(id);
        Ok(Some(done))
    }

    /// Forgets `id`: its completion, now or later, is dropped unseen.
    pub fn detach(&mut self, id: RequestId) -> Result<(), Error> {
        if self.is_complete(id)? {
            self.take(id).map(drop)
        } else {
            self.detached[id.index as usize] = true;
            Ok(())
        }
    }

    fn release(&mut self, id: RequestId) {
        let Some(entry) = self.slots.get_mut(id.index as usize) else {
            return;
        };
        entry.0 = entry.0.wrapping_add(1);
        entry.1 = Slot::Free {
            next_free: self.free_head,
        };
        self.free_head = Some(id.index);
        self.live -= 1;
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn stale_handles_are_rejected() {
        let mut reqs: Requests<u8, u8> = Requests::new();
        let peer = Rank::new(1).unwrap();
        let a = reqs.insert_send();
        assert_eq!(reqs.is_complete(a), Ok(false));
        reqs.complete_send(
            a,
            5,
            Ok(Status {
                peer,
                tag: 0,
                len: 1,
            }),
        );
        let done = reqs.take(a).unwrap().unwrap();
        assert!(matches!(done.buffer, Buffer::Send(5)));
        // The slot is reused, but the old handle must not see the new request.
        let b = reqs.insert_send();
        assert_eq!(reqs.is_complete(a), Err(Error::UnknownRequest));
        assert_eq!(reqs.is_complete(b), Ok(false));
        assert_eq!(reqs.live(), 1);
    }

    #[test]
    fn handles_round_trip_through_bits() {
        let mut reqs: Requests<u8, u8> = Requests::new();
        let a = reqs.insert_send();
        assert_ne!(a.to_bits(), 0);
        assert_eq!(RequestId::from_bits(a.to_bits()), Some(a));
        assert_eq!(RequestId::from_bits(0), None);
    }

    #[test]
    fn detached_requests_free_themselves() {
        let mut reqs: Requests<u8, u8> = Requests::new();
        let a = reqs.insert_send();
        reqs.detach(a).unwrap();
        reqs.complete_send(a, 1, Err(Error::SelfMessage));
        assert_eq!(reqs.live(), 0);
        assert_eq!(reqs.take(a).unwrap_err(), Error::UnknownRequest);
    }
}
