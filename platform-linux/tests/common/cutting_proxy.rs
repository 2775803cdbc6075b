//! A TCP proxy that breaks its connections on demand, to test link resume.
//!
//! A party dials the proxy instead of its peer (its configuration lists the
//! proxy's address for that peer), and the proxy forwards every byte both
//! ways. [`CuttingProxy::cut_all`] then breaks every forwarded connection
//! the way a failing network path or middlebox does: both parties get a
//! reset, in the middle of whatever they were sending. The proxy keeps
//! listening, so a party that redials gets through again.
//!
//! Shared by the integration tests (`tests/common`) and the soak program
//! (`examples/soak.rs`, which includes this file by path): an example cannot
//! import test support, and the library's public API is no place for a
//! test tool.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a forwarding thread blocks in a read or write before it checks
/// whether its connection was cut, the proxy stalled or stopped.
const TICK: Duration = Duration::from_millis(20);

/// Bytes a forwarding thread moves per read.
const CHUNK: usize = 64 * 1024;

/// One forwarded connection: the dialling party's socket and ours to the target.
struct Forwarded {
    dialler: TcpStream,
    target: TcpStream,
    /// Set by a cut: both forwarding threads stop moving bytes and let go of
    /// the sockets, whose last close then sends the resets.
    cut: AtomicBool,
}

impl Forwarded {
    /// Breaks the connection abruptly: with a zero linger time, closing a
    /// socket sends a reset instead of an orderly end. Returns false if it
    /// was already cut.
    fn cut(&self) -> bool {
        if self.cut.swap(true, SeqCst) {
            return false;
        }
        for socket in [&self.dialler, &self.target] {
            // std's own `set_linger` is not stable yet; socket2 is a
            // dependency of the crate already.
            let _ = socket2::SockRef::from(socket).set_linger(Some(Duration::ZERO));
        }
        true
    }
}

/// State the proxy's threads share.
struct Shared {
    target: SocketAddr,
    stop: AtomicBool,
    stalled: AtomicBool,
    forwarded: AtomicUsize,
    cuts: AtomicUsize,
    /// Connections that may still be open; the forwarding threads own them.
    live: Mutex<Vec<Weak<Forwarded>>>,
}

/// A loopback TCP proxy to one target address that can cut its connections.
pub struct CuttingProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl CuttingProxy {
    /// Listens on a free loopback port and forwards each connection to `target`.
    pub fn start(target: SocketAddr) -> std::io::Result<CuttingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            target,
            stop: AtomicBool::new(false),
            stalled: AtomicBool::new(false),
            forwarded: AtomicUsize::new(0),
            cuts: AtomicUsize::new(0),
            live: Mutex::new(Vec::new()),
        });
        let for_thread = shared.clone();
        let acceptor = std::thread::Builder::new()
            .name("cutting-proxy".into())
            .spawn(move || accept_loop(listener, for_thread))?;
        Ok(CuttingProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Where to dial the target through the proxy.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Breaks every connection currently forwarded (each party sees a reset)
    /// and returns how many there were. New connections are still accepted.
    pub fn cut_all(&self) -> usize {
        let mut live = self.shared.live.lock().unwrap();
        let cut = live
            .drain(..)
            .filter_map(|weak| weak.upgrade())
            .filter(|conn| conn.cut())
            .count();
        self.shared.cuts.fetch_add(cut, SeqCst);
        cut
    }

    /// While stalled, the proxy reads nothing from the dialling parties, as
    /// a peer that stops reading would: their TCP window fills and their
    /// writes stop. The other direction keeps flowing.
    pub fn set_stalled(&self, stalled: bool) {
        self.shared.stalled.store(stalled, SeqCst);
    }

    /// Connections forwarded to the target so far (the first dial, and
    /// every redial that reached the target).
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(SeqCst)
    }

    /// Connections broken by [`CuttingProxy::cut_all`] so far.
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        // Wakes the acceptor from its blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut forwarders = Vec::new();
    for dialler in listener.incoming() {
        if shared.stop.load(SeqCst) {
            break;
        }
        let Ok(dialler) = dialler else { continue };
        // A target that cannot be reached looks to the dialler like a
        // connection that closed at once, which is what it would see without
        // the proxy too (a refusal).
        let Ok(target) = TcpStream::connect(shared.target) else {
            continue;
        };
        let prepared = [&dialler, &target].into_iter().try_for_each(|s| {
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(TICK))?;
            s.set_write_timeout(Some(TICK))
        });
        if prepared.is_err() {
            continue;
        }
        shared.forwarded.fetch_add(1, SeqCst);
        let conn = Arc::new(Forwarded {
            dialler,
            target,
            cut: AtomicBool::new(false),
        });
        {
            let mut live = shared.live.lock().unwrap();
            live.retain(|weak| weak.strong_count() > 0);
            live.push(Arc::downgrade(&conn));
        }
        forwarders.retain(|f: &JoinHandle<()>| !f.is_finished());
        for towards_target in [true, false] {
            let (conn, shared) = (conn.clone(), shared.clone());
            forwarders.push(std::thread::spawn(move || {
                forward(&conn, &shared, towards_target)
            }));
        }
    }
    shared.stop.store(true, SeqCst);
    for forwarder in forwarders {
        let _ = forwarder.join();
    }
}

/// Moves bytes one way until either end closes, the connection is cut or
/// the proxy stops. An orderly end is passed on as one; a reset is passed
/// on as a reset.
fn forward(conn: &Forwarded, shared: &Shared, towards_target: bool) {
    let (mut from, mut to) = if towards_target {
        (&conn.dialler, &conn.target)
    } else {
        (&conn.target, &conn.dialler)
    };
    let mut buf = vec![0u8; CHUNK];
    let halted = || conn.cut.load(SeqCst) || shared.stop.load(SeqCst);
    while !halted() {
        if towards_target && shared.stalled.load(SeqCst) {
            std::thread::sleep(TICK);
            continue;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(e) if is_timeout(&e) => continue,
            Err(_) => {
                conn.cut();
                return;
            }
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            if halted() {
                return;
            }
            match to.write(rest) {
                Ok(written) => rest = &rest[written..],
                Err(e) if is_timeout(&e) => {}
                Err(_) => {
                    conn.cut();
                    return;
                }
            }
        }
    }
}

/// A read or write that ran into the tick (std reports either kind).
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
