//! Bad input on real sockets: each case gets a typed error and a log line
//! naming the peer's address, the offending connection is dropped, and the
//! three-party job carries on.

mod common;

use common::{capture_logs, config, free_peers, logged, plaintext_config};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;
use ternion::{Error, Party, Rank, Source, TagFilter};
use ternion_core::wire::{
    Capabilities, FrameKind, FrameRepr, HelloRepr, FRAME_HEADER_LEN, HELLO_LEN,
};
use ternion_core::{LinkError, TransportError};

fn wait_for_log(needle: &str) -> String {
    for _ in 0..1000 {
        if let Some(line) = logged().iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no log line contains {needle:?}");
}

fn hello_with(
    capabilities: Capabilities,
    sender: u8,
    receiver: u8,
    session: [u8; 16],
) -> [u8; HELLO_LEN] {
    let mut b = [0; HELLO_LEN];
    HelloRepr {
        capabilities,
        session,
        sender: Rank::new(sender).unwrap(),
        receiver: Rank::new(receiver).unwrap(),
        resume_seq: 0,
    }
    .emit(&mut b)
    .unwrap();
    b
}

/// A hello as a secure party sends it.
fn hello(sender: u8, receiver: u8, session: [u8; 16]) -> [u8; HELLO_LEN] {
    hello_with(
        Capabilities::ENCRYPTED | Capabilities::RESUME,
        sender,
        receiver,
        session,
    )
}

/// Waits until the stranger's connection is closed by the party. Frames the
/// party had already sent on it (an acknowledgement, a heartbeat) are read
/// past; a handful at most.
fn assert_dropped(mut s: TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 64];
    let mut read = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Ok(n) if read + n <= 4 * FRAME_HEADER_LEN => read += n,
            other => panic!("connection was not dropped: {other:?} after {read} bytes"),
        }
    }
}

#[test]
fn strangers_are_dropped_with_a_reason_and_the_job_goes_on() {
    capture_logs();
    let peers = free_peers();
    let rounds_done = Arc::new(Barrier::new(4));
    let strangers_done = Arc::new(Barrier::new(4));
    let parties: Vec<_> = (0..3u8)
        .map(|rank| {
            let cfg = config(rank, &peers);
            let (a, b) = (rounds_done.clone(), strangers_done.clone());
            std::thread::spawn(move || {
                let p = Party::connect(&cfg).unwrap();
                assert_eq!(
                    p.exchange_value(rank as u64).unwrap(),
                    (rank as u64 + 1) % 3
                );
                a.wait();
                b.wait();
                // The real job still works after all the strangers.
                for round in 0..100u64 {
                    assert_eq!(
                        p.exchange_value(round + rank as u64).unwrap(),
                        round + (rank as u64 + 1) % 3
                    );
                }
                p.close().unwrap();
            })
        })
        .collect();
    rounds_done.wait();

    let session = *b"integration-test";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            (0..HELLO_LEN as u8).map(|i| i.wrapping_mul(91)).collect(),
            "bad magic",
        ),
        (
            "wrong version",
            {
                let mut h = hello(1, 0, session);
                h[5] = 7;
                h.to_vec()
            },
            "unsupported protocol version 7",
        ),
        (
            "other session",
            hello(1, 0, [9; 16]).to_vec(),
            "different session",
        ),
        (
            // Taken for a reconnection (the old connection may be dead):
            // the real rank 1 reconnects, and the impostor is dropped.
            "second rank 1",
            hello(1, 0, session).to_vec(),
            "connected again from",
        ),
        (
            "truncated hello",
            hello(2, 0, session)[..12].to_vec(),
            "closed the connection unexpectedly",
        ),
    ];
    for (what, bytes, reason) in cases {
        let mut s = TcpStream::connect(&peers[0]).unwrap();
        let me = s.local_addr().unwrap().to_string();
        s.write_all(&bytes).unwrap();
        if what == "truncated hello" {
            s.shutdown(std::net::Shutdown::Write).unwrap();
        }
        let line = wait_for_log(&me);
        assert!(line.contains(reason), "{what}: {line}");
        assert!(line.starts_with("WARN"), "{what}: {line}");
        if what == "second rank 1" {
            // Its hello was valid, so rank 0 answered before the handshake.
            let mut theirs = [0u8; HELLO_LEN];
            s.read_exact(&mut theirs).unwrap();
        }
        assert_dropped(s);
    }
    strangers_done.wait();
    for p in parties {
        p.join().unwrap();
    }
}

#[test]
fn a_silent_connection_is_dropped_at_the_handshake_deadline() {
    capture_logs();
    let peers = free_peers();
    let parties: Vec<_> = (0..3u8)
        .map(|rank| {
            let cfg = config(rank, &peers);
            std::thread::spawn(move || {
                let p = Party::connect(&cfg).unwrap();
                // Keep serving (and so keep accepting) while the stranger sits silent.
                for _ in 0..600 {
                    p.exchange_value(1u8).unwrap();
                    std::thread::sleep(Duration::from_millis(10));
                }
                p.close().unwrap();
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let s = TcpStream::connect(&peers[2]).unwrap();
    let me = s.local_addr().unwrap().to_string();
    let line = wait_for_log(&me);
    assert!(line.contains("sent no hello in time"), "{line}");
    assert_dropped(s);
    for p in parties {
        p.join().unwrap();
    }
}

/// The test plays rank 2 over raw sockets, then sends `bad` to rank 0.
fn impostor_sends(bad: Vec<u8>, close_after: bool) -> Error {
    let peers = free_peers();
    let session = *b"integration-test";
    let (connected_tx, connected) = std::sync::mpsc::channel();
    let real: Vec<_> = (0..2u8)
        .map(|rank| {
            // Plaintext, so the test's bytes reach the frame decoder as they are.
            let cfg = plaintext_config(rank, &peers);
            let connected_tx = connected_tx.clone();
            std::thread::spawn(move || {
                let p = Party::connect(&cfg).unwrap();
                connected_tx.send(()).unwrap();
                let outcome = if rank == 0 {
                    let mut buf = [0u8; 64];
                    let err = p
                        .recv_bytes(
                            Source::Rank(Rank::new(2).unwrap()),
                            TagFilter::Any,
                            &mut buf,
                        )
                        .unwrap_err();
                    // Ranks 0 and 1 keep talking.
                    p.send(Rank::new(1).unwrap(), 5, &[0xabu8]).unwrap();
                    Some(err)
                } else {
                    let mut one = [0u8];
                    p.recv(Rank::ZERO, 5, &mut one).unwrap();
                    assert_eq!(one[0], 0xab);
                    None
                };
                drop(p);
                outcome
            })
        })
        .collect();
    let dial = |to: usize| loop {
        if let Ok(mut s) = TcpStream::connect(&peers[to]) {
            s.write_all(&hello_with(Capabilities::RESUME, 2, to as u8, session))
                .unwrap();
            let mut theirs = [0u8; HELLO_LEN];
            s.read_exact(&mut theirs).unwrap();
            break s;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut to0 = dial(0);
    let _to1 = dial(1);
    // Misbehave only once both real parties are up.
    connected.recv().unwrap();
    connected.recv().unwrap();
    to0.write_all(&bad).unwrap();
    if close_after {
        to0.shutdown(std::net::Shutdown::Write).unwrap();
    }
    assert_dropped(to0);
    let mut outcomes = real.into_iter().map(|t| t.join().unwrap());
    outcomes.next().flatten().unwrap()
}

fn frame(len: u32, seq: u64, aux: u64) -> Vec<u8> {
    let mut b = [0u8; FRAME_HEADER_LEN];
    FrameRepr {
        kind: FrameKind::Data,
        len,
        seq,
        tag: 0,
        aux,
    }
    .emit(&mut b)
    .unwrap();
    b.to_vec()
}

fn link_reason(e: &Error) -> LinkError {
    match e {
        Error::Protocol(ternion_core::Error::Link { peer, reason }) => {
            assert_eq!(peer.index(), 2, "the error names the misbehaving peer");
            *reason
        }
        other => panic!("expected a link error, got {other}"),
    }
}

#[test]
fn an_oversized_frame_fails_only_that_link() {
    let err = impostor_sends(frame(1 << 30, 0, 1 << 30), false);
    assert!(
        matches!(
            link_reason(&err),
            LinkError::Malformed(ternion_core::wire::WireError::Oversized { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("exceeds limit"), "{err}");
}

#[test]
fn a_truncated_frame_fails_only_that_link() {
    let mut bad = frame(100, 0, 100);
    bad.extend_from_slice(&[0u8; 30]);
    let err = impostor_sends(bad, true);
    // A broken connection is a reason to reconnect, not to fail; the
    // impostor never does, so the peer timeout names it.
    assert!(
        matches!(
            link_reason(&err),
            LinkError::Transport(TransportError::PeerSilent { .. })
        ),
        "{err}"
    );
}

#[test]
fn garbage_after_the_handshake_fails_only_that_link() {
    let err = impostor_sends(vec![0xff; 64], false);
    assert!(
        matches!(link_reason(&err), LinkError::Malformed(_)),
        "{err}"
    );
}
