//! One party's endpoint: its two links, matching and requests.
//!
//! The endpoint is driven from outside: [`Endpoint::poll`] makes every step
//! of progress possible without blocking (dial, accept, read, write, time out)
//! and returns; the platform then sleeps until a socket is ready or
//! [`Endpoint::poll_at`] arrives. Requests are posted with [`Endpoint::isend`]
//! and [`Endpoint::irecv`] and collected with [`Endpoint::take`].
//!
//! Buffers are generic: a send holds anything that reads as bytes, a receive
//! anything that writes as bytes, and each is handed back in its completion.
//! That lets a platform lend the application's own memory, so large messages
//! move between socket and application with no intermediate copy.
//!
//! - `accept.rs`: accepted connections until their hello names a link;
//! - `deliver.rs`: matching a message to its receive, the unexpected path.

mod accept;
mod deliver;

pub(crate) use deliver::Context;

use crate::config::{EndpointConfig, MAX_FRAME_PAYLOAD};
use crate::error::{Error, LinkError};
use crate::link::{Link, LinkState};
use crate::matching::{Matcher, PostOutcome, Source, TagFilter, UnexpectedKey};
use crate::rank::{Rank, PARTIES};
use crate::request::Completion;
use crate::request::{PendingRecv, RequestId, Requests};
use crate::secure::MAX_SEALED_FRAME;
use crate::socket::{Network, Socket};
use crate::stats::LinkStats;
use crate::time::{earliest, Instant};
use crate::wire::{Capabilities, FRAME_HEADER_LEN};
use accept::PendingConn;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Events kept for the platform before the oldest are dropped.
const MAX_EVENTS: usize = 64;

/// Something the platform may want to log or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<A> {
    /// The link to this peer is established.
    LinkUp(Rank),
    /// The connection to this peer broke; the link is reconnecting and will
    /// resume where it stopped. Operations on it wait meanwhile.
    LinkInterrupted {
        /// The peer.
        peer: Rank,
        /// What broke the connection.
        reason: LinkError,
    },
    /// The link to this peer is back on a new connection, nothing lost.
    LinkResumed(Rank),
    /// The link to this peer failed; operations involving it fail with `reason`.
    LinkFailed {
        /// The peer.
        peer: Rank,
        /// What happened.
        reason: LinkError,
    },
    /// The link to this peer closed in order.
    LinkClosed(Rank),
    /// An inbound connection was refused and dropped; real links are unaffected.
    Rejected {
        /// Where it came from.
        addr: A,
        /// Why it was refused.
        reason: LinkError,
    },
}

/// The events waiting for the platform, the oldest dropped past a bound.
#[derive(Debug)]
pub(crate) struct Events<A> {
    queue: VecDeque<Event<A>>,
}

impl<A> Events<A> {
    fn new() -> Self {
        Events {
            queue: VecDeque::new(),
        }
    }

    pub fn push(&mut self, event: Event<A>) {
        if self.queue.len() == MAX_EVENTS {
            self.queue.pop_front();
        }
        self.queue.push_back(event);
    }

    fn pop(&mut self) -> Option<Event<A>> {
        self.queue.pop_front()
    }
}

/// Which readiness a socket should be watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// Wake when bytes can be read.
    pub read: bool,
    /// Wake when bytes can be written.
    pub write: bool,
}

/// One party of a three-party job.
#[derive(Debug)]
pub struct Endpoint<S: Socket, Tx, Rx> {
    config: EndpointConfig,
    links: [Option<Link<S, Tx>>; PARTIES],
    pending: Vec<PendingConn<S>>,
    matcher: Matcher,
    requests: Requests<Tx, Rx>,
    events: Events<S::Addr>,
    connect_deadline: Instant,
    closing: bool,
    /// Handshakes started, so each draws its own randomness.
    handshakes: u64,
}

impl<S: Socket, Tx: AsRef<[u8]>, Rx: AsMut<[u8]>> Endpoint<S, Tx, Rx> {
    /// A new endpoint that starts connecting at `now`. Each party dials the
    /// lower ranks and accepts the higher ones, so any start order works.
    pub fn new(mut config: EndpointConfig, now: Instant) -> Self {
        let me = config.rank;
        let secure = config.secure.is_some();
        config.capabilities.set(Capabilities::ENCRYPTED, secure);
        config
            .capabilities
            .set(Capabilities::RESUME, config.resume_buffer > 0);
        // A sealed frame (header and payload) must fit one record.
        let frame_limit = if secure {
            MAX_SEALED_FRAME - FRAME_HEADER_LEN
        } else {
            MAX_FRAME_PAYLOAD
        };
        let frame_payload = config.frame_payload.clamp(1, frame_limit);
        let resume_buffer = config.resume_buffer;
        let links = Rank::ALL.map(|peer| {
            (peer != me)
                .then(|| Link::new(peer, peer < me, frame_payload, secure, resume_buffer, now))
        });
        Endpoint {
            matcher: Matcher::new(config.max_unexpected_messages, config.max_unexpected_bytes),
            connect_deadline: now + config.connect_timeout,
            config,
            links,
            pending: Vec::new(),
            requests: Requests::new(),
            events: Events::new(),
            closing: false,
            handshakes: 0,
        }
    }

    /// This party's rank.
    pub fn rank(&self) -> Rank {
        self.config.rank
    }

    /// The state of the link to `peer` (`None` for our own rank).
    pub fn link_state(&self, peer: Rank) -> Option<LinkState> {
        self.link(peer).map(Link::state)
    }

    /// Traffic counters of the link to `peer`.
    pub fn stats(&self, peer: Rank) -> LinkStats {
        self.link(peer).map(Link::stats).unwrap_or_default()
    }

    /// True once both links are established.
    pub fn is_established(&self) -> bool {
        self.links
            .iter()
            .flatten()
            .all(|l| l.state() == LinkState::Established)
    }

    /// The first failed link and why, if any.
    pub fn failure(&self) -> Option<(Rank, LinkError)> {
        self.links
            .iter()
            .flatten()
            .find_map(|l| l.failure().map(|reason| (l.peer(), reason)))
    }

    /// True when every link is closed or failed.
    pub fn is_closed(&self) -> bool {
        self.links.iter().flatten().all(|l| !l.is_live())
    }

    /// True while any request, queued byte or link set-up needs driving.
    pub fn has_work(&self) -> bool {
        self.requests.live() > 0
            || self.links.iter().flatten().any(Link::has_work)
            || !self.pending.is_empty()
    }

    /// The next event for the platform, oldest first.
    pub fn poll_event(&mut self) -> Option<Event<S::Addr>> {
        self.events.pop()
    }

    /// Calls `f` with each open socket and what to watch it for.
    pub fn for_each_socket(&self, mut f: impl FnMut(&S, Interest)) {
        for link in self.links.iter().flatten() {
            if let Some(socket) = link.socket() {
                f(
                    socket,
                    Interest {
                        read: link.wants_read(),
                        write: link.wants_write(),
                    },
                );
            }
        }
        for p in &self.pending {
            f(
                p.socket(),
                Interest {
                    read: true,
                    write: false,
                },
            );
        }
    }

    /// When [`Endpoint::poll`] must run again even if no socket becomes ready.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut at = None;
        let mut unestablished = false;
        for link in self.links.iter().flatten() {
            let (link_at, first_connection) = link.poll_at(&self.config);
            at = earliest(at, link_at);
            unestablished |= first_connection;
        }
        if unestablished {
            at = earliest(at, Some(self.connect_deadline));
        }
        self.pending
            .iter()
            .fold(at, |at, p| earliest(at, Some(p.deadline())))
    }

    /// Posts a send of `buf` to `peer` with `tag`.
    pub fn isend(&mut self, peer: Rank, tag: u32, buf: Tx) -> Result<RequestId, Error> {
        if self.closing {
            return Err(Error::EndpointClosed);
        }
        let link = self.links[peer.index()]
            .as_mut()
            .ok_or(Error::SelfMessage)?;
        link.accepts_sends()?;
        let id = self.requests.insert_send();
        link.send(id, tag, buf);
        Ok(id)
    }

    /// Posts a receive into `buf` from `source` with a tag accepted by `tag`.
    pub fn irecv(&mut self, source: Source, tag: TagFilter, buf: Rx) -> Result<RequestId, Error> {
        if source == Source::Rank(self.config.rank) {
            return Err(Error::SelfMessage);
        }
        let id = self.requests.insert_recv(PendingRecv { buf });
        match self.matcher.post(id, source, tag) {
            PostOutcome::Ready(msg) => {
                deliver::deliver_unexpected(&mut self.requests, &mut self.matcher, id, msg)
            }
            PostOutcome::Claimed(key) => self.redirect_to_receive(key, id),
            PostOutcome::Queued => self.fail_unreachable_receives(),
        }
        Ok(id)
    }

    /// Is the request finished?
    pub fn is_complete(&self, id: RequestId) -> Result<bool, Error> {
        self.requests.is_complete(id)
    }

    /// Takes a finished request's completion (`Ok(None)` while it is pending).
    pub fn take(&mut self, id: RequestId) -> Result<Option<Completion<Tx, Rx>>, Error> {
        self.requests.take(id)
    }

    /// Takes every request in `ids` once all of them are complete (`None`
    /// while any is pending). `checked` carries, between calls, how many
    /// leading requests were already found complete, so a driver calling
    /// this after every pass does not recheck them.
    pub fn take_all_when_complete(
        &mut self,
        ids: &[RequestId],
        checked: &mut usize,
    ) -> Option<Vec<Completion<Tx, Rx>>> {
        while *checked < ids.len() && self.is_complete(ids[*checked]).unwrap_or(true) {
            *checked += 1;
        }
        (*checked == ids.len()).then(|| {
            ids.iter()
                .filter_map(|&id| self.take(id).ok().flatten())
                .collect()
        })
    }

    /// Gives up interest in a request: it still runs, but its completion is dropped.
    pub fn detach(&mut self, id: RequestId) -> Result<(), Error> {
        self.requests.detach(id)
    }

    /// Starts an orderly close: queued sends go out, then a close frame on
    /// every link. Poll until [`Endpoint::is_closed`].
    pub fn close(&mut self) {
        if self.closing {
            return;
        }
        self.closing = true;
        for peer in self.config.rank.others() {
            self.with_link(peer, |link, ctx| link.close(ctx));
        }
    }

    /// Aborts the job: an abort frame carrying `code` goes out on every live
    /// link ahead of queued messages, and no new operation is accepted. Poll
    /// until [`Endpoint::abort_sent`] before ending the process.
    pub fn abort(&mut self, code: i32) {
        self.closing = true;
        for link in self.links.iter_mut().flatten() {
            link.abort(code);
        }
    }

    /// True once every abort frame has been written (or its link is gone).
    pub fn abort_sent(&self) -> bool {
        !self.links.iter().flatten().any(Link::abort_pending)
    }

    /// Makes all progress possible now without blocking. Returns true if
    /// anything moved or changed state.
    pub fn poll<N: Network<Socket = S>>(&mut self, net: &mut N, now: Instant) -> bool {
        let mut progressed = false;
        for peer in self.config.rank.others() {
            progressed |= self
                .with_link(peer, |link, ctx| link.dial(net, now, ctx))
                .unwrap_or(false);
        }
        progressed |= self.accept(net, now);
        progressed |= self.serve_pending(now);
        // Read, then judge silence and deadlines, then write: what arrived
        // while this party was held up counts before a peer is called
        // silent, and the heartbeats the timers ask for go out at once.
        for peer in self.config.rank.others() {
            progressed |= self
                .with_link(peer, |link, ctx| link.read_in(now, ctx))
                .unwrap_or(false);
        }
        let connect_deadline = self.connect_deadline;
        for peer in self.config.rank.others() {
            self.with_link(peer, |link, ctx| link.on_timer(now, connect_deadline, ctx));
        }
        for peer in self.config.rank.others() {
            self.with_link(peer, |link, ctx| link.keep_alive(now, ctx));
        }
        self.expire_pending(now);
        for peer in self.config.rank.others() {
            progressed |= self
                .with_link(peer, |link, ctx| link.write_out(now, ctx))
                .unwrap_or(false);
        }
        progressed
    }

    fn link(&self, peer: Rank) -> Option<&Link<S, Tx>> {
        self.links[peer.index()].as_ref()
    }

    /// Runs `f` on the link to `peer` with the endpoint as its context,
    /// then fails the receives the link's changes left unreachable.
    fn with_link<R>(
        &mut self,
        peer: Rank,
        f: impl FnOnce(&mut Link<S, Tx>, &mut Context<'_, S::Addr, Tx, Rx>) -> R,
    ) -> Option<R> {
        let Endpoint {
            config,
            links,
            matcher,
            requests,
            events,
            handshakes,
            ..
        } = self;
        let link = links[peer.index()].as_mut()?;
        let mut ctx = Context {
            config,
            handshakes,
            requests,
            matcher,
            events,
            recheck_receives: false,
        };
        let result = f(link, &mut ctx);
        if ctx.recheck_receives {
            self.fail_unreachable_receives();
        }
        Some(result)
    }

    /// Receive `id` claimed a message that is still arriving: copies what has
    /// arrived into its buffer and sends the rest of the stream straight
    /// there, so a large message that beat its receive is copied only in part.
    fn redirect_to_receive(&mut self, key: UnexpectedKey, id: RequestId) {
        let Some(link) = self.links.iter_mut().flatten().find(|l| l.fills(key)) else {
            return;
        };
        let Some(recv) = self.requests.recv_mut(id) else {
            return;
        };
        let Some(msg) = self.matcher.take_claimed(key) else {
            return;
        };
        let buf = recv.buf.as_mut();
        let n = buf.len().min(msg.bytes().len());
        buf[..n].copy_from_slice(&msg.bytes()[..n]);
        link.redirect(key, id, buf.len());
        self.matcher.recycle(msg.into_buffer());
    }

    /// Fails posted receives that no live link can satisfy any more.
    fn fail_unreachable_receives(&mut self) {
        let mut any_alive = false;
        for peer in self.config.rank.others() {
            let Some(error) = self.link(peer).and_then(Link::end_error) else {
                any_alive = true;
                continue;
            };
            for id in self.matcher.drain_posted_from(peer) {
                self.requests.complete_recv(id, Err(error));
            }
        }
        if !any_alive && self.matcher.posted_len() > 0 {
            let error = match self.failure() {
                Some((peer, reason)) => Error::Link { peer, reason },
                None => Error::LinkClosed {
                    peer: self.config.rank.succ(),
                },
            };
            for id in self.matcher.drain_all_posted() {
                self.requests.complete_recv(id, Err(error));
            }
        }
    }
}
