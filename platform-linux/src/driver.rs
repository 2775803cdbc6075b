//! Who moves the bytes: the thread that waits, or the communication thread.
//!
//! The core endpoint sits behind one lock. An application thread that blocks
//! on a request drives the endpoint itself: it makes progress, and when
//! nothing can move it sleeps in poll(2) on the sockets. A blocking exchange
//! therefore never hands off to another thread, which keeps latency at
//! socket speed.
//!
//! The communication thread drives only when the application is not
//! waiting but work is outstanding (a large non-blocking send or receive),
//! so data moves while the application computes. When an application thread
//! starts waiting while the communication thread sleeps in poll(2), it kicks
//! that thread out through an eventfd and takes over. Only one thread polls
//! at a time; others wait on a condition variable for its round to end.

use crate::clock::MonotonicClock;
use crate::failure_report::FailureReporter;
use crate::net::{TcpNetwork, TcpSocket};
use crate::sys::{self, EventFd, PollFd};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use ternion_capi::buffer::{RecvBuf, SendBuf};
use ternion_core::socket::Notify;
use ternion_core::{Endpoint, Event, Instant, LinkError};

/// The core endpoint as the Linux backend instantiates it.
pub type CoreEndpoint = Endpoint<TcpSocket, SendBuf, RecvBuf>;

use ternion_capi::lifecycle::{Drive, PartyEndpoint, IDLE_TICK, SPIN};

/// Entries a poll set can hold: two links, pending connections, the listener and the waker.
const MAX_POLL_FDS: usize = 24;

/// The endpoint and network, guarded together.
pub struct Engine {
    /// The protocol state machine.
    pub endpoint: CoreEndpoint,
    network: TcpNetwork,
    /// A thread is in poll(2) on this engine's sockets.
    poller_active: bool,
    /// Threads waiting for the active poller's round to end.
    followers: usize,
    /// A peer's abort ends this process with the peer's code (MPI semantics).
    exit_on_peer_abort: bool,
    /// Tells `ternion run` which peer failed this party.
    failure_reporter: FailureReporter,
}

impl Engine {
    fn progress(&mut self, now: Instant) -> bool {
        let moved = self.endpoint.poll(&mut self.network, now);
        while let Some(event) = self.endpoint.poll_event() {
            log_event(&event);
            if let Event::LinkFailed { peer, reason } = event {
                self.failure_reporter.link_failed(peer, &reason);
                if let (LinkError::PeerAborted { code }, true) = (reason, self.exit_on_peer_abort) {
                    eprintln!("ternion: {peer} aborted the job with code {code}; exiting");
                    std::process::exit(code);
                }
            }
        }
        moved
    }

    /// Asks poll(2), without sleeping, which sockets are ready.
    fn refresh_readiness(&mut self, waker: &EventFd) {
        let mut fds = [sys::poll_entry(-1, false, false); MAX_POLL_FDS];
        let n = self.poll_set(&mut fds, waker);
        if sys::poll(&mut fds[..n], Some(Duration::ZERO)).is_ok() {
            self.record_readiness(&fds[..n]);
        }
    }

    /// Passes what poll(2) reported on to the sockets' readiness hints.
    fn record_readiness(&mut self, fds: &[PollFd]) {
        const FAILED: i16 = libc::POLLERR | libc::POLLHUP;
        let revents = |fd: i32| fds.iter().find(|p| p.fd == fd).map_or(0, |p| p.revents);
        if revents(self.network.as_raw_fd()) & (libc::POLLIN | FAILED) != 0 {
            self.network.mark_acceptable();
        }
        self.endpoint.for_each_socket(|socket, interest| {
            let ready = revents(socket.as_raw_fd());
            // A socket left out of POLLIN (a link holding a message for its
            // receive) may have gained bytes unseen: let the next read try.
            if ready & (libc::POLLIN | FAILED) != 0 || !interest.read {
                socket.mark_readable();
            }
            if ready & (libc::POLLOUT | FAILED) != 0 {
                socket.mark_writable();
            }
        });
    }

    /// Fills `fds` with what to wait on; returns the count.
    fn poll_set(&self, fds: &mut [PollFd; MAX_POLL_FDS], waker: &EventFd) -> usize {
        fds[0] = sys::poll_entry(waker.as_raw_fd(), true, false);
        fds[1] = sys::poll_entry(self.network.as_raw_fd(), true, false);
        let mut n = 2;
        self.endpoint.for_each_socket(|socket, interest| {
            if n < MAX_POLL_FDS {
                fds[n] = sys::poll_entry(socket.as_raw_fd(), interest.read, interest.write);
                n += 1;
            }
        });
        n
    }
}

fn log_event(event: &Event<std::net::SocketAddr>) {
    match event {
        Event::LinkUp(peer) => log::info!("link to {peer} is up"),
        Event::LinkClosed(peer) => log::info!("link to {peer} closed"),
        Event::LinkFailed { peer, reason } => log::error!("link to {peer} failed: {reason}"),
        // The core has already logged these, with their details.
        Event::Rejected { .. } | Event::LinkInterrupted { .. } | Event::LinkResumed(_) => {}
    }
}

/// Shared between the application threads and the communication thread.
pub struct Driver {
    engine: Mutex<Engine>,
    followers_cv: Condvar,
    comm_cv: Condvar,
    /// Application threads inside a blocking call.
    waiters: AtomicUsize,
    comm_in_poll: AtomicBool,
    comm_parked: AtomicBool,
    comm_wanted: AtomicBool,
    shutdown: AtomicBool,
    waker: EventFd,
    clock: MonotonicClock,
}

impl Driver {
    /// Wraps an endpoint and network, and starts the communication thread.
    pub fn start(
        endpoint: CoreEndpoint,
        network: TcpNetwork,
    ) -> std::io::Result<(Arc<Driver>, JoinHandle<()>)> {
        let driver = Arc::new(Driver {
            engine: Mutex::new(Engine {
                endpoint,
                network,
                poller_active: false,
                followers: 0,
                exit_on_peer_abort: false,
                failure_reporter: FailureReporter::from_env(),
            }),
            followers_cv: Condvar::new(),
            comm_cv: Condvar::new(),
            waiters: AtomicUsize::new(0),
            comm_in_poll: AtomicBool::new(false),
            comm_parked: AtomicBool::new(false),
            comm_wanted: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            waker: EventFd::new()?,
            clock: MonotonicClock::new(),
        });
        let for_thread = Arc::clone(&driver);
        let thread = std::thread::Builder::new()
            .name("ternion-comm".into())
            .spawn(move || for_thread.communication_loop())?;
        Ok((driver, thread))
    }

    /// The core's notion of now.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock leaves the endpoint consistent at
        // the granularity of a poll; keep serving rather than poison everyone.
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the endpoint, then makes what progress is possible
    /// without blocking, after asking poll(2) which sockets are ready.
    pub fn with<R>(&self, f: impl FnOnce(&mut CoreEndpoint) -> R) -> R {
        let mut engine = self.lock();
        let out = f(&mut engine.endpoint);
        engine.refresh_readiness(&self.waker);
        let now = self.now();
        while engine.progress(now) {}
        out
    }

    /// Like [`Driver::with`], for a caller about to [`Driver::drive_until`]:
    /// skips the readiness check, which the drive's own poll(2) makes.
    pub fn post<R>(&self, f: impl FnOnce(&mut CoreEndpoint) -> R) -> R {
        let mut engine = self.lock();
        let out = f(&mut engine.endpoint);
        let now = self.now();
        while engine.progress(now) {}
        out
    }

    /// From now on a peer's abort ends this process with the peer's code,
    /// whichever thread is driving when the abort frame arrives.
    pub fn exit_when_peers_abort(&self) {
        self.lock().exit_on_peer_abort = true;
    }

    /// Reads the endpoint's state without making progress.
    pub fn inspect<R>(&self, f: impl FnOnce(&CoreEndpoint) -> R) -> R {
        f(&self.lock().endpoint)
    }

    /// Asks the communication thread to keep driving outstanding work while
    /// the application computes.
    pub fn request_background_progress(&self) {
        self.comm_wanted.store(true, SeqCst);
        self.notify();
    }

    /// Blocks until `done` returns a value, driving I/O in this thread. Gives
    /// up with `None` at `deadline`.
    pub fn drive_until<R>(
        &self,
        deadline: Option<Instant>,
        mut done: impl FnMut(&mut CoreEndpoint) -> Option<R>,
    ) -> Option<R> {
        self.waiters.fetch_add(1, SeqCst);
        if self.comm_in_poll.load(SeqCst) {
            self.waker.signal();
        }
        let mut engine = self.lock();
        let spin_until = self.now() + SPIN;
        let result = loop {
            let now = self.now();
            if let Some(r) = done(&mut engine.endpoint) {
                break Some(r);
            }
            if engine.progress(now) {
                continue;
            }
            if let Some(r) = done(&mut engine.endpoint) {
                break Some(r);
            }
            if deadline.is_some_and(|d| now >= d) {
                break None;
            }
            if engine.poller_active {
                engine.followers += 1;
                engine = self
                    .followers_cv
                    .wait(engine)
                    .unwrap_or_else(|p| p.into_inner());
                engine.followers -= 1;
                continue;
            }
            if now < spin_until {
                // Briefly yield instead of sleeping: an idle core of a virtual
                // machine halts, and waking it costs far more than a round trip.
                drop(engine);
                std::thread::yield_now();
                engine = self.lock();
                engine.refresh_readiness(&self.waker);
                continue;
            }
            let wake_at = ternion_core::time::earliest(engine.endpoint.poll_at(), deadline);
            engine = self.poll_round(engine, wake_at);
        };
        self.waiters.fetch_sub(1, SeqCst);
        // Hand over only background work the application asked for (a large
        // request). Waking the thread for small outstanding work, such as
        // the receive an MPI program waits for next, costs a context switch
        // and a fight for the lock with that very wait.
        if self.waiters.load(SeqCst) == 0
            && self.comm_wanted.load(SeqCst)
            && engine.endpoint.has_work()
        {
            self.wake_comm_if_parked();
        }
        result
    }

    /// Releases the lock, sleeps in poll(2) until a socket is ready, the
    /// waker fires or `wake_at` passes, and takes the lock again.
    fn poll_round<'a>(
        &'a self,
        mut engine: MutexGuard<'a, Engine>,
        wake_at: Option<Instant>,
    ) -> MutexGuard<'a, Engine> {
        let mut fds = [sys::poll_entry(-1, false, false); MAX_POLL_FDS];
        let n = engine.poll_set(&mut fds, &self.waker);
        let timeout = wake_at.map(|at| at.saturating_since(self.now()));
        engine.poller_active = true;
        drop(engine);
        if let Err(e) = sys::poll(&mut fds[..n], timeout) {
            log::error!("poll failed: {e}");
        }
        if fds[0].revents != 0 {
            self.waker.drain();
        }
        let mut engine = self.lock();
        engine.poller_active = false;
        engine.record_readiness(&fds[..n]);
        if engine.followers > 0 {
            self.followers_cv.notify_all();
        }
        engine
    }

    fn wake_comm_if_parked(&self) {
        if self.comm_parked.load(SeqCst) {
            self.comm_cv.notify_one();
        }
    }

    /// The communication thread: drives outstanding work whenever no
    /// application thread is doing so. Otherwise it sleeps, waking every
    /// [`IDLE_TICK`] (or at the endpoint's next deadline) for one
    /// non-blocking pass, so deadlines fire and strangers are answered even
    /// while the application computes without calling in.
    fn communication_loop(&self) {
        let mut engine = self.lock();
        loop {
            if self.shutdown.load(SeqCst) {
                return;
            }
            let busy = self.comm_wanted.load(SeqCst) && engine.endpoint.has_work();
            if !busy || self.waiters.load(SeqCst) > 0 || engine.poller_active {
                if !busy {
                    self.comm_wanted.store(false, SeqCst);
                }
                let now = self.now();
                let tick = engine
                    .endpoint
                    .poll_at()
                    .map_or(IDLE_TICK, |at| at.saturating_since(now).min(IDLE_TICK));
                self.comm_parked.store(true, SeqCst);
                engine = self
                    .comm_cv
                    .wait_timeout(engine, tick)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                self.comm_parked.store(false, SeqCst);
                if self.waiters.load(SeqCst) == 0 && !engine.poller_active {
                    engine.refresh_readiness(&self.waker);
                    let now = self.now();
                    while engine.progress(now) {}
                }
                continue;
            }
            let now = self.now();
            while engine.progress(now) {}
            self.comm_in_poll.store(true, SeqCst);
            if self.waiters.load(SeqCst) == 0 && engine.endpoint.has_work() {
                let wake_at = engine.endpoint.poll_at();
                engine = self.poll_round(engine, wake_at);
            }
            self.comm_in_poll.store(false, SeqCst);
        }
    }

    /// Stops the communication thread (after the endpoint has closed).
    pub fn shut_down(&self) {
        let _engine = self.lock();
        self.shutdown.store(true, SeqCst);
        self.comm_cv.notify_one();
        self.waker.signal();
    }
}

impl Notify for Driver {
    /// Wakes the communication thread, wherever it sleeps.
    fn notify(&self) {
        if self.comm_in_poll.load(SeqCst) {
            self.waker.signal();
        } else {
            let _engine = self.lock();
            self.wake_comm_if_parked();
        }
    }
}

impl Drive for Driver {
    type Socket = TcpSocket;

    fn now(&self) -> Instant {
        Driver::now(self)
    }

    fn with<R>(&self, f: impl FnOnce(&mut PartyEndpoint<TcpSocket>) -> R) -> R {
        Driver::with(self, f)
    }

    fn drive_until<R>(
        &self,
        deadline: Option<Instant>,
        done: impl FnMut(&mut PartyEndpoint<TcpSocket>) -> Option<R>,
    ) -> Option<R> {
        Driver::drive_until(self, deadline, done)
    }
}
