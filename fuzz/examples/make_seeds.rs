//! Writes the kept seed corpus, `fuzz/corpus/<target>/seed-*`, and runs every
//! seed through its target's check, so a seed the current code rejects is
//! caught here rather than in a fuzzing run.
//!
//! Run from `fuzz/` with `cargo run --example make_seeds`. The seeds are
//! made by the code under test (headers and hellos it emits), so they track
//! the wire format. Files that libFuzzer adds to a corpus are never named
//! `seed-*`, and `.gitignore` keeps them out of the repository.
//!
//! No seed may be forged with a key from the checks' own source: the
//! `handshake` check relies on nobody being able to authenticate as the
//! endpoint's peers.

use std::fs;
use std::path::{Path, PathBuf};
use ternion_core::wire::{
    Capabilities, FrameKind, FrameRepr, HelloRepr, FRAME_HEADER_LEN, HELLO_LEN,
};
use ternion_core::{Rank, MAX_FRAME_PAYLOAD};
use ternion_fuzz::handshake::{Role, Scenario};
use ternion_fuzz::link::{Plan, PROBE_TAG};
use ternion_fuzz::{frame_decoder, handshake, hello, link};

/// One seed: the target's name, the seed's name, its bytes.
type Seed = (&'static str, &'static str, Vec<u8>);

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let seeds: Vec<Seed> = [
        frame_seeds(),
        hello_seeds(),
        handshake_seeds(),
        link_seeds(),
    ]
    .concat();
    for target in ["frame_decoder", "hello", "handshake", "link"] {
        remove_old_seeds(&corpus.join(target))?;
    }
    for (target, name, bytes) in &seeds {
        let check = match *target {
            "frame_decoder" => frame_decoder::check,
            "hello" => hello::check,
            "handshake" => handshake::check,
            "link" => link::check,
            other => unreachable!("no target {other}"),
        };
        check(bytes);
        let path = corpus.join(target).join(format!("seed-{name}"));
        fs::write(&path, bytes)?;
        println!("{} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}

/// Clears the seeds a previous run wrote, so a renamed seed leaves no stale copy.
fn remove_old_seeds(dir: &PathBuf) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
        {
            fs::remove_file(path)?;
        }
    }
    Ok(())
}

fn rank(r: u8) -> Rank {
    Rank::new(r).expect("a rank below 3")
}

/// A frame header as the core emits it. `emit` does not validate, so this
/// also makes headers the decoder must refuse.
fn frame(kind: FrameKind, len: u32, seq: u64, tag: u32, aux: u64) -> Vec<u8> {
    let mut out = vec![0; FRAME_HEADER_LEN];
    FrameRepr {
        kind,
        len,
        seq,
        tag,
        aux,
    }
    .emit(&mut out)
    .expect("a header-sized buffer");
    out
}

fn hello(capabilities: Capabilities, sender: u8, receiver: u8, resume_seq: u64) -> Vec<u8> {
    let mut out = vec![0; HELLO_LEN];
    HelloRepr {
        capabilities,
        session: *b"ternion-seed-ses",
        sender: rank(sender),
        receiver: rank(receiver),
        resume_seq,
    }
    .emit(&mut out)
    .expect("a hello-sized buffer");
    out
}

fn frame_seeds() -> Vec<Seed> {
    use FrameKind::*;
    let abort_code = -7i32 as i64 as u64;
    let mut with_payload = frame(Data, 8, 5, 3, 8);
    with_payload.extend_from_slice(b"payload!");
    let mut flagged = frame(Data, 8, 0, 7, 24);
    flagged[1] = 1;
    let t = "frame_decoder";
    vec![
        (t, "data", frame(Data, 8, 41, 7, 24)),
        (t, "data-empty-message", frame(Data, 0, 0, 1, 0)),
        (t, "data-last-fragment-and-payload", with_payload),
        (
            t,
            "data-over-endpoint-limit",
            frame(Data, MAX_FRAME_PAYLOAD as u32 + 1, 0, 0, u64::MAX),
        ),
        (t, "data-longer-than-message", frame(Data, 9, 0, 0, 8)),
        (t, "data-flag-set", flagged),
        (t, "close", frame(Close, 0, 9, 0, 0)),
        (t, "abort", frame(Abort, 0, 2, 0, abort_code)),
        (t, "heartbeat", frame(Heartbeat, 0, 10, 0, 41)),
        (t, "close-with-tag", frame(Close, 0, 1, 5, 0)),
        (
            t,
            "truncated",
            frame(Data, 8, 41, 7, 24)[..FRAME_HEADER_LEN - 1].to_vec(),
        ),
    ]
}

fn hello_seeds() -> Vec<Seed> {
    let mut wrong_version = hello(Capabilities::empty(), 1, 0, 0);
    wrong_version[5] = 2;
    let t = "hello";
    vec![
        (t, "plaintext-2-to-0", hello(Capabilities::empty(), 2, 0, 0)),
        (
            t,
            "encrypted-1-to-0",
            hello(Capabilities::ENCRYPTED, 1, 0, 0),
        ),
        (
            t,
            "resume-2-to-1",
            hello(Capabilities::all(), 2, 1, 0x0102_0304_0506_0708),
        ),
        (t, "wrong-version", wrong_version),
        (
            t,
            "truncated",
            hello(Capabilities::empty(), 2, 0, 0)[..HELLO_LEN - 1].to_vec(),
        ),
    ]
}

/// A length-prefixed handshake message of `len` body bytes.
fn handshake_message(len: u16) -> Vec<u8> {
    let body = (0..len).map(|i| (i as u8).wrapping_mul(97) ^ 0x3c);
    len.to_be_bytes().into_iter().chain(body).collect()
}

fn handshake_seeds() -> Vec<Seed> {
    let scenario = |role, plays_higher_peer, hangs_up, chunk_len| Scenario {
        role,
        plays_higher_peer,
        hangs_up,
        chunk_len,
    };
    // A Noise KK message without payload is an ephemeral key and a tag: 48 bytes.
    let message = handshake_message(48);
    let mut message_and_more = message.clone();
    message_and_more.extend(handshake_message(64));
    let t = "handshake";
    vec![
        (
            t,
            "acceptor-message",
            scenario(Role::Accepts, false, false, usize::MAX).input(&message),
        ),
        (
            t,
            "acceptor-message-bytewise-then-hang-up",
            scenario(Role::Accepts, true, true, 1).input(&message),
        ),
        (
            t,
            "acceptor-two-messages",
            scenario(Role::Accepts, false, false, 7).input(&message_and_more),
        ),
        (
            t,
            "acceptor-silent",
            scenario(Role::Accepts, true, false, usize::MAX).input(&[]),
        ),
        (
            t,
            "acceptor-hang-up-after-hello",
            scenario(Role::Accepts, false, true, usize::MAX).input(&[]),
        ),
        (
            t,
            "acceptor-long-length-short-body",
            scenario(Role::Accepts, false, false, 64).input(&[0xff, 0xff, 1, 2, 3]),
        ),
        (
            t,
            "acceptor-empty-message",
            scenario(Role::Accepts, false, false, usize::MAX).input(&[0, 0]),
        ),
        (
            t,
            "dialler-message",
            scenario(Role::Dials, false, false, usize::MAX).input(&message),
        ),
        (
            t,
            "dialler-message-in-chunks-then-hang-up",
            scenario(Role::Dials, true, true, 7).input(&message),
        ),
        (
            t,
            "dialler-silent",
            scenario(Role::Dials, false, false, usize::MAX).input(&[]),
        ),
    ]
}

fn link_seeds() -> Vec<Seed> {
    use FrameKind::*;
    let plan = |secure, victim, from_successor, chunk_len| Plan {
        secure,
        victim: rank(victim),
        from_successor,
        chunk_len,
    };
    let plaintext = plan(false, 0, true, usize::MAX);
    let mut fake_probe = frame(Data, 3, 0, PROBE_TAG, 3);
    fake_probe.extend_from_slice(b"abc");
    let mut unfinished_message = frame(Data, 10, 0, 5, 20);
    unfinished_message.extend_from_slice(&[0x42; 10]);
    let mut message_then_close = frame(Data, 4, 0, 5, 4);
    message_then_close.extend_from_slice(b"ping");
    message_then_close.extend(frame(Close, 0, 1, 0, 0));
    let swallowing = frame(
        Data,
        MAX_FRAME_PAYLOAD as u32,
        0,
        5,
        MAX_FRAME_PAYLOAD as u64,
    );
    let mut record = 40u16.to_be_bytes().to_vec();
    record.extend((0..40u8).map(|i| i.wrapping_mul(29)));
    let t = "link";
    vec![
        (t, "nothing-forged", plaintext.input(&[])),
        (t, "fake-probe", plaintext.input(&fake_probe)),
        (
            t,
            "fake-probe-bytewise",
            plan(false, 2, false, 1).input(&fake_probe),
        ),
        (
            t,
            "unfinished-message",
            plaintext.input(&unfinished_message),
        ),
        (
            t,
            "message-then-close",
            plan(false, 1, false, 7).input(&message_then_close),
        ),
        (
            t,
            "header-that-swallows-the-probe",
            plaintext.input(&swallowing),
        ),
        (
            t,
            "heartbeat",
            plaintext.input(&frame(Heartbeat, 0, 0, 0, 0)),
        ),
        (
            t,
            "heartbeat-acking-unsent-frames",
            plaintext.input(&frame(Heartbeat, 0, 0, 0, 5)),
        ),
        (t, "close", plaintext.input(&frame(Close, 0, 0, 0, 0))),
        (
            t,
            "abort",
            plan(false, 2, true, usize::MAX).input(&frame(Abort, 0, 0, 0, 3)),
        ),
        (t, "sequence-gap", plaintext.input(&frame(Data, 0, 5, 1, 0))),
        (t, "junk", plaintext.input(b"not a frame header at all")),
        (
            t,
            "secure-nothing-forged",
            plan(true, 1, false, usize::MAX).input(&[]),
        ),
        (
            t,
            "secure-record",
            plan(true, 0, true, usize::MAX).input(&record),
        ),
        (
            t,
            "secure-record-in-chunks",
            plan(true, 1, true, 7).input(&record),
        ),
        (
            t,
            "secure-one-byte",
            plan(true, 2, false, usize::MAX).input(&[0x01]),
        ),
        (
            t,
            "secure-empty-record",
            plan(true, 0, false, usize::MAX).input(&[0, 0]),
        ),
    ]
}
