//! Starting three parties as threads of the test process, on loopback.
#![allow(dead_code)] // each test binary uses its own subset of these helpers

use std::net::TcpListener;
use std::time::Duration;
use ternion::{Config, Party, Rank};

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

/// A configuration for `rank` among `peers`.
pub fn config(rank: u8, peers: &[String; 3]) -> Config {
    Config {
        rank: Rank::new(rank).unwrap(),
        peers: peers.clone(),
        session: *b"integration-test",
        connect_timeout: Duration::from_secs(20),
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
