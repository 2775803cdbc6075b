//! Backpressure: a sender whose peer stops reading is held back instead of
//! buffering without bound.
//!
//! A live party never stops reading by itself: its communication thread
//! takes whatever arrives into the unexpected queue (bounded; past the bound
//! the link fails). A peer stops reading when its process is stopped or
//! hung, or when the path to it stalls. The test produces exactly that in
//! one process: rank 1 dials rank 0 through a [`CuttingProxy`] that is
//! stalled, reading nothing rank 1 sends, so rank 1's TCP window fills as
//! it would toward a stopped peer. Rank 1's application then sends 2 GiB
//! as 8 MiB blocking sends from one buffer. Backpressure means that the
//! sends stop completing once the window (and any bounded buffering in the
//! link) is full, so the process's memory stays flat; released, every
//! message arrives intact and in order.
//!
//! The test is alone in its binary, so the resident memory of the process
//! is this test's own.

mod common;

use common::checked_traffic::XorShift;
use common::cutting_proxy::CuttingProxy;
use common::memory::Resident;
use common::{close_all, config, connect_all, free_peers};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ternion::Rank;

/// Bytes per message.
const MESSAGE: usize = 8 << 20;
/// Messages rank 1 offers: 2 GiB, far more than any buffer on the way.
const MESSAGES: u64 = 256;
/// The most that may leave rank 1, and the most the process's memory may
/// grow by, while nothing is read: far below the 2 GiB offered, far above
/// what socket buffers and a link's bounded buffering hold.
const FLAT: u64 = 128 << 20;
/// Rank 0 hears nothing from rank 1 while the proxy is stalled, not even
/// heartbeats: the parties wait this long before presuming a peer dead,
/// well past the stall.
const PEER_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the test looks at rank 1's progress while the proxy is stalled.
const SAMPLE: Duration = Duration::from_millis(250);
/// Rank 1 has stopped once its progress stays the same for this many samples.
const STILL_SAMPLES: u32 = 4;
/// Longest rank 1 may take to stop, and the job to finish once released.
const LIMIT: Duration = Duration::from_secs(120);
/// The message tag.
const TAG: u32 = 3;

fn rank(i: u8) -> Rank {
    Rank::new(i).unwrap()
}

#[test]
fn a_peer_that_reads_nothing_holds_the_sender_back_with_flat_memory() {
    let peers = free_peers();
    let proxy = CuttingProxy::start(peers[0].parse().unwrap()).unwrap();
    let configs = [0, 1, 2].map(|r| {
        let mut cfg = config(r, &peers);
        cfg.peer_timeout = Some(PEER_TIMEOUT);
        if r == 1 {
            cfg.peers[0] = proxy.addr().to_string();
        }
        cfg
    });
    let [rank0, rank1, rank2] = connect_all(configs);
    let rank1 = Arc::new(rank1);

    // Every buffer the test uses exists (and is touched) before the baseline.
    let mut message = vec![0u8; MESSAGE];
    let mut rng = XorShift::new(0x5eed);
    message
        .chunks_mut(8)
        .for_each(|c| c.copy_from_slice(&rng.next().to_le_bytes()));
    let expected = message.clone();
    let mut received = vec![0u8; MESSAGE];

    proxy.set_stalled(true);
    let baseline = Resident::read();
    let sent = Arc::new(AtomicU64::new(0));
    let sender = {
        let (party, sent) = (rank1.clone(), sent.clone());
        std::thread::spawn(move || -> ternion::Result<()> {
            for i in 0..MESSAGES {
                // The index leads each message, so the receiver sees the order.
                message[..8].copy_from_slice(&i.to_le_bytes());
                party.send(rank(0), TAG, &message)?;
                sent.store(i + 1, SeqCst);
            }
            Ok(())
        })
    };

    // Rank 1 stops once nothing moves any more.
    let progress = || (sent.load(SeqCst), rank1.stats(rank(0)).bytes_sent);
    let deadline = Instant::now() + LIMIT;
    let (mut last, mut still) = (progress(), 0);
    // The most resident while held back, sampled as it goes: the kernel's
    // high-water mark alone can lag (see `Resident`).
    let mut most_kib = 0;
    while still < STILL_SAMPLES {
        if sender.is_finished() {
            panic!(
                "rank 1's sends ended with nothing read: {:?}",
                sender.join().unwrap()
            );
        }
        assert!(
            Instant::now() < deadline,
            "rank 1 kept sending to a peer that reads nothing: {last:?}"
        );
        std::thread::sleep(SAMPLE);
        let memory = Resident::read();
        most_kib = most_kib.max(memory.now_kib).max(memory.peak_kib);
        let now = progress();
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    let (completed, bytes_sent) = last;
    println!(
        "stalled: {completed} of {MESSAGES} sends complete, {bytes_sent} bytes sent; \
         resident at most {most_kib} KiB, {} KiB before sending",
        baseline.now_kib
    );
    assert!(
        completed * MESSAGE as u64 <= FLAT && bytes_sent <= FLAT,
        "{completed} sends complete, {bytes_sent} bytes sent into a stalled link"
    );
    let growth = most_kib.saturating_sub(baseline.now_kib) << 10;
    assert!(
        growth <= FLAT,
        "memory grew by {growth} bytes while rank 1 was held back"
    );

    proxy.set_stalled(false);
    for i in 0..MESSAGES {
        let status = rank0.recv(rank(1), TAG, &mut received).unwrap();
        assert_eq!(status.len, MESSAGE as u64);
        let index = u64::from_le_bytes(received[..8].try_into().unwrap());
        assert_eq!(index, i, "messages arrive in order");
        assert!(received[8..] == expected[8..], "message {i} arrived intact");
    }
    sender.join().unwrap().unwrap();
    assert_eq!(sent.load(SeqCst), MESSAGES);
    let rank1 = Arc::into_inner(rank1).expect("the sender is done");
    close_all([rank0, rank1, rank2]);
}
