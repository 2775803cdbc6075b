//! Link resume: connections broken under live parties are replaced and the
//! links carry on, nothing lost, duplicated or reordered; the replay buffer
//! bounds what a sender has in flight; a party that restarted cannot pose
//! as the one the link was made with.

mod common;

use common::{events, r, secure, Trio};
use ternion_core::{
    Duration, EndpointConfig, Event, LinkError, RequestId, Source, TagFilter, TransportError,
};

/// The bytes of message `index` from `from` to `to`: sizes vary from empty
/// to several frames, and every byte depends on all three.
fn message(from: u8, to: u8, index: u32) -> Vec<u8> {
    let len = (index as usize * 7919 + from as usize * 131 + to as usize) % 20_000;
    let seed = index.wrapping_mul(2_654_435_761) ^ (u32::from(from) << 8) ^ u32::from(to);
    (0..len as u32)
        .map(|i| (seed.wrapping_add(i.wrapping_mul(31)) >> 3) as u8)
        .collect()
}

/// Small pipes, frames and replay buffers, so that cuts land inside
/// frames, inside messages and while the replay buffer is full.
fn tight(cfg: &mut EndpointConfig) {
    cfg.frame_payload = 4096;
    cfg.resume_buffer = 64 * 1024;
    cfg.peer_timeout = Some(Duration::from_secs(30));
}

/// Every party sends `count` messages to each other party while the test
/// cuts the connections under links 0–1 and 1–2 every `every` steps; then
/// every party closes. Checks each message and that each link resumed.
fn exchange_through_cuts(t: &mut Trio, count: u32, every: u32) {
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let mut receives: Vec<(u8, u8, u32, RequestId)> = Vec::new();
    for to in 0..3u8 {
        for from in (0..3u8).filter(|&f| f != to) {
            for index in 0..count {
                let buf = vec![0; message(from, to, index).len()];
                let id = t
                    .ep(to)
                    .irecv(Source::Rank(r(from)), TagFilter::Tag(5), buf)
                    .unwrap();
                receives.push((from, to, index, id));
            }
        }
    }
    for from in 0..3u8 {
        for index in 0..count {
            for to in (0..3u8).filter(|&to| to != from) {
                t.ep(from)
                    .isend(r(to), 5, message(from, to, index))
                    .unwrap();
            }
        }
    }
    let mut steps = 0u32;
    let mut cuts = 0;
    t.run_until(|t| {
        steps += 1;
        if steps.is_multiple_of(every) && cuts < 24 {
            let (a, b) = if cuts % 2 == 0 { (0, 1) } else { (2, 1) };
            t.nets[a].cut(r(b));
            cuts += 1;
        }
        for i in 0..3 {
            assert_eq!(t.ep(i).failure(), None, "rank {i}");
        }
        receives
            .iter()
            .all(|&(_, to, _, id)| t.ep(to).is_complete(id) == Ok(true))
    });
    for &(from, to, index, id) in &receives {
        let (bytes, len) = t.recv_bytes(to, id);
        assert_eq!(len as usize, bytes.len());
        assert!(
            bytes == message(from, to, index),
            "message {index} from {from} to {to}"
        );
    }
    assert!(
        cuts >= 4,
        "the exchange ended before the cuts: {cuts} in {steps} steps"
    );
    for (a, b) in [(0, 1), (2, 1)] {
        assert!(
            t.ep(a).stats(r(b)).resumes > 0,
            "link {a}-{b} never resumed"
        );
        assert_eq!(t.ep(a).stats(r(b)).resumes, t.ep(b).stats(r(a)).resumes);
    }
    for i in 0..3 {
        t.ep(i).close();
    }
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_closed()));
    for i in 0..3 {
        assert_eq!(t.ep(i).failure(), None, "rank {i} after close");
    }
}

#[test]
fn plaintext_links_resume_after_cuts_with_nothing_lost_duplicated_or_reordered() {
    // Different cadences land the cuts at different points of the stream.
    for every in [3, 5, 7, 11] {
        let mut t = Trio::with_config(16 * 1024, tight);
        exchange_through_cuts(&mut t, 200, every);
    }
}

#[test]
fn secure_links_resume_after_cuts_with_fresh_keys_and_nothing_lost() {
    let mut t = Trio::with_config(16 * 1024, |cfg| {
        tight(cfg);
        secure(cfg);
    });
    exchange_through_cuts(&mut t, 200, 5);
    let seen = events(t.ep(1));
    assert!(seen.iter().any(|e| matches!(e, Event::LinkResumed(_))));
}

/// Two parties sending each other messages much longer than the replay
/// buffer, with no receive posted: each can only go on as the other
/// acknowledges, so acknowledgements must pass inside messages. Nothing
/// waits for a heartbeat interval.
#[test]
fn long_messages_both_ways_never_wait_for_each_others_acknowledgements() {
    let mut t = Trio::with_config(64 * 1024, tight);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let long = |b: u8| vec![b; 1 << 20];
    let start = t.now;
    let a = t.ep(0).isend(r(1), 1, long(1)).unwrap();
    let b = t.ep(1).isend(r(0), 1, long(2)).unwrap();
    t.run_until(|t| t.ep(0).is_complete(a) == Ok(true) && t.ep(1).is_complete(b) == Ok(true));
    assert!(
        t.now.saturating_since(start) < Duration::from_millis(100),
        "{:?}",
        t.now.saturating_since(start)
    );
    let at0 = t
        .ep(0)
        .irecv(Source::Rank(r(1)), TagFilter::Tag(1), vec![0; 1 << 20])
        .unwrap();
    assert_eq!(t.recv_bytes(0, at0).0, long(2));
}

/// A peer that stops reading (here: stops running while its socket keeps
/// accepting bytes) lets a sender put no more than its replay buffer on the
/// wire; the rest of its sends wait, and complete once the peer is back.
#[test]
fn a_sender_whose_peer_stops_reading_holds_no_more_than_its_replay_buffer() {
    let mut t = Trio::with_config(8 << 20, tight);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    let before = t.ep(1).stats(r(0)).bytes_sent;
    let stopped = t.eps[0].take();
    let sends: Vec<RequestId> = (0..32u8)
        .map(|i| t.ep(1).isend(r(0), 2, vec![i; 64 * 1024]).unwrap())
        .collect();
    let until = t.now + Duration::from_secs(2);
    t.run_until(|t| t.now >= until);
    let in_flight = t.ep(1).stats(r(0)).bytes_sent - before;
    assert!(
        in_flight <= 64 * 1024 + 2 * 4096,
        "{in_flight} bytes went out"
    );
    let done = sends
        .iter()
        .filter(|&&id| t.ep(1).is_complete(id) == Ok(true))
        .count();
    assert!(done < 2, "{done} sends completed");
    t.eps[0] = stopped;
    for i in 0..32u8 {
        let id = t
            .ep(0)
            .irecv(Source::Rank(r(1)), TagFilter::Tag(2), vec![0; 64 * 1024])
            .unwrap();
        assert_eq!(t.recv_bytes(0, id).0, vec![i; 64 * 1024]);
    }
    assert_eq!(t.ep(1).failure(), None);
}

/// A party that restarted holds none of the link's state. The survivor
/// refuses its connection (a resume point below what was acknowledged could
/// also be a stale, abandoned attempt, so the link itself waits on), and
/// answers with its hello, from which the new process learns that it cannot
/// resume a link it never had.
#[test]
fn a_restarted_party_cannot_resume_and_both_sides_say_why() {
    let mut t = Trio::with_config(1 << 16, tight);
    t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
    // Enough traffic both ways for each side to have been acknowledged.
    for (from, to) in [(0, 1), (1, 0)].into_iter().cycle().take(16) {
        let id = t
            .ep(to)
            .irecv(Source::Rank(r(from)), TagFilter::Tag(3), vec![0; 30_000])
            .unwrap();
        t.ep(from).isend(r(to), 3, vec![9; 30_000]).unwrap();
        t.recv_bytes(to, id);
    }
    let mut fresh = EndpointConfig::new(r(1), common::SESSION);
    tight(&mut fresh);
    t.eps[1] = Some(ternion_core::Endpoint::new(fresh, t.now));
    t.run_until(|t| t.ep(1).failure().is_some());
    let Some((peer, LinkError::CannotResume { asked, kept_to, .. })) = t.ep(1).failure() else {
        panic!("rank 1: {:?}", t.ep(1).failure())
    };
    assert_eq!((peer, kept_to), (r(0), 0));
    assert!(asked > 0);
    let refused = events(t.ep(0)).into_iter().find_map(|e| match e {
        Event::Rejected { reason, .. } => Some(reason),
        _ => None,
    });
    let Some(LinkError::CannotResume {
        asked, kept_from, ..
    }) = refused
    else {
        panic!("rank 0 refused: {refused:?}")
    };
    assert_eq!(asked, 0);
    assert!(kept_from > 0);
    // Nobody resumes the link: the peer timeout names rank 1.
    t.run_until(|t| t.ep(0).failure().is_some());
    assert!(matches!(
        t.ep(0).failure(),
        Some((p, LinkError::Transport(TransportError::PeerSilent { .. }))) if p == r(1)
    ));
}
