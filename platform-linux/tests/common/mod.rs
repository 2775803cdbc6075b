//! Starting three parties as threads of the test process, on loopback.
#![allow(dead_code)] // each test binary uses its own subset of these helpers

pub mod checked_traffic;
pub mod cutting_proxy;
pub mod memory;

use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use ternion::config::Security;
use ternion::keys::PrivateKey;
use ternion::{Config, Party, Rank};
use ternion_core::secure::Aead;

/// The three parties' keys, made once per test process.
pub fn keys() -> &'static [PrivateKey; 3] {
    static KEYS: OnceLock<[PrivateKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| [0, 1, 2].map(|_| PrivateKey::generate().unwrap()))
}

/// Secure links with the process's keys, as a party of `rank`.
pub fn security(rank: u8) -> Security {
    Security::Keys {
        private_key: keys()[rank as usize].clone(),
        public_keys: keys().each_ref().map(PrivateKey::public),
        aead: Aead::AesGcm,
    }
}

/// Three loopback addresses with ports that were free a moment ago.
pub fn free_peers() -> [String; 3] {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let addrs: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect();
    addrs.try_into().unwrap()
}

/// A configuration for `rank` among `peers`, with secure links.
pub fn config(rank: u8, peers: &[String; 3]) -> Config {
    Config {
        rank: Rank::new(rank).unwrap(),
        peers: peers.clone(),
        session: *b"integration-test",
        connect_timeout: Duration::from_secs(20),
        peer_timeout: Some(ternion_core::config::DEFAULT_PEER_TIMEOUT),
        resume_buffer: ternion_core::config::DEFAULT_RESUME_BUFFER,
        tcp: ternion::TcpTuning::default(),
        security: security(rank),
    }
}

/// The same with plaintext links, for tests that play a peer byte by byte.
pub fn plaintext_config(rank: u8, peers: &[String; 3]) -> Config {
    Config {
        security: Security::Plaintext,
        ..config(rank, peers)
    }
}

/// Runs `body` as each of the three parties, on three threads, and returns
/// their results in rank order.
pub fn three<T: Send + 'static>(body: impl Fn(Party) -> T + Send + Sync + 'static) -> Vec<T> {
    let peers = free_peers();
    let body = std::sync::Arc::new(body);
    let threads: Vec<_> = (0..3u8)
        .map(|rank| {
            let cfg = config(rank, &peers);
            let body = body.clone();
            std::thread::spawn(move || body(Party::connect(&cfg).expect("connect")))
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("party panicked"))
        .collect()
}

/// Connects one party per configuration, all at once (each waits for the
/// others), and returns them in the configurations' order.
pub fn connect_all(configs: [Config; 3]) -> [Party; 3] {
    let connecting =
        configs.map(|cfg| (cfg.rank, std::thread::spawn(move || Party::connect(&cfg))));
    connecting.map(|(rank, t)| {
        t.join()
            .unwrap()
            .unwrap_or_else(|e| panic!("{rank} cannot connect: {e}"))
    })
}

/// Closes three parties together: each waits for the others' close frames.
pub fn close_all(parties: [Party; 3]) {
    let closing = parties.map(|p| std::thread::spawn(move || (p.rank(), p.close())));
    for c in closing {
        let (rank, closed) = c.join().unwrap();
        closed.unwrap_or_else(|e| panic!("{rank} cannot close: {e}"));
    }
}

/// Collects every log line of the test process.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).unwrap();
        log::set_max_level(log::LevelFilter::Info);
        capture
    })
}

/// Starts capturing the process's log lines (once; later calls do nothing).
pub fn capture_logs() {
    capture();
}

/// Every line logged since capturing started, as "LEVEL message".
pub fn logged() -> Vec<String> {
    capture().0.lock().unwrap().clone()
}
