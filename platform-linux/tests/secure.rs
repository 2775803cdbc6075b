//! The secure channel against an attacker on the path and at the door, on
//! real loopback sockets.
//!
//! A man-in-the-middle proxy sits on rank 1's link to rank 0 (rank 1's
//! configuration names the proxy as rank 0's address). It can alter, replay,
//! reorder, drop or cut rank 1's records, and it records every byte in both
//! directions. Each attack must end the link with an error that names the
//! peer, and no byte of a bad record may reach the application: the link
//! fails closed. Other tests play a party with the wrong key, a plaintext
//! party and a party of another session: each is refused on both sides.

mod common;

use common::{capture_logs, config, free_peers, keys, logged, plaintext_config};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use ternion::config::Security;
use ternion::keys::PrivateKey;
use ternion::{Config, Error, Party, Rank};
use ternion_core::secure::Aead;
use ternion_core::wire::HELLO_LEN;
use ternion_core::wire::{Record, RECORD_PREFIX_LEN};
use ternion_core::{HandshakeFailure, Incompatibility, LinkError, SecurityError, TransportError};

/// Tag of the values rank 1 sends to rank 0 through the proxy.
const TAG: u32 = 7;
/// Tag of the values rank 2 sends on its own (untouched) links.
const TAG_FROM_RANK2: u32 = 8;
/// What rank 1 sends to rank 0, one message (so one record) each, in order.
const VALUES: [u64; 5] = [1, 2, 3, 4, 5];
/// What rank 2 sends to rank 0 and to rank 1.
const FROM_RANK2: [u64; 2] = [200, 201];
/// Rank 0's receive buffers start as this; no value sent equals it, so a
/// failed receive that still holds it got no byte of the bad record.
const UNTOUCHED: u64 = u64::MAX;
/// A party that is not expected to come is waited for this long.
const SHORT_CONNECT: Duration = Duration::from_secs(3);
/// The misconfigured party gives up first, so no attempt of its is in
/// flight when the others' deadlines pass (their error is then exact).
const SHORTER_CONNECT: Duration = Duration::from_millis(1500);
/// Longest any party thread may run before the test calls it a hang.
const THREAD_LIMIT: Duration = Duration::from_secs(20);
/// The unit of the canary pattern that must never cross a secure link in clear.
const CANARY_UNIT: &[u8] = b"CANARY-SHARE";
/// Bytes of canary each share carries.
const CANARY_LEN: usize = 64 * 1024;

fn rank(i: u8) -> Rank {
    Rank::new(i).unwrap()
}

/// A party's error reduced to what the tests compare: who, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failed {
    /// The link to this peer failed (or refused) for this reason.
    Link(Rank, LinkError),
    /// This peer never connected before the deadline.
    NeverCame(Rank),
    /// Anything else, as text, so that an assertion shows it.
    Other(String),
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        match e {
            Error::Protocol(ternion_core::Error::Link { peer, reason }) => {
                Failed::Link(peer, reason)
            }
            Error::PeerNeverCame(peer) => Failed::NeverCame(peer),
            other => Failed::Other(other.to_string()),
        }
    }
}

/// Connects, keeping only the error: `Party` itself is not `Debug`.
fn connect_error(cfg: &Config) -> Result<(), Failed> {
    Party::connect(cfg).map(drop).map_err(Failed::from)
}

/// Joins `thread`, failing the test instead of hanging if it runs past
/// [`THREAD_LIMIT`]; a panic in the thread is passed on as it was.
fn join_within<T>(thread: JoinHandle<T>, who: &str) -> T {
    let deadline = Instant::now() + THREAD_LIMIT;
    while !thread.is_finished() {
        assert!(
            Instant::now() < deadline,
            "{who} still running after {THREAD_LIMIT:?}: something hangs"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The first refusal logged for `reason`: the acceptor's line, never the
/// refused party's own (which names the reason as well), waiting up to 5 s.
fn wait_for_refusal(reason: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = logged()
            .iter()
            .find(|l| l.contains("refused connection from ") && l.contains(reason))
            .cloned();
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no refusal logged for {reason:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Checks that a refusal line is a warning naming a loopback address, the
/// address the refused connection came from.
fn assert_names_loopback_address(line: &str) {
    assert!(line.starts_with("WARN "), "{line}");
    let after = line
        .split("refused connection from ")
        .nth(1)
        .unwrap_or_else(|| panic!("not a refusal line: {line}"));
    let addr = after.split(' ').next().unwrap().trim_end_matches(':');
    let addr: SocketAddr = addr
        .parse()
        .unwrap_or_else(|e| panic!("{addr:?} in {line:?} is not an address: {e}"));
    assert!(addr.ip().is_loopback(), "{line}");
}

/// What the proxy does to rank 1's records on their way to rank 0. Records
/// are counted from 0, the first one after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tamper {
    /// Forward every byte as it is.
    Nothing,
    /// Flip one bit in the middle of this record's body.
    FlipBit { record: usize },
    /// Forward this record twice.
    Replay { record: usize },
    /// Forward the record after `first` before `first`.
    Swap { first: usize },
    /// Never forward this record.
    DropRecord { record: usize },
    /// Forward the first half of this record, then close the connection to rank 0.
    Truncate { record: usize },
}

/// One thing the proxy does toward rank 0.
#[derive(Debug)]
enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// With [`Pacing::Paced`], wait until rank 0's application has received
    /// this many values before going on.
    AwaitDelivered(usize),
    /// Close the connection to rank 0.
    Cut,
}

/// Whether the proxy lets rank 0 take the clean records before the attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// Wait until rank 0's application has received every clean record
    /// before sending the bad one, so the outcome does not depend on how TCP
    /// groups records into reads: a link that meets a bad record drops the
    /// clean ones that came in the same read, undelivered.
    Paced,
    /// Forward at once, as an attacker on the path would.
    Burst,
}

/// Where the records start: the dialler's stream is a 40-byte hello, one
/// length-prefixed handshake message, then length-prefixed records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Hello,
    Handshake,
    Records,
}

/// Cuts rank 1's byte stream into pieces and applies the attack to records.
struct Tamperer {
    tamper: Tamper,
    stage: Stage,
    pending: Vec<u8>,
    records: usize,
    held: Option<Vec<u8>>,
}

impl Tamperer {
    fn new(tamper: Tamper) -> Tamperer {
        Tamperer {
            tamper,
            stage: Stage::Hello,
            pending: Vec::new(),
            records: 0,
            held: None,
        }
    }

    /// Takes `bytes` from rank 1 and says what to do toward rank 0.
    fn feed(&mut self, bytes: &[u8]) -> Vec<Step> {
        if self.tamper == Tamper::Nothing {
            return vec![Step::Write(bytes.to_vec())];
        }
        self.pending.extend_from_slice(bytes);
        let mut steps = Vec::new();
        while let Some(piece) = self.next_piece() {
            match self.stage {
                Stage::Hello => {
                    self.stage = Stage::Handshake;
                    steps.push(Step::Write(piece));
                }
                Stage::Handshake => {
                    self.stage = Stage::Records;
                    steps.push(Step::Write(piece));
                }
                Stage::Records => {
                    let index = self.records;
                    self.records += 1;
                    self.record(index, piece, &mut steps);
                }
            }
        }
        steps
    }

    /// The next complete piece (hello, handshake message or record with its
    /// length prefix), if it has all arrived.
    fn next_piece(&mut self) -> Option<Vec<u8>> {
        let len = match self.stage {
            Stage::Hello => HELLO_LEN,
            Stage::Handshake | Stage::Records => {
                Record::new_checked(&self.pending[..]).ok()?.total_len()
            }
        };
        (self.pending.len() >= len).then(|| self.pending.drain(..len).collect())
    }

    fn record(&mut self, index: usize, mut record: Vec<u8>, steps: &mut Vec<Step>) {
        match self.tamper {
            Tamper::FlipBit { record: n } if index == n => {
                steps.push(Step::AwaitDelivered(n));
                let body_middle = RECORD_PREFIX_LEN + (record.len() - RECORD_PREFIX_LEN) / 2;
                record[body_middle] ^= 0x08;
                steps.push(Step::Write(record));
            }
            Tamper::Replay { record: n } if index == n => {
                steps.push(Step::Write(record.clone()));
                steps.push(Step::AwaitDelivered(n + 1));
                steps.push(Step::Write(record));
            }
            Tamper::Swap { first } if index == first => self.held = Some(record),
            Tamper::Swap { first } if index == first + 1 => {
                steps.push(Step::AwaitDelivered(first));
                steps.push(Step::Write(record));
                steps.extend(self.held.take().map(Step::Write));
            }
            Tamper::DropRecord { record: n } if index == n => {}
            Tamper::DropRecord { record: n } if index == n + 1 => {
                steps.push(Step::AwaitDelivered(n));
                steps.push(Step::Write(record));
            }
            Tamper::Truncate { record: n } if index == n => {
                steps.push(Step::AwaitDelivered(n));
                record.truncate(record.len() / 2);
                steps.push(Step::Write(record));
                steps.push(Step::Cut);
            }
            _ => steps.push(Step::Write(record)),
        }
    }
}

/// Every byte the proxy saw, as the senders sent it.
#[derive(Default)]
struct Recorded {
    /// From rank 1 toward rank 0 (before any tampering).
    to_rank0: Vec<u8>,
    /// From rank 0 toward rank 1.
    to_rank1: Vec<u8>,
}

/// State the proxy's threads share.
struct Shared {
    rank0: String,
    tamper: Tamper,
    pacing: Pacing,
    /// Values rank 0's application has received (counted by the test).
    delivered: Arc<AtomicUsize>,
    stop: AtomicBool,
    connections: AtomicUsize,
    recorded: Mutex<Recorded>,
}

/// A man in the middle: listens on a free loopback port, and for each
/// connection (from rank 1) dials rank 0 and forwards both ways.
struct Proxy {
    addr: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// How long proxy sockets block before checking whether to stop.
const PROXY_TICK: Duration = Duration::from_millis(20);
/// How long the proxy keeps trying to reach rank 0, or waits for a delivery.
const PROXY_PATIENCE: Duration = Duration::from_secs(5);

impl Proxy {
    fn start(rank0: &str, tamper: Tamper, pacing: Pacing, delivered: Arc<AtomicUsize>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            rank0: rank0.to_owned(),
            tamper,
            pacing,
            delivered,
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            recorded: Mutex::new(Recorded::default()),
        });
        let for_thread = shared.clone();
        let acceptor = std::thread::spawn(move || accept_loop(listener, for_thread));
        Proxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Connections rank 1 made through the proxy so far.
    fn connections(&self) -> usize {
        self.shared.connections.load(SeqCst)
    }

    /// Stops every proxy thread and returns what passed through.
    fn finish(mut self) -> Recorded {
        self.shared.stop.store(true, SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            join_within(acceptor, "the proxy");
        }
        std::mem::take(&mut *self.shared.recorded.lock().unwrap())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // A failing test must not leave the proxy forwarding forever.
        self.shared.stop.store(true, SeqCst);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = Vec::new();
    while !shared.stop.load(SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                shared.connections.fetch_add(1, SeqCst);
                let shared = shared.clone();
                connections.push(std::thread::spawn(move || forward(client, &shared)));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("proxy accept failed: {e}"),
        }
    }
    for c in connections {
        c.join().unwrap();
    }
}

/// Dials rank 0, retrying while it is not listening yet.
fn dial_rank0(shared: &Shared) -> Option<TcpStream> {
    let deadline = Instant::now() + PROXY_PATIENCE;
    while Instant::now() < deadline && !shared.stop.load(SeqCst) {
        if let Ok(s) = TcpStream::connect(&shared.rank0) {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn prepare(s: &TcpStream) {
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(PROXY_TICK)).unwrap();
    s.set_write_timeout(Some(PROXY_PATIENCE)).unwrap();
}

/// One read: `Some(n)` bytes (0 at end of stream or on error), `None` if
/// nothing came within a tick.
fn read_tick(s: &mut TcpStream, buf: &mut [u8]) -> Option<usize> {
    match s.read(buf) {
        Ok(n) => Some(n),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(_) => Some(0),
    }
}

/// Forwards one connection: rank 0's bytes to rank 1 on a second thread,
/// rank 1's bytes to rank 0 through the tamperer on this one.
fn forward(mut client: TcpStream, shared: &Arc<Shared>) {
    let Some(mut server) = dial_rank0(shared) else {
        return;
    };
    prepare(&client);
    prepare(&server);
    let (mut server_rx, mut client_tx) = (server.try_clone().unwrap(), client.try_clone().unwrap());
    let for_thread = shared.clone();
    let downstream = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while !for_thread.stop.load(SeqCst) {
            match read_tick(&mut server_rx, &mut buf) {
                None => continue,
                Some(0) => break,
                Some(n) => {
                    let bytes = &buf[..n];
                    for_thread
                        .recorded
                        .lock()
                        .unwrap()
                        .to_rank1
                        .extend_from_slice(bytes);
                    if client_tx.write_all(bytes).is_err() {
                        break;
                    }
                }
            }
        }
        // Rank 0 is gone: say so to rank 1 with a clean end of stream.
        let _ = client_tx.shutdown(Shutdown::Write);
    });

    let mut tamperer = Tamperer::new(shared.tamper);
    let mut server_open = true;
    let mut buf = vec![0u8; 64 * 1024];
    while !shared.stop.load(SeqCst) {
        let n = match read_tick(&mut client, &mut buf) {
            None => continue,
            Some(0) => break,
            Some(n) => n,
        };
        shared
            .recorded
            .lock()
            .unwrap()
            .to_rank0
            .extend_from_slice(&buf[..n]);
        if !server_open {
            // Keep draining rank 1, so it never sees a reset from us.
            continue;
        }
        for step in tamperer.feed(&buf[..n]) {
            match step {
                Step::Write(bytes) => {
                    if server.write_all(&bytes).is_err() {
                        server_open = false;
                        break;
                    }
                }
                Step::AwaitDelivered(count) => {
                    if shared.pacing == Pacing::Paced {
                        await_delivered(shared, count);
                    }
                }
                Step::Cut => {
                    let _ = server.shutdown(Shutdown::Both);
                    server_open = false;
                    break;
                }
            }
        }
    }
    if server_open {
        let _ = server.shutdown(Shutdown::Write);
    }
    downstream.join().unwrap();
}

/// Waits (boundedly) until rank 0's application has received `count` values.
fn await_delivered(shared: &Shared, count: usize) {
    let deadline = Instant::now() + PROXY_PATIENCE;
    while shared.delivered.load(SeqCst) < count
        && Instant::now() < deadline
        && !shared.stop.load(SeqCst)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What each party saw when rank 1's records to rank 0 were attacked.
#[derive(Debug)]
struct TamperOutcome {
    /// Rank 0's receives from rank 1, one per value sent, in order.
    rank0_receives: Vec<Result<u64, Failed>>,
    /// Rank 0 sending to rank 1 after its receives.
    rank0_send_after: Result<(), Failed>,
    /// Rank 1 receiving from rank 0 after its sends.
    rank1_receive_after: Result<u64, Failed>,
    /// What ranks 0 and 1 received from rank 2.
    from_rank2: [u64; 2],
    /// Connections rank 1 made through the proxy.
    connections: usize,
}

/// Runs a job whose rank 1 → rank 0 link passes through a proxy doing
/// `tamper` at `pacing`. Rank 1 sends [`VALUES`] to rank 0, one message each; rank 0
/// receives them in order, then every party checks its remaining links.
fn attack_rank1_records(tamper: Tamper, pacing: Pacing) -> TamperOutcome {
    let peers = free_peers();
    let delivered = Arc::new(AtomicUsize::new(0));
    let proxy = Proxy::start(&peers[0], tamper, pacing, delivered.clone());
    // Resume off: these tests look at the record layer alone. With resume,
    // rank 1 would reconnect through the proxy after every refusal.
    let [mut cfg0, mut cfg1, mut cfg2] = [0, 1, 2].map(|r| config(r, &peers));
    for cfg in [&mut cfg0, &mut cfg1, &mut cfg2] {
        cfg.resume_buffer = 0;
    }
    cfg1.peers[0] = proxy.addr.clone();
    // Rank 1 sends only once rank 0 is connected: rank 0's `connect` waits
    // for its link to rank 2 too, and a link that fails before then fails
    // the connect itself, with nothing received.
    let (rank0_up_tx, rank0_up) = mpsc::channel::<()>();

    let rank0 = std::thread::spawn(move || {
        let p = Party::connect(&cfg0).expect("rank 0 connects");
        rank0_up_tx.send(()).unwrap();
        let mut receives = Vec::new();
        for _ in VALUES {
            let mut slot = [UNTOUCHED];
            match p.recv(rank(1), TAG, &mut slot) {
                Ok(_) => {
                    receives.push(Ok(slot[0]));
                    delivered.fetch_add(1, SeqCst);
                }
                Err(e) => {
                    assert_eq!(
                        slot[0], UNTOUCHED,
                        "a failed receive wrote bytes into the application's buffer"
                    );
                    receives.push(Err(Failed::from(e)));
                }
            }
        }
        let send_after = p.send(rank(1), TAG, &[0u64]).map_err(Failed::from);
        let mut from2 = [UNTOUCHED];
        p.recv(rank(2), TAG_FROM_RANK2, &mut from2)
            .expect("rank 0's link to rank 2 still works");
        p.close().expect("rank 0 closes");
        (receives, send_after, from2[0])
    });
    let rank1 = std::thread::spawn(move || {
        let p = Party::connect(&cfg1).expect("rank 1 connects");
        rank0_up
            .recv_timeout(THREAD_LIMIT)
            .expect("rank 0 connected");
        for v in VALUES {
            // Sends complete once sealed; one posted after rank 0 has
            // already cut the link may fail, and that is fine: what
            // matters is what rank 0 receives.
            let _ = p.send(rank(0), TAG, &[v]);
        }
        let mut slot = [UNTOUCHED];
        let after = p
            .recv(rank(0), TAG, &mut slot)
            .map(|_| slot[0])
            .map_err(Failed::from);
        let mut from2 = [UNTOUCHED];
        p.recv(rank(2), TAG_FROM_RANK2, &mut from2)
            .expect("rank 1's link to rank 2 still works");
        p.close().expect("rank 1 closes");
        (after, from2[0])
    });
    let rank2 = std::thread::spawn(move || {
        let p = Party::connect(&cfg2).expect("rank 2 connects");
        p.send(rank(0), TAG_FROM_RANK2, &[FROM_RANK2[0]]).unwrap();
        p.send(rank(1), TAG_FROM_RANK2, &[FROM_RANK2[1]]).unwrap();
        p.close().expect("rank 2 closes");
    });

    let (rank0_receives, rank0_send_after, at0) = join_within(rank0, "rank 0");
    let (rank1_receive_after, at1) = join_within(rank1, "rank 1");
    join_within(rank2, "rank 2");
    let connections = proxy.connections();
    proxy.finish();
    TamperOutcome {
        rank0_receives,
        rank0_send_after,
        rank1_receive_after,
        from_rank2: [at0, at1],
        connections,
    }
}

/// Asserts that the attacked link failed closed: rank 0 received exactly
/// the first `delivered` values, each in its place, and every later receive
/// failed with `reason` naming rank 1; the link stays failed; rank 1 sees its
/// connection end; both links to rank 2 keep working.
fn assert_failed_closed(outcome: &TamperOutcome, delivered: usize, reason: LinkError) {
    let expected: Vec<Result<u64, Failed>> = VALUES
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i < delivered {
                Ok(v)
            } else {
                Err(Failed::Link(rank(1), reason))
            }
        })
        .collect();
    assert_eq!(outcome.rank0_receives, expected);
    assert_eq!(
        outcome.rank0_send_after,
        Err(Failed::Link(rank(1), reason)),
        "the failed link stays failed for sends too"
    );
    assert_eq!(
        outcome.rank1_receive_after,
        Err(Failed::Link(
            rank(0),
            LinkError::Transport(TransportError::PeerVanished)
        )),
        "rank 1 learns that its link to rank 0 ended"
    );
    assert_eq!(outcome.from_rank2, FROM_RANK2);
    assert_eq!(
        outcome.connections, 1,
        "the attacked link is the one connection through the proxy"
    );
}

#[test]
fn a_flipped_bit_in_a_record_fails_the_link_and_delivers_nothing_of_it() {
    let outcome = attack_rank1_records(Tamper::FlipBit { record: 2 }, Pacing::Paced);
    assert_failed_closed(
        &outcome,
        2,
        LinkError::Security(SecurityError::RecordRejected),
    );
}

#[test]
fn a_replayed_record_is_rejected() {
    let outcome = attack_rank1_records(Tamper::Replay { record: 1 }, Pacing::Paced);
    // Record 1 arrives once and is delivered; its copy is refused.
    assert_failed_closed(
        &outcome,
        2,
        LinkError::Security(SecurityError::RecordRejected),
    );
}

#[test]
fn reordered_records_are_rejected() {
    let outcome = attack_rank1_records(Tamper::Swap { first: 1 }, Pacing::Paced);
    assert_failed_closed(
        &outcome,
        1,
        LinkError::Security(SecurityError::RecordRejected),
    );
}

#[test]
fn a_dropped_record_makes_the_next_one_fail() {
    let outcome = attack_rank1_records(Tamper::DropRecord { record: 1 }, Pacing::Paced);
    // Record 2 arrives where record 1 belongs: its nonce is one ahead.
    assert_failed_closed(
        &outcome,
        1,
        LinkError::Security(SecurityError::RecordRejected),
    );
}

#[test]
fn a_stream_cut_inside_a_record_fails_the_link_without_partial_data() {
    let outcome = attack_rank1_records(Tamper::Truncate { record: 2 }, Pacing::Paced);
    assert_failed_closed(
        &outcome,
        2,
        LinkError::Transport(TransportError::PeerVanished),
    );
}

/// As an attacker would do it, the bad record follows the clean ones at
/// once and may share a socket read with them. Those clean ones may then be
/// lost with the link, but nothing out of place may be delivered: what rank 0
/// gets is the clean prefix or less, and every other receive fails.
#[test]
fn a_flipped_bit_amid_a_burst_of_records_lets_no_more_than_the_clean_prefix_through() {
    let outcome = attack_rank1_records(Tamper::FlipBit { record: 2 }, Pacing::Burst);
    let delivered = outcome
        .rank0_receives
        .iter()
        .take_while(|r| r.is_ok())
        .count();
    assert!(delivered <= 2, "{:?}", outcome.rank0_receives);
    assert_failed_closed(
        &outcome,
        delivered,
        LinkError::Security(SecurityError::RecordRejected),
    );
}

/// 64 KiB of the repeated canary unit: a share the wire must never show.
fn canary() -> Vec<u8> {
    CANARY_UNIT
        .iter()
        .copied()
        .cycle()
        .take(CANARY_LEN)
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs a job whose rank 1 ↔ rank 0 link is recorded by the proxy: rank 1
/// sends the canary to rank 0, which echoes it back, then all three
/// exchange it as their share (rank 1's goes to rank 0).
fn record_canary_traffic(plaintext: bool) -> Recorded {
    let peers = free_peers();
    let proxy = Proxy::start(
        &peers[0],
        Tamper::Nothing,
        Pacing::Burst,
        Arc::new(AtomicUsize::new(0)),
    );
    let cfg = |r: u8| {
        let mut cfg = if plaintext {
            plaintext_config(r, &peers)
        } else {
            config(r, &peers)
        };
        if r == 1 {
            cfg.peers[0] = proxy.addr.clone();
        }
        cfg
    };
    let parties: Vec<_> = (0..3u8)
        .map(|r| {
            let cfg = cfg(r);
            std::thread::spawn(move || {
                let p = Party::connect(&cfg).expect("connect");
                let share = canary();
                match r {
                    0 => {
                        let mut got = vec![0u8; CANARY_LEN];
                        p.recv(rank(1), TAG, &mut got).unwrap();
                        assert!(got == share, "rank 0 received the canary intact");
                        p.send(rank(1), TAG, &got).unwrap();
                    }
                    1 => {
                        p.send(rank(0), TAG, &share).unwrap();
                        let mut echo = vec![0u8; CANARY_LEN];
                        p.recv(rank(0), TAG, &mut echo).unwrap();
                        assert!(echo == share, "rank 1 received the echo intact");
                    }
                    _ => {}
                }
                let mut from_succ = vec![0u8; CANARY_LEN];
                p.exchange(&share, &mut from_succ).unwrap();
                assert!(from_succ == share, "{r} received its successor's share");
                p.close().expect("close");
            })
        })
        .collect();
    for (r, p) in parties.into_iter().enumerate() {
        join_within(p, &format!("rank {r}"));
    }
    assert_eq!(proxy.connections(), 1);
    let recorded = proxy.finish();
    // The recorder saw the traffic: two shares one way, the echo the other.
    assert!(recorded.to_rank0.len() >= 2 * CANARY_LEN, "{recorded}");
    assert!(recorded.to_rank1.len() >= CANARY_LEN, "{recorded}");
    recorded
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes to rank 0, {} to rank 1",
            self.to_rank0.len(),
            self.to_rank1.len()
        )
    }
}

#[test]
fn shares_cross_a_secure_link_only_as_ciphertext() {
    let seen = record_canary_traffic(false);
    assert!(
        !contains(&seen.to_rank0, CANARY_UNIT),
        "canary toward rank 0 in clear ({seen})"
    );
    assert!(
        !contains(&seen.to_rank1, CANARY_UNIT),
        "canary toward rank 1 in clear ({seen})"
    );
}

/// The control for the test above: the same recorder on plaintext links
/// does find the canary, so its absence there means something.
#[test]
fn the_recorder_finds_shares_on_plaintext_links() {
    let seen = record_canary_traffic(true);
    assert!(
        contains(&seen.to_rank0, CANARY_UNIT),
        "no canary toward rank 0 ({seen})"
    );
    assert!(
        contains(&seen.to_rank1, CANARY_UNIT),
        "no canary toward rank 1 ({seen})"
    );
}

/// Starts ranks 0 and 1 correctly configured (with a short connect
/// deadline, since rank 2 will not make it) and rank 2 as `rank2` says;
/// returns the three outcomes of `Party::connect`.
fn connect_with_bad_rank2(peers: &[String; 3], rank2: Config) -> [Result<(), Failed>; 3] {
    let threads: Vec<_> = (0..2u8)
        .map(|r| {
            let cfg = Config {
                connect_timeout: SHORT_CONNECT,
                ..config(r, peers)
            };
            std::thread::spawn(move || connect_error(&cfg))
        })
        .chain([std::thread::spawn(move || connect_error(&rank2))])
        .collect();
    let mut outcomes = threads
        .into_iter()
        .enumerate()
        .map(|(r, t)| join_within(t, &format!("rank {r}")));
    [(); 3].map(|()| outcomes.next().unwrap())
}

#[test]
fn a_party_holding_the_wrong_key_is_refused_on_both_sides() {
    capture_logs();
    let peers = free_peers();
    // Rank 2 holds a key nobody else knows; ranks 0 and 1 expect the real one.
    let stranger = PrivateKey::generate().unwrap();
    let mut public_keys = keys().each_ref().map(PrivateKey::public);
    public_keys[2] = stranger.public();
    let rank2 = Config {
        connect_timeout: SHORTER_CONNECT,
        security: Security::Keys {
            private_key: stranger,
            public_keys,
            aead: Aead::AesGcm,
        },
        ..config(2, &peers)
    };
    let [at0, at1, at2] = connect_with_bad_rank2(&peers, rank2);
    // The acceptors drop each attempt and keep waiting for the real rank 2.
    assert_eq!(at0, Err(Failed::NeverCame(rank(2))));
    assert_eq!(at1, Err(Failed::NeverCame(rank(2))));
    // The dialler names the refusal; both its links fail at the same
    // deadline and the first failed link (rank 0's) is reported.
    assert_eq!(
        at2,
        Err(Failed::Link(rank(0), HandshakeFailure::ClosedByPeer.into()))
    );
    let line = wait_for_refusal("claiming rank 2: secure handshake failed");
    assert_names_loopback_address(&line);
}

#[test]
fn a_plaintext_party_is_refused_by_secure_ones() {
    capture_logs();
    let peers = free_peers();
    let rank2 = Config {
        connect_timeout: SHORTER_CONNECT,
        ..plaintext_config(2, &peers)
    };
    let [at0, at1, at2] = connect_with_bad_rank2(&peers, rank2);
    assert_eq!(at0, Err(Failed::NeverCame(rank(2))));
    assert_eq!(at1, Err(Failed::NeverCame(rank(2))));
    // Rank 2 fails on whichever secure party answers first: both send
    // their hello before refusing, so either can be named.
    match at2 {
        Err(Failed::Link(peer, LinkError::Incompatible(Incompatibility::CapabilityMismatch))) => {
            assert!(peer == rank(0) || peer == rank(1), "{peer}");
        }
        other => panic!("expected a capability mismatch, got {other:?}"),
    }
    let line = wait_for_refusal("peer asks for different link capabilities");
    assert_names_loopback_address(&line);
}

#[test]
fn a_party_from_another_session_is_refused_and_the_job_goes_on() {
    capture_logs();
    let peers = free_peers();
    let (connected_tx, connected) = mpsc::channel();
    let mut go = Vec::new();
    let parties: Vec<_> = (0..3u8)
        .map(|r| {
            let cfg = config(r, &peers);
            let connected_tx = connected_tx.clone();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go.push(go_tx);
            std::thread::spawn(move || {
                let p = Party::connect(&cfg).expect("a real party connects");
                connected_tx.send(r).unwrap();
                go_rx
                    .recv_timeout(THREAD_LIMIT)
                    .expect("the test lets the job go on");
                let me = u64::from(r);
                for round in 0..20u64 {
                    let got = p.exchange_value(round * 10 + me).unwrap();
                    assert_eq!(got, round * 10 + (me + 1) % 3);
                }
                p.close().expect("close");
            })
        })
        .collect();
    // A rank 2 of another job (same keys, its own listening port) dials
    // ranks 0 and 1 of this one while they set up and run.
    let elsewhere = free_peers();
    let impostor = Config {
        peers: [peers[0].clone(), peers[1].clone(), elsewhere[2].clone()],
        session: *b"another-session!",
        connect_timeout: SHORTER_CONNECT,
        ..config(2, &peers)
    };
    let impostor = std::thread::spawn(move || connect_error(&impostor));
    let impostor = join_within(impostor, "the impostor");
    // The acceptors close on its hello without a word, so it only ever
    // sees connections end; at its deadline each link is either between
    // attempts or inside one.
    assert!(
        matches!(
            impostor,
            Err(Failed::NeverCame(peer) | Failed::Link(peer, LinkError::Transport(TransportError::HandshakeTimeout)))
                if peer == rank(0)
        ),
        "{impostor:?}"
    );
    let line = wait_for_refusal("peer belongs to a different session");
    assert_names_loopback_address(&line);
    for _ in 0..3 {
        connected
            .recv_timeout(THREAD_LIMIT)
            .expect("every real party connected");
    }
    for g in go {
        g.send(()).unwrap();
    }
    for (r, p) in parties.into_iter().enumerate() {
        join_within(p, &format!("rank {r}"));
    }
}
