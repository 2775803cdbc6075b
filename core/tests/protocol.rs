//! Whole-protocol tests: three endpoints in one thread over in-memory
//! sockets, stepped with a simulated clock. Fully deterministic.

mod common;

use common::{events, r, secure, Ep, Trio, SESSION};
use ternion_core::socket::{Network, Socket};
use ternion_core::testing::MemSocket;
use ternion_core::wire::{
    Capabilities, FrameKind, FrameRepr, HelloRepr, FRAME_HEADER_LEN, HELLO_LEN,
};
use ternion_core::{
    Buffer, Duration, Error, Event, HandshakeFailure, Incompatibility, LinkError, LinkState,
    Misbehaviour, Refusal, RequestId, SecurityError, Source, TagFilter, TransportError,
};

#[test]
fn links_come_up_in_any_start_order() {
    for order in [[0u8, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let mut t = Trio::new();
        for n in &t.nets {
            n.listen(false);
        }
        let held: Vec<Ep> = t.eps.iter_mut().map(|e| e.take().unwrap()).collect();
        let mut held: Vec<Option<Ep>> = held.into_iter().map(Some).collect();
        for &who in &order {
            // The parties that are not up yet refuse connections for a while.
            for _ in 0..50 {
                t.step();
            }
            t.nets[who as usize].listen(true);
            t.eps[who as usize] = held[who as usize].take();
        }
        t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
        for i in 0..3 {
            assert!(
                events(t.ep(i))
                    .iter()
                    .filter(|e| matches!(e, Event::LinkUp(_)))
                    .count()
                    == 2
            );
        }
    }
}

#[test]
fn every_pair_exchanges_messages_both_ways() {
    let mut t = Trio::established();
    for from in 0..3u8 {
        for to in 0..3u8 {
            if from == to {
                continue;
            }
            let payload = vec![from * 10 + to; 100 + from as usize];
            let rid = t
                .ep(to)
                .irecv(Source::Rank(r(from)), TagFilter::Tag(7), vec![0; 200])
                .unwrap();
            let sid = t.ep(from).isend(r(to), 7, payload.clone()).unwrap();
            let (got, len) = t.recv_bytes(to, rid);
            assert_eq!(&got[..len as usize], &payload[..]);
            let sent = t.wait(from, sid);
            assert_eq!(sent.result.unwrap().peer, r(to));
        }
    }
    assert_eq!(t.ep(0).stats(r(1)).messages_sent, 1);
    assert_eq!(t.ep(0).stats(r(1)).messages_received, 1);
}

#[test]
fn thousands_of_outstanding_requests_complete_in_order() {
    let mut t = Trio::established();
    const N: u64 = 10_000;
    let recvs: Vec<RequestId> = (0..N)
        .map(|_| {
            t.ep(0)
                .irecv(Source::Rank(r(1)), TagFilter::Tag(3), vec![0; 8])
                .unwrap()
        })
        .collect();
    let sends: Vec<RequestId> = (0..N)
        .map(|i| t.ep(1).isend(r(0), 3, i.to_le_bytes().to_vec()).unwrap())
        .collect();
    for (i, id) in recvs.into_iter().enumerate() {
        let (got, _) = t.recv_bytes(0, id);
        assert_eq!(u64::from_le_bytes(got.try_into().unwrap()), i as u64);
    }
    for id in sends {
        assert!(t.wait(1, id).result.is_ok());
    }
}

#[test]
fn messages_sent_before_the_receive_is_posted_wait_in_order() {
    let mut t = Trio::established();
    for i in 0..5u8 {
        t.ep(2).isend(r(1), 9, vec![i; 3]).unwrap();
    }
    for _ in 0..100 {
        t.step();
    }
    for i in 0..5u8 {
        let id = t
            .ep(1)
            .irecv(Source::Any, TagFilter::Any, vec![0; 3])
            .unwrap();
        assert_eq!(t.recv_bytes(1, id).0, vec![i; 3]);
    }
}

#[test]
fn a_receive_posted_mid_arrival_gets_the_message() {
    // Small pipes and frames so the message arrives over many polls.
    let mut t = Trio::with_config(64, |c| c.frame_payload = 16);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let data: Vec<u8> = (0..=255).collect();
    t.ep(1).isend(r(0), 1, data.clone()).unwrap();
    for _ in 0..5 {
        t.step();
    }
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(1), vec![0; 256])
        .unwrap();
    assert_eq!(t.recv_bytes(0, id).0, data);
}

/// A 1 MiB message with a recognisable pattern.
fn large_message() -> Vec<u8> {
    (0..1u32 << 20).map(|i| (i % 251) as u8).collect()
}

/// Sends `data` from rank 1 to rank 0 with tag 4 before rank 0 posts a
/// receive, and steps for `wait` of simulated time; returns the bytes rank
/// 0 has read from the link meanwhile.
fn send_ahead_of_the_receive(t: &mut Trio, data: &[u8], wait: Duration) -> u64 {
    let before = t.ep(0).stats(r(1)).bytes_received;
    t.ep(1).isend(r(0), 4, data.to_vec()).unwrap();
    let start = t.now;
    t.run_until(|t| t.now >= start + wait);
    t.ep(0).stats(r(1)).bytes_received - before
}

/// Receives rank 1's tag-4 message at rank 0; returns it and how long
/// (simulated) that took from the receive's posting.
fn receive_large(t: &mut Trio) -> (Vec<u8>, Duration) {
    let posted = t.now;
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(4), vec![0; 1 << 20])
        .unwrap();
    let got = t.recv_bytes(0, id).0;
    (got, t.now - posted)
}

#[test]
fn a_large_message_waits_in_the_socket_for_its_receive() {
    let mut t = Trio::established();
    let data = large_message();
    let read = send_ahead_of_the_receive(&mut t, &data, Duration::from_millis(1));
    // Without the hold, rank 0 would read it all into its unexpected queue
    // at once; instead it stopped at the message's first frame.
    assert!(
        read < 1 << 18,
        "rank 0 read {read} bytes of a message nobody receives"
    );
    // Posting the receive ends the hold at once, not at its 2 ms limit.
    let (got, took) = receive_large(&mut t);
    assert_eq!(got, data);
    assert!(took < Duration::from_millis(1), "the receive took {took:?}");
}

#[test]
fn a_secure_link_opens_a_large_message_ahead_of_its_receive() {
    let mut t = Trio::with_config(1 << 16, secure);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let data = large_message();
    let read = send_ahead_of_the_receive(&mut t, &data, Duration::from_millis(1));
    assert!(
        read > 1 << 20,
        "rank 0 read only {read} bytes ahead of the receive"
    );
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(4), vec![0; 1 << 20])
        .unwrap();
    assert_eq!(t.recv_bytes(0, id).0, data);
}

#[test]
fn a_held_message_goes_to_the_unexpected_queue_when_its_receive_is_late() {
    let mut t = Trio::established();
    let data = large_message();
    let before = t.ep(0).stats(r(1)).bytes_received;
    t.ep(1).isend(r(0), 4, data.clone()).unwrap();
    let start = t.now;
    t.run_until(|t| t.ep(0).stats(r(1)).bytes_received - before > 1 << 20);
    let held = t.now - start;
    // 2 ms, plus the test clock's 1 ms steps.
    assert!(
        held >= Duration::from_millis(2) && held <= Duration::from_millis(3),
        "held for {held:?}"
    );
    assert_eq!(receive_large(&mut t).0, data);
}

#[test]
fn after_a_hold_runs_out_the_messages_behind_are_not_held() {
    let mut t = Trio::established();
    let data = large_message();
    let before = t.ep(0).stats(r(1)).bytes_received;
    for _ in 0..8 {
        t.ep(1).isend(r(0), 4, data.clone()).unwrap();
    }
    let start = t.now;
    t.run_until(|t| t.ep(0).stats(r(1)).bytes_received - before > 8 << 20);
    let took = t.now - start;
    // One hold of 2 ms, not one per message.
    assert!(took <= Duration::from_millis(4), "8 MiB took {took:?}");
    for _ in 0..8 {
        assert_eq!(receive_large(&mut t).0, data);
    }
}

#[test]
fn a_receive_for_another_message_from_the_sender_ends_the_hold_at_once() {
    let mut t = Trio::established();
    let data = large_message();
    let read = send_ahead_of_the_receive(&mut t, &data, Duration::from_millis(1));
    assert!(read < 1 << 18, "the large message is held");
    t.ep(1).isend(r(0), 5, vec![7; 3]).unwrap();
    let start = t.now;
    let small = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(5), vec![0; 3])
        .unwrap();
    assert_eq!(t.recv_bytes(0, small).0, vec![7; 3]);
    assert!(
        t.now - start < Duration::from_millis(1),
        "the message behind the large one waited {:?}",
        t.now - start
    );
    assert_eq!(receive_large(&mut t).0, data);
}

#[test]
fn a_reused_unexpected_buffer_delivers_only_the_new_message() {
    let mut t = Trio::established();
    // Below the hold's size, so both go through the unexpected queue; the
    // second lands in the buffer the first one left.
    for (len, fill) in [(60_000usize, 0xaau8), (20_000, 0x55)] {
        t.ep(1).isend(r(0), 8, vec![fill; len]).unwrap();
        let start = t.now;
        t.run_until(|t| t.now >= start + Duration::from_millis(5));
        let id = t
            .ep(0)
            .irecv(Source::Rank(r(1)), TagFilter::Tag(8), vec![0; 65_536])
            .unwrap();
        let (got, n) = t.recv_bytes(0, id);
        assert_eq!(n, len as u64);
        assert!(got[..len].iter().all(|&b| b == fill));
        assert!(
            got[len..].iter().all(|&b| b == 0),
            "nothing beyond the message"
        );
    }
}

#[test]
fn zero_length_and_large_messages() {
    let mut t = Trio::with_config(1 << 20, |_| {});
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let empty = t
        .ep(0)
        .irecv(Source::Rank(r(2)), TagFilter::Tag(0), Vec::new())
        .unwrap();
    t.ep(2).isend(r(0), 0, Vec::new()).unwrap();
    assert_eq!(t.recv_bytes(0, empty).1, 0);

    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(5), vec![0; big.len()])
        .unwrap();
    t.ep(1).isend(r(0), 5, big.clone()).unwrap();
    assert!(t.recv_bytes(0, id).0 == big);
    // And the same size through the unexpected queue.
    t.ep(1).isend(r(0), 6, big.clone()).unwrap();
    for _ in 0..2000 {
        t.step();
    }
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(6), vec![0; big.len()])
        .unwrap();
    assert!(t.recv_bytes(0, id).0 == big);
}

#[test]
fn tags_and_wildcards_match_like_mpi() {
    let mut t = Trio::established();
    let want5 = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(5), vec![0; 1])
        .unwrap();
    let any = t
        .ep(0)
        .irecv(Source::Any, TagFilter::Any, vec![0; 1])
        .unwrap();
    t.ep(2).isend(r(0), 4, vec![24]).unwrap();
    t.ep(1).isend(r(0), 5, vec![15]).unwrap();
    assert_eq!(t.recv_bytes(0, any).0, vec![24]);
    assert_eq!(t.recv_bytes(0, want5).0, vec![15]);
}

#[test]
fn a_short_buffer_reports_truncation() {
    let mut t = Trio::established();
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(0), vec![0; 4])
        .unwrap();
    t.ep(1).isend(r(0), 0, vec![1, 2, 3, 4, 5, 6]).unwrap();
    let done = t.wait(0, id);
    assert_eq!(
        done.result.unwrap_err(),
        Error::Truncated {
            message_len: 6,
            buffer_len: 4
        }
    );
    // The link stays healthy.
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(0), vec![0; 4])
        .unwrap();
    t.ep(1).isend(r(0), 0, vec![9]).unwrap();
    assert_eq!(t.recv_bytes(0, id).0[0], 9);
}

#[test]
fn sending_to_yourself_is_refused() {
    let mut t = Trio::established();
    assert_eq!(
        t.ep(1).isend(r(1), 0, vec![]).unwrap_err(),
        Error::SelfMessage
    );
    assert_eq!(
        t.ep(1)
            .irecv(Source::Rank(r(1)), TagFilter::Any, vec![])
            .unwrap_err(),
        Error::SelfMessage
    );
}

#[test]
fn orderly_close_flushes_then_closes_every_link() {
    let mut t = Trio::established();
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(2)), TagFilter::Tag(1), vec![0; 5])
        .unwrap();
    t.ep(2).isend(r(0), 1, vec![5; 5]).unwrap();
    for i in 0..3 {
        t.ep(i).close();
    }
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_closed()));
    assert_eq!(t.recv_bytes(0, id).0, vec![5; 5]);
    for i in 0..3u8 {
        for peer in r(i).others() {
            assert_eq!(t.ep(i).link_state(peer), Some(LinkState::Closed));
        }
        assert_eq!(
            t.ep(i).isend(r(i).succ(), 0, vec![]).unwrap_err(),
            Error::EndpointClosed
        );
    }
}

#[test]
fn a_peer_that_never_comes_is_named() {
    let mut t = Trio::with_config(1 << 16, |c| c.connect_timeout = Duration::from_millis(500));
    t.eps[2] = None;
    t.nets[2].listen(false);
    t.run_until(|t| t.ep(0).failure().is_some() && t.ep(1).failure().is_some());
    assert_eq!(
        t.ep(0).failure(),
        Some((r(2), LinkError::Transport(TransportError::NeverConnected)))
    );
    assert_eq!(
        t.ep(1).failure(),
        Some((r(2), LinkError::Transport(TransportError::NeverConnected)))
    );
    assert_eq!(t.ep(0).link_state(r(1)), Some(LinkState::Established));
}

/// A party that is gone for good: its dialling peers find nobody listening
/// when they try to resume, and fail at once, naming it.
#[test]
fn a_vanished_peer_fails_pending_operations_and_spares_the_other_link() {
    let mut t = Trio::established();
    let from0 = t
        .ep(2)
        .irecv(Source::Rank(r(0)), TagFilter::Tag(0), vec![0; 1])
        .unwrap();
    // Dropping the endpoint drops its sockets without a close frame.
    t.eps[0] = None;
    t.nets[0].listen(false);
    let done = t.wait(2, from0);
    let vanished = Error::Link {
        peer: r(0),
        reason: LinkError::Transport(TransportError::PeerVanished),
    };
    assert_eq!(done.result.unwrap_err(), vanished);
    let seen = events(t.ep(2));
    assert!(seen
        .iter()
        .any(|e| matches!(e, Event::LinkInterrupted { peer, .. } if *peer == r(0))));
    assert!(seen.contains(&Event::LinkFailed {
        peer: r(0),
        reason: LinkError::Transport(TransportError::PeerVanished)
    }));
    let id = t
        .ep(2)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(0), vec![0; 1])
        .unwrap();
    t.ep(1).isend(r(2), 0, vec![1]).unwrap();
    assert_eq!(t.recv_bytes(2, id).0, vec![1]);
}

#[test]
fn quiet_links_carry_heartbeats_and_stay_up() {
    let mut t = Trio::established();
    let before: Vec<u64> = (0..3)
        .map(|i| t.ep(i).stats(r((i + 1) % 3)).bytes_sent)
        .collect();
    let start = t.now;
    t.run_until(|t| t.now >= start + Duration::from_secs(60));
    for i in 0..3 {
        assert!(
            t.ep(i).is_established(),
            "rank {i}: {:?}",
            t.ep(i).failure()
        );
        let sent = t.ep(i).stats(r((i + 1) % 3)).bytes_sent;
        // About one heartbeat a second, and no more than that.
        let heartbeats = (sent - before[i as usize]) / FRAME_HEADER_LEN as u64;
        assert!(
            (50..=70).contains(&heartbeats),
            "rank {i}: {heartbeats} heartbeats"
        );
    }
    assert_job_still_works(&mut t);
}

/// Heartbeats acknowledge frames as their headers arrive, so one sent while
/// a long message is still arriving acknowledges part of it; the sender must
/// accept that (it checks acknowledgements against what it has sent).
#[test]
fn heartbeats_flow_while_a_long_message_trickles_through() {
    let mut t = Trio::with_config(4096, |cfg| cfg.frame_payload = 1024);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let message: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let id = t
        .ep(0)
        .irecv(
            Source::Rank(r(1)),
            TagFilter::Tag(4),
            vec![0; message.len()],
        )
        .unwrap();
    t.ep(1).isend(r(0), 4, message.clone()).unwrap();
    let sent_before = t.ep(0).stats(r(1)).bytes_sent;
    // 4 KiB a pass, 10 ms a pass: the message takes seconds to arrive.
    let start = t.now;
    while t.ep(0).is_complete(id) != Ok(true) {
        for (ep, net) in t.eps.iter_mut().zip(t.nets.iter_mut()) {
            if let Some(ep) = ep {
                ep.poll(net, t.now);
            }
        }
        t.now = t.now + Duration::from_millis(10);
        assert_eq!(t.ep(1).failure(), None);
    }
    assert!(t.now.saturating_since(start) > Duration::from_secs(2));
    assert!(t.recv_bytes(0, id).0 == message);
    // Rank 0 sends rank 1 nothing but heartbeats meanwhile.
    let heartbeat_bytes = t.ep(0).stats(r(1)).bytes_sent - sent_before;
    assert!(
        heartbeat_bytes >= 2 * FRAME_HEADER_LEN as u64,
        "{heartbeat_bytes}"
    );
}

#[test]
fn a_silent_peer_is_named_within_the_peer_timeout() {
    let mut t = Trio::established();
    let waiting = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Any, vec![0; 8])
        .unwrap();
    // Rank 1 freezes: its connections stay open, but it sends nothing more.
    let frozen = t.eps[1].take();
    let start = t.now;
    t.run_until(|t| t.ep(0).failure().is_some() && t.ep(2).failure().is_some());
    let silent = LinkError::Transport(TransportError::PeerSilent { timeout_ms: 5000 });
    assert_eq!(t.ep(0).failure(), Some((r(1), silent)));
    assert_eq!(t.ep(2).failure(), Some((r(1), silent)));
    let waited = t.now.saturating_since(start);
    assert!(
        waited >= Duration::from_secs(4) && waited <= Duration::from_secs(5),
        "{waited:?}"
    );
    let failed = Error::Link {
        peer: r(1),
        reason: silent,
    };
    // The pending receive and any later operation on rank 1 fail, naming it.
    assert_eq!(t.wait(0, waiting).result.unwrap_err(), failed);
    assert_eq!(t.ep(2).isend(r(1), 0, vec![1]).unwrap_err(), failed);
    // Ranks 0 and 2 keep their own link, heartbeats and all.
    let start = t.now;
    t.run_until(|t| t.now >= start + Duration::from_secs(20));
    assert_eq!(t.ep(0).link_state(r(2)), Some(LinkState::Established));
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(2)), TagFilter::Tag(3), vec![0; 1])
        .unwrap();
    t.ep(2).isend(r(0), 3, vec![9]).unwrap();
    assert_eq!(t.recv_bytes(0, id).0, vec![9]);
    drop(frozen);
}

#[test]
fn a_party_held_up_hears_what_arrived_before_calling_a_peer_silent() {
    // Rank 0 gives up on a peer after 2 s of silence; the others keep the
    // default, so they wait out rank 0's own hold-up.
    let mut t = Trio::with_config(1 << 16, |cfg| {
        if cfg.rank == r(0) {
            cfg.peer_timeout = Some(Duration::from_secs(2));
        }
    });
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    // Rank 0 is held up for longer than its peer timeout (descheduled, or
    // in a long computation) while its peers go on sending heartbeats.
    let held = t.eps[0].take();
    let start = t.now;
    t.run_until(|t| t.now >= start + Duration::from_millis(2_900));
    t.eps[0] = held;
    let (now, ep, net) = (t.now, t.eps[0].as_mut().unwrap(), &mut t.nets[0]);
    ep.poll(net, now);
    // Its first poll reads those heartbeats before it judges the silence.
    assert_eq!(t.ep(0).failure(), None);
    assert_eq!(t.ep(0).link_state(r(1)), Some(LinkState::Established));
    assert_eq!(t.ep(0).link_state(r(2)), Some(LinkState::Established));
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(5), vec![0; 1])
        .unwrap();
    t.ep(1).isend(r(0), 5, vec![4]).unwrap();
    assert_eq!(t.recv_bytes(0, id).0, vec![4]);
}

#[test]
fn without_a_peer_timeout_silence_is_waited_out() {
    let mut t = Trio::with_config(1 << 16, |cfg| cfg.peer_timeout = None);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let frozen = t.eps[1].take();
    let start = t.now;
    t.run_until(|t| t.now >= start + Duration::from_secs(120));
    assert_eq!(t.ep(0).failure(), None);
    assert_eq!(t.ep(2).failure(), None);
    drop(frozen);
}

#[test]
fn the_unexpected_queue_is_bounded() {
    let mut t = Trio::with_config(1 << 16, |c| c.max_unexpected_messages = 4);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    for _ in 0..5 {
        t.ep(1).isend(r(0), 0, vec![0]).unwrap();
    }
    t.run_until(|t| t.ep(0).failure().is_some());
    assert_eq!(
        t.ep(0).failure(),
        Some((r(1), LinkError::UnexpectedQueueFull))
    );
}

// ---- Bad input from strangers and misbehaving peers ----

fn hello(sender: u8, receiver: u8, session: [u8; 16]) -> [u8; HELLO_LEN] {
    let mut b = [0; HELLO_LEN];
    HelloRepr {
        capabilities: Capabilities::RESUME,
        session,
        sender: r(sender),
        receiver: r(receiver),
        resume_seq: 0,
    }
    .emit(&mut b)
    .unwrap();
    b
}

fn frame(repr: FrameRepr) -> [u8; FRAME_HEADER_LEN] {
    let mut b = [0; FRAME_HEADER_LEN];
    repr.emit(&mut b).unwrap();
    b
}

/// Steps the trio until rank 0 refuses a connection, and returns why.
fn next_rejection(t: &mut Trio) -> LinkError {
    let mut verdict = None;
    t.run_until(|t| {
        verdict = events(t.ep(0)).into_iter().find_map(|e| match e {
            Event::Rejected { reason, .. } => Some(reason),
            _ => None,
        });
        verdict.is_some()
    });
    verdict.unwrap()
}

/// Connects a stranger to rank 0, sends `bytes`, and returns rank 0's verdict.
fn stranger_sends(t: &mut Trio, from: u8, bytes: &[u8]) -> LinkError {
    let mut sock = t.nets[from as usize].dial_raw(r(0)).unwrap();
    sock.inject(bytes);
    let verdict = next_rejection(t);
    // The rejected socket was closed by rank 0.
    assert_eq!(sock.read_vectored(&mut [&mut [0u8; 64]]), Ok(0));
    verdict
}

fn assert_job_still_works(t: &mut Trio) {
    for peer in [1u8, 2] {
        let id = t
            .ep(0)
            .irecv(Source::Rank(r(peer)), TagFilter::Tag(1), vec![0; 2])
            .unwrap();
        t.ep(peer).isend(r(0), 1, vec![peer, 42]).unwrap();
        assert_eq!(t.recv_bytes(0, id).0, vec![peer, 42]);
    }
}

#[test]
fn strangers_are_refused_with_a_reason_and_the_job_continues() {
    // Without resume, a second connection claiming a live rank is refused;
    // with it, see `a_stranger_claiming_a_live_rank_only_costs_a_reconnect`.
    let mut t = Trio::with_config(1 << 16, |cfg| cfg.resume_buffer = 0);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let garbage: Vec<u8> = (0..HELLO_LEN as u8).map(|i| i.wrapping_mul(37)).collect();
    assert!(matches!(
        stranger_sends(&mut t, 1, &garbage),
        LinkError::Malformed(_)
    ));
    let plain_hello = |sender, receiver, session| {
        let mut h = hello(sender, receiver, session);
        h[7] = 0; // no RESUME capability
        h
    };

    let mut wrong_version = hello(1, 0, SESSION);
    wrong_version[5] = 9;
    assert!(matches!(
        stranger_sends(&mut t, 1, &wrong_version),
        LinkError::Malformed(_)
    ));

    assert_eq!(
        stranger_sends(&mut t, 1, &hello(1, 0, [0; 16])),
        LinkError::Incompatible(Incompatibility::WrongSession)
    );
    assert_eq!(
        stranger_sends(&mut t, 1, &plain_hello(1, 0, SESSION)),
        LinkError::Refused(Refusal::DuplicateRank)
    );
    assert_eq!(
        stranger_sends(&mut t, 2, &hello(2, 1, SESSION)),
        LinkError::Incompatible(Incompatibility::NotAddressedToUs { addressed_to: r(1) })
    );
    // A connection that says nothing is dropped at the handshake deadline.
    assert_eq!(
        stranger_sends(&mut t, 1, &[]),
        LinkError::Refused(Refusal::HelloTimeout)
    );
    // One that hangs up half-way through its hello.
    let _ = t.nets[1].dial_raw(r(0)).map(|mut s| {
        s.inject(&hello(2, 0, SESSION)[..10]);
    });
    assert_eq!(
        next_rejection(&mut t),
        LinkError::Transport(TransportError::PeerVanished)
    );
    assert_job_still_works(&mut t);
}

/// Plays rank 2 by hand: handshakes with ranks 0 and 1 correctly, then
/// `misbehave` writes whatever it likes to rank 0.
fn impostor_rank2(misbehave: &[u8]) -> (Trio, MemSocket) {
    let mut t = Trio::new();
    t.eps[2] = None;
    t.nets[2].listen(false);
    let mut to0 = t.nets[2].clone().connect(r(0)).unwrap();
    let mut to1 = t.nets[2].clone().connect(r(1)).unwrap();
    to0.inject(&hello(2, 0, SESSION));
    to1.inject(&hello(2, 1, SESSION));
    t.run_until(|t| {
        t.ep(0).is_established() && t.ep(1).link_state(r(0)) == Some(LinkState::Established)
    });
    to0.inject(misbehave);
    (t, to0)
}

fn pending_receive_fails_with(misbehave: &[u8]) -> LinkError {
    let (mut t, mut sock) = impostor_rank2(&[]);
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(2)), TagFilter::Any, vec![0; 64])
        .unwrap();
    sock.inject(misbehave);
    let done = t.wait(0, id);
    let Err(Error::Link { peer, reason }) = done.result else {
        panic!("expected a link error")
    };
    assert_eq!(peer, r(2));
    assert_eq!(t.ep(0).failure(), Some((r(2), reason)));
    // Ranks 0 and 1 still talk.
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(1), vec![0; 1])
        .unwrap();
    t.ep(1).isend(r(0), 1, vec![7]).unwrap();
    assert_eq!(t.recv_bytes(0, id).0, vec![7]);
    reason
}

#[test]
fn misbehaving_peers_fail_their_link_only() {
    let data = |seq, len, aux| {
        frame(FrameRepr {
            kind: FrameKind::Data,
            len,
            seq,
            tag: 0,
            aux,
        })
    };
    assert!(matches!(
        pending_receive_fails_with(&data(0, 1 << 30, 1 << 30)),
        LinkError::Malformed(ternion_core::wire::WireError::Oversized { .. })
    ));
    assert_eq!(
        pending_receive_fails_with(&data(5, 0, 0)),
        LinkError::Misbehaviour(Misbehaviour::SequenceGap {
            expected: 0,
            got: 5
        })
    );
    // A heartbeat acknowledging frames rank 0 never sent.
    let heartbeat = frame(FrameRepr {
        kind: FrameKind::Heartbeat,
        len: 0,
        seq: 0,
        tag: 0,
        aux: 5,
    });
    assert_eq!(
        pending_receive_fails_with(&heartbeat),
        LinkError::Misbehaviour(Misbehaviour::AckOutOfRange { acked: 5 })
    );
    let mut garbage = data(0, 0, 0);
    garbage[0] = 0xee;
    assert!(matches!(
        pending_receive_fails_with(&garbage),
        LinkError::Malformed(_)
    ));
}

/// A frame cut short by a broken connection is taken back: the peer
/// reconnects, sends it again whole, and the message arrives intact.
#[test]
fn a_frame_cut_short_is_received_whole_after_a_reconnect() {
    let payload: Vec<u8> = (0..100).collect();
    let header = frame(FrameRepr {
        kind: FrameKind::Data,
        len: 100,
        seq: 0,
        tag: 0,
        aux: 100,
    });
    let mut cut = header.to_vec();
    cut.extend_from_slice(&[0xee; 40]);
    let (mut t, mut sock) = impostor_rank2(&cut);
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(2)), TagFilter::Any, vec![0; 100])
        .unwrap();
    // The hello is read before the link exists; the cut frame's 72 bytes arrive on it.
    t.run_until(|t| t.ep(0).stats(r(2)).bytes_received == 72);
    sock.close();
    t.run_until(|t| t.ep(0).link_state(r(2)) == Some(LinkState::Reconnecting));
    let mut again = t.nets[2].clone().connect(r(0)).unwrap();
    again.inject(&hello(2, 0, SESSION));
    again.inject(&header);
    again.inject(&payload);
    assert_eq!(t.recv_bytes(0, id).0, payload);
    assert_eq!(t.ep(0).stats(r(2)).resumes, 1);
    // Rank 0's hello asked for frame 0 again: the cut one did not count.
    let mut reply = [0u8; HELLO_LEN];
    assert_eq!(again.read_vectored(&mut [&mut reply]), Ok(HELLO_LEN));
    let view = ternion_core::wire::Hello::new_checked(&reply[..]).unwrap();
    assert_eq!(HelloRepr::parse(&view).unwrap().resume_seq, 0);
}

#[test]
fn a_lying_hello_on_a_dialled_link_is_refused() {
    // Rank 1 dials "rank 0", but whoever answers claims to be rank 2.
    let mut t = Trio::new();
    t.eps[0] = None;
    t.run_until(|t| {
        let mut net = t.nets[0].clone();
        net.accept()
            .unwrap()
            .map(|mut s| s.inject(&hello(2, 1, SESSION)))
            .is_some()
    });
    t.run_until(|t| t.ep(1).failure().is_some());
    assert_eq!(
        t.ep(1).failure(),
        Some((
            r(0),
            LinkError::Incompatible(Incompatibility::WrongRank { claimed: r(2) })
        ))
    );
}

#[test]
fn a_short_receive_that_claims_a_message_mid_arrival_is_truncated_cleanly() {
    let mut t = Trio::with_config(64, |c| c.frame_payload = 16);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let data: Vec<u8> = (0..=255).collect();
    t.ep(1).isend(r(0), 1, data.clone()).unwrap();
    t.ep(1).isend(r(0), 1, vec![9; 3]).unwrap();
    for _ in 0..5 {
        t.step();
    }
    let short = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(1), vec![0; 100])
        .unwrap();
    let done = t.wait(0, short);
    assert_eq!(
        done.result.unwrap_err(),
        Error::Truncated {
            message_len: 256,
            buffer_len: 100
        }
    );
    let Buffer::Recv(prefix) = done.buffer else {
        panic!("not a receive")
    };
    assert_eq!(prefix, data[..100]);
    // The next message on the link is intact.
    let next = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(1), vec![0; 3])
        .unwrap();
    assert_eq!(t.recv_bytes(0, next).0, vec![9; 3]);
}

/// A small deterministic generator for the random-input test (not cryptography).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_bytes_from_strangers_and_peers_never_panic_or_spread() {
    for seed in 0..300u64 {
        let mut rng = SplitMix(seed);
        let len = (rng.next() % 3000) as usize;
        // Half the time the bytes follow a valid hello, so they hit the frame decoder.
        let mut bytes = if seed % 2 == 0 {
            hello(2, 0, SESSION).to_vec()
        } else {
            Vec::new()
        };
        if seed % 4 == 0 {
            // A valid frame header with random fields after it.
            bytes.extend_from_slice(&frame(FrameRepr {
                kind: FrameKind::Data,
                len: 8,
                seq: 0,
                tag: 1,
                aux: 8,
            }));
        }
        bytes.extend(rng.bytes(len));
        let (mut t, mut sock) = impostor_rank2(&[]);
        let id = t
            .ep(0)
            .irecv(Source::Rank(r(2)), TagFilter::Any, vec![0; 64])
            .unwrap();
        sock.inject(&bytes);
        sock.close();
        // The receive from the bad peer ends (data or error), and 0 and 1 still talk.
        let _ = t.wait(0, id);
        let ok = t
            .ep(0)
            .irecv(Source::Rank(r(1)), TagFilter::Tag(3), vec![0; 1])
            .unwrap();
        t.ep(1).isend(r(0), 3, vec![seed as u8]).unwrap();
        assert_eq!(t.recv_bytes(0, ok).0, vec![seed as u8], "seed {seed}");
    }
}

#[test]
fn an_abort_reaches_both_peers_with_its_code() {
    let mut t = Trio::established();
    let message = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Any, vec![0; 1 << 20])
        .unwrap();
    let waiting0 = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Any, vec![0; 8])
        .unwrap();
    let waiting2 = t
        .ep(2)
        .irecv(Source::Rank(r(0)), TagFilter::Any, vec![0; 8])
        .unwrap();
    t.ep(1).isend(r(0), 0, vec![1; 1 << 20]).unwrap();
    t.ep(1).isend(r(0), 0, vec![2; 8]).unwrap();
    t.step();
    t.ep(1).abort(-7);
    t.run_until(|t| t.ep(1).abort_sent());
    let aborted = LinkError::PeerAborted { code: -7 };
    t.run_until(|t| t.ep(0).failure().is_some() && t.ep(2).failure().is_some());
    assert_eq!(t.ep(0).failure(), Some((r(1), aborted)));
    assert_eq!(t.ep(2).failure(), Some((r(1), aborted)));
    // The message already on the wire arrives whole; the abort overtakes the
    // one still queued, and the receive waiting for it fails with the code.
    assert_eq!(t.recv_bytes(0, message).1, 1 << 20);
    assert_eq!(
        t.wait(0, waiting0).result.unwrap_err(),
        Error::Link {
            peer: r(1),
            reason: aborted
        }
    );
    // Rank 2's receive from rank 0 is untouched by rank 1's abort.
    assert_eq!(t.ep(2).is_complete(waiting2), Ok(false));
    assert_eq!(
        t.ep(1).isend(r(0), 0, vec![]).unwrap_err(),
        Error::EndpointClosed
    );
}

// ---- The secure channel ----

fn secure_trio(capacity: usize) -> Trio {
    let mut t = Trio::with_config(capacity, secure);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    t
}

#[test]
fn secure_links_carry_every_kind_of_traffic() {
    let mut t = secure_trio(1 << 20);
    // Every pair, both ways.
    for from in 0..3u8 {
        for to in (0..3u8).filter(|&to| to != from) {
            let id = t
                .ep(to)
                .irecv(Source::Rank(r(from)), TagFilter::Tag(1), vec![0; 64])
                .unwrap();
            t.ep(from)
                .isend(r(to), 1, vec![from * 16 + to; 64])
                .unwrap();
            assert_eq!(t.recv_bytes(to, id).0, vec![from * 16 + to; 64]);
        }
    }
    // Thousands of outstanding requests, in order.
    let recvs: Vec<RequestId> = (0..2000u32)
        .map(|_| {
            t.ep(0)
                .irecv(Source::Rank(r(2)), TagFilter::Tag(3), vec![0; 4])
                .unwrap()
        })
        .collect();
    for i in 0..2000u32 {
        t.ep(2).isend(r(0), 3, i.to_le_bytes().to_vec()).unwrap();
    }
    for (i, id) in recvs.into_iter().enumerate() {
        assert_eq!(t.recv_bytes(0, id).0, (i as u32).to_le_bytes());
    }
    // A message of many records, posted late (through the unexpected queue) and early.
    let big: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    t.ep(1).isend(r(0), 5, big.clone()).unwrap();
    for _ in 0..300 {
        t.step();
    }
    let late = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(5), vec![0; big.len()])
        .unwrap();
    assert!(t.recv_bytes(0, late).0 == big);
    let early = t
        .ep(1)
        .irecv(Source::Rank(r(0)), TagFilter::Tag(6), vec![0; big.len()])
        .unwrap();
    t.ep(0).isend(r(1), 6, big.clone()).unwrap();
    assert!(t.recv_bytes(1, early).0 == big);
    // An orderly close still works through the channel.
    for i in 0..3 {
        t.ep(i).close();
    }
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_closed()));
    assert_eq!(t.ep(0).link_state(r(1)), Some(LinkState::Closed));
}

/// A party that aborts ends its process as soon as `abort_sent` says so;
/// on a secure link the abort must by then be in the socket in full, not
/// sealed into a record the socket has taken only part of. Pipe sizes vary
/// so that the abort's record meets a nearly full pipe in some runs.
#[test]
fn a_secure_abort_is_in_the_socket_before_abort_sent_says_so() {
    for capacity in 200..340 {
        let mut t = secure_trio(capacity);
        t.ep(1).isend(r(0), 0, vec![5; 4000]).unwrap();
        t.ep(1).isend(r(2), 0, vec![6; 3000]).unwrap();
        t.step();
        t.ep(1).abort(9);
        t.run_until(|t| t.ep(1).abort_sent());
        // The aborting process is gone: its sockets close with it.
        t.eps[1] = None;
        t.run_until(|t| t.ep(0).failure().is_some() && t.ep(2).failure().is_some());
        let aborted = LinkError::PeerAborted { code: 9 };
        assert_eq!(
            t.ep(0).failure(),
            Some((r(1), aborted)),
            "capacity {capacity}"
        );
        assert_eq!(
            t.ep(2).failure(),
            Some((r(1), aborted)),
            "capacity {capacity}"
        );
    }
}

#[test]
fn no_application_byte_crosses_the_wire_in_the_clear() {
    let canary = b"CANARY-share-0123456789".repeat(50);
    for encrypted in [false, true] {
        let mut t = if encrypted {
            secure_trio(1 << 20)
        } else {
            Trio::established()
        };
        let id = t
            .ep(0)
            .irecv(Source::Rank(r(1)), TagFilter::Tag(9), vec![0; canary.len()])
            .unwrap();
        t.ep(1).isend(r(0), 9, canary.clone()).unwrap();
        assert_eq!(t.recv_bytes(0, id).0, canary);
        let wire = t.nets[0].wire_bytes();
        let seen = wire.windows(16).any(|w| w == &canary[..16]);
        // The tap really sees the traffic: plaintext links show the canary.
        assert_eq!(
            seen, !encrypted,
            "canary on the wire: {seen}, encrypted: {encrypted}"
        );
        assert!(wire.len() > canary.len());
    }
}

#[test]
fn a_party_holding_another_key_is_refused_on_both_sides() {
    let mut t = Trio::with_config(1 << 16, |cfg| {
        secure(cfg);
        if cfg.rank == r(2) {
            // Rank 2 runs with a key nobody configured for it.
            if let Some(s) = cfg.secure.as_mut() {
                s.private_key = [99; 32];
            }
        }
        cfg.connect_timeout = Duration::from_millis(800);
    });
    t.run_until(|t| t.ep(2).failure().is_some() && t.ep(0).failure().is_some());
    // The dialler (rank 2) names the handshake failure for the link it dialled.
    assert!(t
        .ep(2)
        .failure()
        .is_some_and(|(_, reason)| reason == HandshakeFailure::ClosedByPeer.into()));
    // The acceptors refused rank 2's connections and never let the link up.
    assert_eq!(
        t.ep(0).failure(),
        Some((r(2), LinkError::Transport(TransportError::NeverConnected)))
    );
    let refused = events(t.ep(0));
    assert!(
        refused.iter().any(|e| matches!(
            e,
            Event::Rejected {
                reason: LinkError::Security(SecurityError::Handshake(_)),
                ..
            }
        )),
        "{refused:?}"
    );
    // Ranks 0 and 1 still form a secure link.
    assert_eq!(t.ep(0).link_state(r(1)), Some(LinkState::Established));
}

#[test]
fn a_secure_party_refuses_a_plaintext_peer() {
    let mut t = Trio::with_config(1 << 16, |cfg| {
        if cfg.rank != r(2) {
            secure(cfg);
        }
        cfg.connect_timeout = Duration::from_millis(800);
    });
    t.run_until(|t| t.ep(2).failure().is_some());
    assert!(t.ep(2).failure().is_some_and(
        |(_, reason)| reason == LinkError::Incompatible(Incompatibility::CapabilityMismatch)
    ));
    let refused = events(t.ep(0));
    assert!(
        refused.iter().any(|e| matches!(
            e,
            Event::Rejected {
                reason: LinkError::Incompatible(Incompatibility::CapabilityMismatch),
                ..
            }
        )),
        "{refused:?}"
    );
}

#[test]
fn sealed_bytes_waiting_for_the_socket_keep_write_interest() {
    // Small pipes: most of a large message's records wait in the link.
    let mut t = Trio::with_config(4096, secure);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    t.ep(1).isend(r(0), 1, vec![5; 200_000]).unwrap();
    // Only rank 1 runs: nobody drains the pipe to rank 0.
    let mut net = t.nets[1].clone();
    for _ in 0..10 {
        let now = t.now;
        t.ep(1).poll(&mut net, now);
    }
    let mut wants_write = false;
    t.ep(1)
        .for_each_socket(|_, interest| wants_write |= interest.write);
    assert!(
        wants_write,
        "a link with sealed bytes pending must ask to be woken for writing"
    );
    // And once rank 0 reads, the message arrives whole.
    let id = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(1), vec![0; 200_000])
        .unwrap();
    assert_eq!(t.recv_bytes(0, id).0, vec![5; 200_000]);
}
