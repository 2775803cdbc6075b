//! Large transfers and background progress.

mod common;

use common::three;
use ternion::{Source, TagFilter};

fn checksum(values: &[u64]) -> u64 {
    values.iter().fold(0xcbf29ce484222325u64, |h, &v| {
        (h ^ v).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn a_256_mib_ring_exchange_arrives_intact() {
    const N: usize = 256 << 20 >> 3; // 256 MiB of u64 per party
    let got = three(|p| {
        let me = p.rank().index() as u64;
        let send: Vec<u64> = (0..N as u64)
            .map(|i| i.wrapping_mul(0x9e3779b97f4a7c15) ^ me)
            .collect();
        let mut recv = vec![0u64; N];
        p.exchange(&send, &mut recv).unwrap();
        // Every party also checks what its predecessor received from it.
        let sent = checksum(&send);
        let received = checksum(&recv);
        let from_succ_expected: Vec<u64> = (0..N as u64)
            .map(|i| i.wrapping_mul(0x9e3779b97f4a7c15) ^ p.succ().index() as u64)
            .collect();
        assert_eq!(received, checksum(&from_succ_expected));
        p.close().unwrap();
        (sent, received)
    });
    for (rank, (_, received)) in got.iter().enumerate() {
        assert_eq!(
            *received,
            got[(rank + 1) % 3].0,
            "rank {rank} received what its successor sent"
        );
    }
}

#[test]
fn data_moves_while_the_application_computes() {
    // Far more than the kernel's socket buffers hold: without the
    // communication thread, nothing could finish while every party is busy
    // outside the library.
    const BYTES: usize = 48 << 20;
    let done_in_background = three(|p| {
        let recv = p
            .irecv(Source::Rank(p.succ()), TagFilter::Tag(2), vec![0u8; BYTES])
            .unwrap();
        let send = p
            .isend_vec(p.pred(), 2, vec![p.rank().index() as u8 + 1; BYTES])
            .unwrap();
        // "Compute" without calling into ternion.
        std::thread::sleep(std::time::Duration::from_secs(3));
        let stats = p.stats(p.pred());
        let mut all = p.wait_all(vec![recv, send]).unwrap();
        all.truncate(1);
        let data = all.pop().unwrap().into_bytes();
        assert!(data.iter().all(|&b| b == p.succ().index() as u8 + 1));
        stats.bytes_sent
    });
    for sent in done_in_background {
        assert!(
            sent >= (BYTES as u64),
            "only {sent} bytes moved while the application computed"
        );
    }
}
