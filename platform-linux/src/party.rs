//! The Rust API for MPC code: one [`Party`] per process, standing links to
//! the other two, blocking and non-blocking messaging, and the ring
//! operations of replicated secret sharing.

use crate::config::{Config, Security};
use crate::driver::{CoreEndpoint, Driver};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::net::TcpNetwork;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use ternion_capi::buffer::{Lent, LentMut, RecvBuf, SendBuf};
use ternion_capi::lifecycle::{self, Settings, BACKGROUND_MIN_BYTES};
use ternion_core::collective::{combine_into, Combine, Plan, Share};
use ternion_core::{
    Buffer, Completion, LinkStats, Rank, RequestId, Source, Status, TagFilter, FIRST_RESERVED_TAG,
};

/// One party of a three-party job, connected to the other two.
pub struct Party {
    pub(crate) driver: Arc<Driver>,
    comm_thread: Mutex<Option<JoinHandle<()>>>,
    rank: Rank,
    /// Reused receive space for open and reveal (u64 for alignment).
    scratch: Mutex<Vec<u64>>,
}

/// A blocking operation on memory the caller lends for its duration.
enum Op<'a> {
    Send {
        peer: Rank,
        tag: u32,
        data: &'a [u8],
    },
    Recv {
        source: Source,
        tag: TagFilter,
        out: &'a mut [u8],
    },
}

/// Aborts the process if a panic unwinds while the core holds pointers into
/// the caller's memory: continuing would let the core write into freed memory.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("ternion: panic during a blocking operation on lent memory; aborting");
            std::process::abort();
        }
    }
}

/// The operations of a collective's `plan` on caller memory: a receive into
/// each of `outs` (in the plan's order), then a send of `data` to each party
/// the plan names.
fn plan_ops<'a>(
    plan: &Plan,
    outs: impl IntoIterator<Item = &'a mut [u8]>,
    data: &'a [u8],
) -> Vec<Op<'a>> {
    let tag = plan.tag();
    let mut ops: Vec<Op<'a>> = plan
        .receives()
        .zip(outs)
        .map(|(from, out)| Op::Recv {
            source: Source::Rank(from),
            tag: TagFilter::Tag(tag),
            out,
        })
        .collect();
    ops.extend(plan.sends().map(|peer| Op::Send { peer, tag, data }));
    ops
}

fn check_tag(tag: u32) -> Result<u32> {
    if tag >= FIRST_RESERVED_TAG {
        return Err(Error::Protocol(ternion_core::Error::InvalidTag(tag)));
    }
    Ok(tag)
}

impl Party {
    /// Connects to the other two parties: binds this party's address, dials
    /// the lower ranks, accepts the higher ones, and returns once both links
    /// are up. Fails with the rank of a party that never came.
    pub fn connect(config: &Config) -> Result<Party> {
        let network = TcpNetwork::bind(config.rank, config.peers.clone(), config.tcp.clone())
            .map_err(|e| {
                Error::Config(format!(
                    "cannot listen on {}: {e}",
                    config.peers[config.rank.index()]
                ))
            })?;
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| Error::Config(format!("no randomness: {e}")))?;
        let settings = Settings {
            rank: config.rank,
            session: config.session,
            connect_timeout: Some(config.connect_timeout),
            peer_timeout: config.peer_timeout,
            resume_buffer: config.resume_buffer,
            security: &config.security,
        };
        let core_config =
            lifecycle::endpoint_config(&settings, seed, Some(crate::ring_cipher::ring_records));
        if config.security == Security::Plaintext {
            let warning = lifecycle::plaintext_warning(config.rank);
            log::warn!("{warning}");
            eprintln!("{warning}");
        }
        let (driver, thread) =
            Driver::start(CoreEndpoint::new(core_config, Default::default()), network)?;
        let party = Party {
            driver,
            comm_thread: Mutex::new(Some(thread)),
            rank: config.rank,
            scratch: Mutex::new(Vec::new()),
        };
        lifecycle::await_links(&*party.driver)?;
        Ok(party)
    }

    /// Connects with the configuration `ternion run` provides in the environment.
    pub fn from_env() -> Result<Party> {
        Party::connect(&Config::from_env()?)
    }

    /// This party's rank.
    pub fn rank(&self) -> Rank {
        self.rank
    }

    /// The next party in the ring.
    pub fn succ(&self) -> Rank {
        self.rank.succ()
    }

    /// The previous party in the ring.
    pub fn pred(&self) -> Rank {
        self.rank.pred()
    }

    /// Traffic on the link to `peer` so far (reading it moves no data).
    pub fn stats(&self, peer: Rank) -> LinkStats {
        self.driver.inspect(|ep| ep.stats(peer))
    }

    /// Runs `ops` concurrently on the caller's memory and returns when all are done.
    fn run(&self, ops: &mut [Op<'_>]) -> Result<Vec<Status>> {
        let _guard = AbortOnUnwind;
        let mut ids = Vec::with_capacity(ops.len());
        let posted = self.driver.post(|ep| {
            for op in ops.iter_mut() {
                // SAFETY: every request posted here is waited for below before
                // this function returns, and the borrows in `ops` outlive it.
                let id = match op {
                    Op::Send { peer, tag, data } => {
                        ep.isend(*peer, *tag, SendBuf::Borrowed(unsafe { Lent::new(data) }))
                    }
                    Op::Recv { source, tag, out } => ep.irecv(
                        *source,
                        *tag,
                        RecvBuf::Borrowed(unsafe { LentMut::new(out) }),
                    ),
                };
                ids.push(id?);
            }
            Ok::<(), ternion_core::Error>(())
        });
        let completions = self.wait_ids(&ids);
        posted?;
        completions
            .into_iter()
            .map(|c| c.result.map_err(Error::from))
            .collect()
    }

    /// Blocks until every request in `ids` is complete and takes them all.
    pub(crate) fn wait_ids(&self, ids: &[RequestId]) -> Vec<Completion<SendBuf, RecvBuf>> {
        let mut checked = 0;
        self.driver
            .drive_until(None, |ep| ep.take_all_when_complete(ids, &mut checked))
            .unwrap_or_default()
    }

    /// Sends `data` to `peer` with `tag`; returns once `data` may be reused.
    pub fn send<T: Element>(&self, peer: Rank, tag: u32, data: &[T]) -> Result<()> {
        let tag = check_tag(tag)?;
        self.run(&mut [Op::Send {
            peer,
            tag,
            data: T::as_bytes(data),
        }])
        .map(drop)
    }

    /// Receives a message of exactly `out.len()` values from `peer` with `tag`.
    pub fn recv<T: Element>(&self, peer: Rank, tag: u32, out: &mut [T]) -> Result<Status> {
        let tag = check_tag(tag)?;
        self.recv_typed(Source::Rank(peer), TagFilter::Tag(tag), out)
    }

    /// Receives into `out` from any matching source and tag; the message may
    /// be shorter than `out` (the status says how long it was).
    pub fn recv_bytes(&self, source: Source, tag: TagFilter, out: &mut [u8]) -> Result<Status> {
        if let TagFilter::Tag(t) = tag {
            check_tag(t)?;
        }
        let statuses = self.run(&mut [Op::Recv { source, tag, out }])?;
        statuses.into_iter().next().ok_or(Error::TimedOut)
    }

    fn recv_typed<T: Element>(
        &self,
        source: Source,
        tag: TagFilter,
        out: &mut [T],
    ) -> Result<Status> {
        let expected = std::mem::size_of_val(out);
        let status = match T::as_bytes_mut(out) {
            Some(bytes) => self.run(&mut [Op::Recv {
                source,
                tag,
                out: bytes,
            }])?[0],
            None => {
                let mut bytes = vec![0u8; expected];
                let status = self.run(&mut [Op::Recv {
                    source,
                    tag,
                    out: &mut bytes,
                }])?[0];
                T::from_bytes(&bytes, out)?;
                status
            }
        };
        if status.len != expected as u64 {
            return Err(Error::LengthMismatch {
                expected,
                got: status.len,
            });
        }
        Ok(status)
    }

    /// Starts sending a copy of `data` to `peer`; the returned request completes
    /// when the bytes are on their way.
    pub fn isend<T: Element>(&self, peer: Rank, tag: u32, data: &[T]) -> Result<Request<'_>> {
        self.isend_vec(peer, tag, T::as_bytes(data).to_vec())
    }

    /// Starts sending `data` (without copying it) to `peer`.
    pub fn isend_vec(&self, peer: Rank, tag: u32, data: Vec<u8>) -> Result<Request<'_>> {
        let tag = check_tag(tag)?;
        let len = data.len();
        let id = self
            .driver
            .with(|ep| ep.isend(peer, tag, SendBuf::Owned(data)))?;
        Ok(self.request(id, len))
    }

    /// Starts receiving into `buf` (a message of at most `buf.len()` bytes)
    /// from `source`; the buffer comes back in the [`Completed`] result.
    pub fn irecv(&self, source: Source, tag: TagFilter, buf: Vec<u8>) -> Result<Request<'_>> {
        if let TagFilter::Tag(t) = tag {
            check_tag(t)?;
        }
        let len = buf.len();
        let id = self
            .driver
            .with(|ep| ep.irecv(source, tag, RecvBuf::Owned(buf)))?;
        Ok(self.request(id, len))
    }

    fn request(&self, id: RequestId, len: usize) -> Request<'_> {
        if len >= BACKGROUND_MIN_BYTES {
            self.driver.request_background_progress();
        }
        Request {
            party: self,
            id: Some(id),
        }
    }

    /// Waits for every request and returns their results in order. All
    /// requests run to completion even if one fails; the first error is returned.
    pub fn wait_all(&self, requests: Vec<Request<'_>>) -> Result<Vec<Completed>> {
        let ids: Vec<RequestId> = requests
            .into_iter()
            .filter_map(|mut r| r.id.take())
            .collect();
        self.wait_ids(&ids)
            .into_iter()
            .map(Completed::from_core)
            .collect()
    }

    /// Sends `send` to the predecessor and receives `recv.len()` values from
    /// the successor, concurrently: one round of replicated secret sharing.
    pub fn exchange<T: Element>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let plan = Plan::exchange(self.rank);
        let expected = std::mem::size_of_val(recv);
        let statuses = match T::as_bytes_mut(recv) {
            Some(out) => self.run(&mut plan_ops(&plan, [out], T::as_bytes(send)))?,
            None => {
                let mut bytes = vec![0u8; expected];
                let s = self.run(&mut plan_ops(&plan, [&mut bytes[..]], T::as_bytes(send)))?;
                T::from_bytes(&bytes, recv)?;
                s
            }
        };
        if statuses[0].len != expected as u64 {
            return Err(Error::LengthMismatch {
                expected,
                got: statuses[0].len,
            });
        }
        Ok(())
    }

    /// [`Party::exchange`] of a single value.
    pub fn exchange_value<T: Element>(&self, value: T) -> Result<T> {
        let mut out = [T::default()];
        self.exchange(&[value], &mut out)?;
        Ok(out[0])
    }

    /// Opens shared values to party 0: every party contributes its share;
    /// party 0 gets `Some(values)`, the others `None`.
    pub fn open<T: Element + Share>(&self, share: &[T], how: Combine) -> Result<Option<Vec<T>>> {
        if self.rank != Rank::ZERO {
            self.open_into(share, how, &mut [])?;
            return Ok(None);
        }
        let mut out = vec![T::default(); share.len()];
        self.open_into(share, how, &mut out)?;
        Ok(Some(out))
    }

    /// [`Party::open`] into memory the caller provides (`out.len() ==
    /// share.len()` at party 0; ignored elsewhere). Returns true at party 0.
    pub fn open_into<T: Element + Share>(
        &self,
        share: &[T],
        how: Combine,
        out: &mut [T],
    ) -> Result<bool> {
        let plan = Plan::open(self.rank);
        if !plan.gathers() {
            self.run(&mut plan_ops(&plan, [], T::as_bytes(share)))?;
            return Ok(false);
        }
        self.gather_into(share, how, &plan, out)?;
        Ok(true)
    }

    /// Reveals shared values to every party: each sends its share to the
    /// other two and combines the three.
    pub fn reveal<T: Element + Share>(&self, share: &[T], how: Combine) -> Result<Vec<T>> {
        let mut out = vec![T::default(); share.len()];
        self.reveal_into(share, how, &mut out)?;
        Ok(out)
    }

    /// [`Party::reveal`] into memory the caller provides (`out.len() == share.len()`).
    pub fn reveal_into<T: Element + Share>(
        &self,
        share: &[T],
        how: Combine,
        out: &mut [T],
    ) -> Result<()> {
        self.gather_into(share, how, &Plan::reveal(self.rank), out)
    }

    /// Executes a gathering `plan`: receives the other two parties' shares
    /// (one straight into `out`, the other into reused scratch memory),
    /// sends ours where the plan says, and combines the three into `out`.
    fn gather_into<T: Element + Share>(
        &self,
        share: &[T],
        how: Combine,
        plan: &Plan,
        out: &mut [T],
    ) -> Result<()> {
        let n = std::mem::size_of_val(share);
        if out.len() != share.len() {
            return Err(Error::LengthMismatch {
                expected: n,
                got: std::mem::size_of_val(out) as u64,
            });
        }
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        // Grown when too small, never cleared: receives overwrite what they use.
        if scratch.len() < n.div_ceil(8) * 2 {
            scratch.resize(n.div_ceil(8) * 2, 0);
        }
        let (from_a, from_b) =
            bytemuck::cast_slice_mut::<u64, u8>(&mut scratch).split_at_mut(n.div_ceil(8) * 8);
        let (from_a, from_b) = (&mut from_a[..n], &mut from_b[..n]);
        let in_place = T::as_bytes_mut(out);
        let first: &mut [u8] = match in_place {
            Some(bytes) => bytes,
            None => from_a,
        };
        let mut ops = plan_ops(plan, [first, &mut *from_b], T::as_bytes(share));
        let statuses = self.run(&mut ops)?;
        drop(ops);
        for s in &statuses[..2] {
            if s.len != n as u64 {
                return Err(Error::LengthMismatch {
                    expected: n,
                    got: s.len,
                });
            }
        }
        // The first share is in `out` unless T must be checked byte by byte.
        let (raw_a, raw_b) = bytemuck::cast_slice::<u64, u8>(&scratch).split_at(n.div_ceil(8) * 8);
        if T::as_bytes_mut(&mut []).is_none() {
            T::from_bytes(&raw_a[..n], out)?;
        }
        let mut other = vec![
            T::default();
            if T::view(&raw_b[..n]).is_some() {
                0
            } else {
                share.len()
            }
        ];
        let from_b: &[T] = match T::view(&raw_b[..n]) {
            Some(values) => values,
            None => {
                T::from_bytes(&raw_b[..n], &mut other)?;
                &other
            }
        };
        combine_into(out, share, how);
        combine_into(out, from_b, how);
        Ok(())
    }

    /// Returns once all three parties have called `barrier`.
    pub fn barrier(&self) -> Result<()> {
        let (mut none_a, mut none_b) = ([0u8; 0], [0u8; 0]);
        let plan = Plan::barrier(self.rank);
        self.run(&mut plan_ops(
            &plan,
            [&mut none_a[..], &mut none_b[..]],
            &[],
        ))
        .map(drop)
    }

    /// Closes in order: queued sends are flushed, every link exchanges close
    /// frames, and the communication thread stops.
    pub fn close(self) -> Result<()> {
        self.shut_down()
    }

    /// Closes in order (see [`Party::close`]) through a shared reference;
    /// later calls do nothing.
    pub(crate) fn shut_down(&self) -> Result<()> {
        let taken = self
            .comm_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(thread) = taken else {
            return Ok(());
        };
        let closed = lifecycle::close_links(&*self.driver);
        self.driver.shut_down();
        let _ = thread.join();
        closed.map_err(|_| Error::TimedOut)
    }
}

impl Drop for Party {
    fn drop(&mut self) {
        if let Err(e) = self.shut_down() {
            log::warn!("closing {}: {e}", self.rank);
        }
    }
}

/// A non-blocking operation in flight. Dropping it without waiting lets it
/// finish in the background and discards its result.
pub struct Request<'p> {
    party: &'p Party,
    id: Option<RequestId>,
}

/// The result of a completed non-blocking operation.
#[derive(Debug)]
pub struct Completed {
    /// Peer, tag and length of the message.
    pub status: Status,
    data: Vec<u8>,
}

impl Completed {
    fn from_core(c: Completion<SendBuf, RecvBuf>) -> Result<Completed> {
        let status = c.result?;
        let data = match c.buffer {
            Buffer::Recv(RecvBuf::Owned(mut v)) => {
                v.truncate(status.len as usize);
                v
            }
            Buffer::Send(SendBuf::Owned(v)) => v,
            _ => Vec::new(),
        };
        Ok(Completed { status, data })
    }

    /// The received bytes (for a send: the bytes sent).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The buffer the operation was posted with: a receive's bytes (cut to
    /// the message's length), or a send's buffer for reuse.
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// The received bytes as values of `T`.
    pub fn into_values<T: Element>(self) -> Result<Vec<T>> {
        let size = std::mem::size_of::<T>();
        if !self.data.len().is_multiple_of(size) {
            return Err(Error::LengthMismatch {
                expected: self.data.len() / size * size,
                got: self.status.len,
            });
        }
        let mut out = vec![T::default(); self.data.len() / size];
        T::from_bytes(&self.data, &mut out)?;
        Ok(out)
    }
}

impl Request<'_> {
    /// Has the operation finished? Makes progress as a side effect.
    pub fn test(&mut self) -> Result<bool> {
        let Some(id) = self.id else { return Ok(true) };
        Ok(self.party.driver.with(|ep| ep.is_complete(id))?)
    }

    /// Blocks until the operation finishes.
    pub fn wait(mut self) -> Result<Completed> {
        let Some(id) = self.id.take() else {
            return Err(Error::Protocol(ternion_core::Error::UnknownRequest));
        };
        let mut done = self.party.wait_ids(&[id]);
        match done.pop() {
            Some(c) => Completed::from_core(c),
            None => Err(Error::Protocol(ternion_core::Error::UnknownRequest)),
        }
    }
}

impl Drop for Request<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = self.party.driver.with(|ep| ep.detach(id));
        }
    }
}
