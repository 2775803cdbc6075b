//! One in-kernel party: the core endpoint, driven by whichever kernel
//! thread waits for it, with a communication thread for background work.
//!
//! As on Linux, a thread that blocks on a request drives the endpoint
//! itself: it polls, and when nothing can move it sleeps on the socket
//! channel (woken by the sockets' kernel callbacks) until the endpoint's
//! next deadline. A ring exchange therefore costs two kernel function calls
//! and one wake-up, with no hand-off between threads. The communication
//! thread drives only while large non-blocking work is outstanding, and
//! otherwise wakes every [`IDLE_TICK`] for the endpoint's timers and to
//! notice a peer's abort.

use crate::console;
use crate::environment::{PartyConfig, Security};
use crate::glue::{self, Channel};
use crate::net::{KernelNetwork, KernelSocket};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering::SeqCst};
use ternion_capi::buffer::{Lent, LentMut, RecvBuf, SendBuf};
use ternion_capi::lifecycle::{
    self, Drive, PartyEndpoint, Settings, BACKGROUND_MIN_BYTES, IDLE_TICK, SPIN,
};
use ternion_core::time::earliest;
use ternion_core::{
    Completion, Endpoint, Error, Event, Instant, LinkError, LinkStats, Rank, RequestId, Source,
    Status, TagFilter,
};

/// The core endpoint as the kernel backend instantiates it.
pub type KernelEndpoint = Endpoint<KernelSocket, SendBuf, RecvBuf>;

/// The monotonic clock, as the core's instants.
pub fn now() -> Instant {
    Instant::from_micros(glue::monotonic_ns() / 1_000)
}

struct Engine {
    endpoint: KernelEndpoint,
    network: KernelNetwork,
}

/// What the party's threads share.
struct Shared {
    engine: spin::Mutex<Engine>,
    /// Outstanding non-blocking work the communication thread should drive.
    background: AtomicBool,
    /// The party is closing: the communication thread ends.
    stopping: AtomicBool,
    /// A peer's abort ends the application with the peer's code (MPI semantics).
    exit_on_peer_abort: AtomicBool,
}

impl Shared {
    /// Takes the lock. The holder never sleeps while holding it, so a
    /// contender yields the processor rather than sleeping.
    fn lock(&self) -> spin::MutexGuard<'_, Engine> {
        loop {
            if let Some(engine) = self.engine.try_lock() {
                return engine;
            }
            glue::yield_now();
        }
    }

    /// One pass of the endpoint; returns a peer's abort code if that must
    /// end the application (the caller drops the lock first).
    fn progress(&self, engine: &mut Engine) -> Option<i32> {
        let Engine { endpoint, network } = engine;
        endpoint.poll(network, now());
        let mut abort = None;
        while let Some(event) = endpoint.poll_event() {
            log::debug!("{event:?}");
            if let Event::LinkFailed { peer, reason } = event {
                log::warn!("link to {peer} failed: {reason}");
                if let LinkError::PeerAborted { code } = reason {
                    if self.exit_on_peer_abort.load(SeqCst) {
                        console::print(format_args!(
                            "ternion: {peer} aborted the job with code {code}; exiting"
                        ));
                        abort = Some(code);
                    }
                }
            }
        }
        abort
    }

    /// Drives the endpoint until `done` returns a value or `deadline` passes.
    fn drive_until<T>(
        &self,
        deadline: Option<Instant>,
        mut done: impl FnMut(&mut KernelEndpoint) -> Option<T>,
    ) -> Option<T> {
        let spin_until = now() + SPIN;
        loop {
            let seen = glue::events(Channel::Sockets);
            let next = {
                let mut engine = self.lock();
                if let Some(code) = self.progress(&mut engine) {
                    drop(engine);
                    glue::exit(code);
                }
                if let Some(value) = done(&mut engine.endpoint) {
                    return Some(value);
                }
                engine.endpoint.poll_at()
            };
            let now = now();
            if deadline.is_some_and(|d| now >= d) {
                return None;
            }
            if now < spin_until {
                glue::yield_now();
                continue;
            }
            let wake = earliest(next, deadline).unwrap_or(now + IDLE_TICK);
            let timeout = wake.saturating_since(now).min(IDLE_TICK);
            glue::wait(Channel::Sockets, seen, timeout.as_nanos() as u64);
        }
    }

    /// Runs `f` on the endpoint under the lock.
    fn with<T>(&self, f: impl FnOnce(&mut KernelEndpoint) -> T) -> T {
        f(&mut self.lock().endpoint)
    }

    fn communication_thread(&self) {
        while !self.stopping.load(SeqCst) {
            let kicks = glue::events(Channel::Kicks);
            let sockets = glue::events(Channel::Sockets);
            let mut next = None;
            if let Some(mut engine) = self.engine.try_lock() {
                if let Some(code) = self.progress(&mut engine) {
                    drop(engine);
                    glue::exit(code);
                }
                if !engine.endpoint.has_work() {
                    self.background.store(false, SeqCst);
                }
                next = engine.endpoint.poll_at();
            }
            let now = now();
            let timeout = next
                .map_or(IDLE_TICK, |t| t.saturating_since(now))
                .min(IDLE_TICK)
                .as_nanos() as u64;
            if self.background.load(SeqCst) {
                glue::wait(Channel::Sockets, sockets, timeout);
            } else {
                glue::wait(Channel::Kicks, kicks, timeout);
            }
        }
    }
}

/// A connected in-kernel party: the backend of the C API and MPI subset,
/// and the communication layer of the in-kernel demo and benchmark.
pub struct KernelParty {
    shared: Arc<Shared>,
    rank: Rank,
    comm_thread: spin::Mutex<Option<glue::Thread>>,
}

impl KernelParty {
    /// Listens, connects to the other two parties and completes the handshakes.
    pub fn connect(config: &PartyConfig) -> Result<KernelParty, String> {
        let peers = config.peers.each_ref().map(String::as_str);
        let network = KernelNetwork::bind(config.rank, peers)
            .map_err(|e| format!("{}: {e} on {}", config.rank, peers[config.rank.index()]))?;
        let mut seed = [0u8; 32];
        glue::random(&mut seed);
        let settings = Settings {
            rank: config.rank,
            session: config.session,
            connect_timeout: config.connect_timeout,
            peer_timeout: config.peer_timeout,
            resume_buffer: config.resume_buffer,
            security: &config.security,
        };
        let core_config = lifecycle::endpoint_config(&settings, seed, None);
        if config.security == Security::Plaintext {
            console::print(format_args!(
                "{}",
                lifecycle::plaintext_warning(config.rank)
            ));
        }
        let shared = Arc::new(Shared {
            engine: spin::Mutex::new(Engine {
                endpoint: Endpoint::new(core_config, now()),
                network,
            }),
            background: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            exit_on_peer_abort: AtomicBool::new(false),
        });
        let worker = Arc::clone(&shared);
        let thread = glue::Thread::spawn(
            c"ternion-comm",
            Box::new(move || worker.communication_thread()),
        )
        .ok_or("cannot start the communication thread")?;
        let party = KernelParty {
            shared,
            rank: config.rank,
            comm_thread: spin::Mutex::new(Some(thread)),
        };
        match lifecycle::await_links(&*party.shared) {
            Ok(()) => Ok(party),
            Err(e) => Err(format!("{}: {e}", config.rank)),
        }
    }

    /// This party's rank.
    pub fn rank(&self) -> Rank {
        self.rank
    }

    fn posted(&self, id: Result<RequestId, Error>, len: usize) -> Result<RequestId, Error> {
        if id.is_ok() && len >= BACKGROUND_MIN_BYTES && !self.shared.background.swap(true, SeqCst) {
            glue::signal(Channel::Kicks);
        }
        id
    }

    /// Starts a send of caller memory.
    ///
    /// # Safety
    /// `data` must stay valid and unmodified until the request completes.
    pub unsafe fn post_send(&self, peer: Rank, tag: u32, data: &[u8]) -> Result<RequestId, Error> {
        // SAFETY: the caller keeps `data` valid until completion.
        let buf = SendBuf::Borrowed(unsafe { Lent::new(data) });
        let id = self.shared.with(|ep| ep.isend(peer, tag, buf));
        self.posted(id, data.len())
    }

    /// Starts a receive into caller memory.
    ///
    /// # Safety
    /// `out` must stay valid, and untouched by anyone else, until the request completes.
    pub unsafe fn post_recv(
        &self,
        source: Source,
        tag: TagFilter,
        out: &mut [u8],
    ) -> Result<RequestId, Error> {
        let len = out.len();
        // SAFETY: the caller keeps `out` valid and exclusive until completion.
        let buf = RecvBuf::Borrowed(unsafe { LentMut::new(out) });
        let id = self.shared.with(|ep| ep.irecv(source, tag, buf));
        self.posted(id, len)
    }

    /// Waits for every request; their completions in order.
    pub fn wait_ids(&self, ids: &[RequestId]) -> Vec<Completion<SendBuf, RecvBuf>> {
        let mut checked = 0;
        self.shared
            .drive_until(None, |ep| ep.take_all_when_complete(ids, &mut checked))
            .unwrap_or_default()
    }

    /// Says whether `id` is complete, after a pass of the endpoint.
    ///
    /// An incomplete answer also offers the processor to others: a C
    /// program polling in a loop runs in kernel mode without preemption,
    /// and would otherwise starve the softirq thread that delivers the very
    /// packets it waits for.
    pub fn poll_complete(&self, id: RequestId) -> bool {
        let complete = {
            let mut engine = self.shared.lock();
            if let Some(code) = self.shared.progress(&mut engine) {
                drop(engine);
                glue::exit(code);
            }
            engine.endpoint.is_complete(id).unwrap_or(true)
        };
        if !complete {
            glue::yield_now();
        }
        complete
    }

    /// Sends the abort frames (waiting briefly for them to leave).
    pub fn abort(&self, code: i32) {
        lifecycle::send_abort(&*self.shared, code);
    }

    /// From now on a peer's abort ends the application.
    pub fn exit_when_peers_abort(&self) {
        self.shared.exit_on_peer_abort.store(true, SeqCst);
    }

    /// Closes the links in order and stops the communication thread.
    pub fn close(&self) -> Result<(), Error> {
        let Some(thread) = self.comm_thread.lock().take() else {
            return Ok(());
        };
        let closed = lifecycle::close_links(&*self.shared);
        self.shared.stopping.store(true, SeqCst);
        glue::signal(Channel::Kicks);
        thread.join();
        closed.map_err(|failure| failure.unwrap_or(Error::EndpointClosed))
    }

    /// Traffic on the link to `peer`.
    pub fn stats(&self, peer: Rank) -> LinkStats {
        self.shared.with(|ep| ep.stats(peer))
    }

    /// Waits for one request and returns its status.
    pub fn wait_one(&self, id: RequestId) -> Result<Status, Error> {
        self.wait_ids(&[id])
            .pop()
            .map_or(Err(Error::EndpointClosed), |c| c.result)
    }
}

impl Drive for Shared {
    type Socket = KernelSocket;

    fn now(&self) -> Instant {
        now()
    }

    fn with<R>(&self, f: impl FnOnce(&mut PartyEndpoint<KernelSocket>) -> R) -> R {
        Shared::with(self, f)
    }

    fn drive_until<R>(
        &self,
        deadline: Option<Instant>,
        done: impl FnMut(&mut PartyEndpoint<KernelSocket>) -> Option<R>,
    ) -> Option<R> {
        Shared::drive_until(self, deadline, done)
    }
}

impl Drop for KernelParty {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            log::warn!("closing {}: {e}", self.rank);
        }
    }
}
