//! Every API operation, with three parties on real loopback sockets.

mod common;

use common::three;
use ternion::{Combine, Rank, Source, TagFilter};

#[test]
fn exchange_sends_to_the_predecessor_and_receives_from_the_successor() {
    let got = three(|p| {
        let me = p.rank().index() as u64;
        let v = p.exchange_value(me * 100).unwrap();
        let mut arr = [0i64; 5];
        p.exchange(&[-(me as i64); 5], &mut arr).unwrap();
        let mut bits = [false; 3];
        p.exchange(&[me == 1; 3], &mut bits).unwrap();
        p.close().unwrap();
        (me, v, arr, bits)
    });
    for (me, v, arr, bits) in got {
        let succ = (me + 1) % 3;
        assert_eq!(v, succ * 100);
        assert_eq!(arr, [-(succ as i64); 5]);
        assert_eq!(bits, [succ == 1; 3]);
    }
}

#[test]
fn blocking_send_and_recv_between_every_pair() {
    let got = three(|p| {
        let me = p.rank();
        let mut received = Vec::new();
        for other in me.others() {
            // Everyone sends before receiving: must not deadlock.
            p.send(other, 4, &[me.index() as u32; 3]).unwrap();
        }
        for other in me.others() {
            let mut buf = [0u32; 3];
            let st = p.recv(other, 4, &mut buf).unwrap();
            assert_eq!(st.peer, other);
            received.push(buf[0]);
        }
        p.barrier().unwrap();
        received.sort();
        received
    });
    assert_eq!(got[0], vec![1, 2]);
    assert_eq!(got[1], vec![0, 2]);
    assert_eq!(got[2], vec![0, 1]);
}

#[test]
fn open_and_reveal_combine_shares() {
    let got = three(|p| {
        let me = p.rank().index() as u64;
        let share = [me + 1, u64::MAX, me << 4];
        let opened = p.open(&share, Combine::WrappingAdd).unwrap();
        let revealed = p.reveal(&share, Combine::Xor).unwrap();
        (opened, revealed)
    });
    assert_eq!(got[0].0, Some(vec![6, u64::MAX.wrapping_mul(3), 0x30]));
    assert_eq!(got[1].0, None);
    for (_, revealed) in &got {
        assert_eq!(revealed, &vec![1 ^ 2 ^ 3, u64::MAX, 0x10 ^ 0x20]);
    }
}

#[test]
fn thousands_of_outstanding_one_element_requests_match_in_order() {
    const N: u64 = 5000;
    let got = three(|p| {
        let (pred, succ) = (p.pred(), p.succ());
        let recvs: Vec<_> = (0..N)
            .map(|_| {
                p.irecv(Source::Rank(succ), TagFilter::Tag(1), vec![0; 8])
                    .unwrap()
            })
            .collect();
        let sends: Vec<_> = (0..N).map(|i| p.isend(pred, 1, &[i]).unwrap()).collect();
        let values: Vec<u64> = p
            .wait_all(recvs)
            .unwrap()
            .into_iter()
            .map(|c| c.into_values::<u64>().unwrap()[0])
            .collect();
        p.wait_all(sends).unwrap();
        values
    });
    for values in got {
        assert_eq!(values, (0..N).collect::<Vec<_>>());
    }
}

#[test]
fn zero_length_messages_and_wildcards() {
    let got = three(|p| {
        if p.rank() == Rank::ZERO {
            let mut buf = [0u8; 16];
            let a = p.recv_bytes(Source::Any, TagFilter::Any, &mut buf).unwrap();
            let b = p.recv_bytes(Source::Any, TagFilter::Any, &mut buf).unwrap();
            let mut lens = vec![(a.peer.index(), a.len), (b.peer.index(), b.len)];
            lens.sort();
            lens
        } else {
            let data = vec![7u8; if p.rank().index() == 1 { 0 } else { 9 }];
            p.send(Rank::ZERO, 3, &data).unwrap();
            vec![]
        }
    });
    assert_eq!(got[0], vec![(1, 0), (2, 9)]);
}

#[test]
fn a_short_receive_buffer_is_an_error_not_corruption() {
    let got = three(|p| match p.rank().index() {
        0 => {
            let mut small = [0u64; 2];
            let err = p
                .recv(Rank::new(1).unwrap(), 0, &mut small)
                .unwrap_err()
                .to_string();
            let mut right = [0u64; 1];
            p.recv(Rank::new(1).unwrap(), 0, &mut right).unwrap();
            (err, right[0])
        }
        1 => {
            p.send(Rank::ZERO, 0, &[1u64, 2, 3]).unwrap();
            p.send(Rank::ZERO, 0, &[42u64]).unwrap();
            (String::new(), 0)
        }
        _ => (String::new(), 0),
    });
    assert!(got[0].0.contains("does not fit"), "{}", got[0].0);
    assert_eq!(got[0].1, 42);
}

#[test]
fn reserved_tags_are_refused() {
    let got = three(|p| p.send(p.succ(), 1 << 31, &[1u8]).unwrap_err().to_string());
    assert!(got[0].contains("reserved"));
}

#[test]
fn test_reports_completion_without_blocking() {
    let got = three(|p| {
        let mut recv = p
            .irecv(Source::Rank(p.succ()), TagFilter::Tag(8), vec![0; 4])
            .unwrap();
        // Nothing has been sent yet: test must say "not yet" and return.
        assert!(!recv.test().unwrap());
        p.barrier().unwrap();
        p.send(p.pred(), 8, &[p.rank().index() as u8; 4]).unwrap();
        while !recv.test().unwrap() {
            std::thread::yield_now();
        }
        recv.wait().unwrap().bytes().to_vec()
    });
    for (rank, bytes) in got.iter().enumerate() {
        assert_eq!(bytes, &vec![((rank + 1) % 3) as u8; 4]);
    }
}
