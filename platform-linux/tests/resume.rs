//! Link resume on real sockets: when the connection between two live
//! parties breaks, the link is made again and every message still arrives
//! exactly once, intact and in order.
//!
//! Rank 1 dials rank 0 through a [`CuttingProxy`]: rank 1's configuration
//! lists the proxy as rank 0's address, while rank 0 listens on its own.
//! The session is set explicitly (`common::config`), so the differing
//! address lists cannot make the parties disagree on it. The parties run
//! rounds of checked traffic (1 to 3 messages of 1 B to 4 MiB from every
//! party to each peer per round, every byte checked on arrival) while the
//! test cuts the proxied connection at random moments.

mod common;

use common::checked_traffic::{run_round, Buffers, Tally, Traffic, TrafficError, XorShift};
use common::cutting_proxy::CuttingProxy;
use common::{close_all, config, connect_all, free_peers, plaintext_config};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use ternion::{Config, Party, Rank};

/// Longest a job's traffic may take before the test calls it a hang.
const JOB_LIMIT: Duration = Duration::from_secs(300);
/// Longest a link may take to come back after a cut.
const RESUME_LIMIT: Duration = Duration::from_secs(30);
/// Rounds of the jobs whose link is cut: enough for several cuts to land
/// on busy links, at different points of a round.
const ROUNDS_WITH_CUTS: u64 = 2000;
/// Times those jobs' link is cut.
const CUTS: u64 = 5;
/// The longest message: 4 MiB, so some cuts land mid-frame of large messages.
const MAX_LEN_LOG2: u32 = 22;

fn rank(i: u8) -> Rank {
    Rank::new(i).unwrap()
}

/// A seed that differs from run to run, printed (cargo shows it for a
/// failing test) so that a failure's traffic can be reproduced by fixing it.
fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let seed = nanos as u64 ^ u64::from(std::process::id());
    println!("seed {seed}");
    seed
}

/// Three connected parties, rank 1 dialling rank 0 through the proxy.
struct Job {
    parties: [Arc<Party>; 3],
    proxy: CuttingProxy,
}

/// What the traffic threads and the test share while a job runs.
#[derive(Default)]
struct Progress {
    /// Rounds each party has completed.
    rounds: [AtomicU64; 3],
    /// A party's traffic failed: stop waiting for anything else.
    failed: AtomicBool,
    /// Every planned cut is done: rank 1 may finish its traffic.
    cutting_done: AtomicBool,
}

impl Job {
    /// Starts the proxy and connects the three parties, each configured by `make`.
    fn start(make: fn(u8, &[String; 3]) -> Config) -> Job {
        let peers = free_peers();
        let proxy = CuttingProxy::start(peers[0].parse().unwrap()).unwrap();
        let configs = [0, 1, 2].map(|r| {
            let mut cfg = make(r, &peers);
            if r == 1 {
                cfg.peers[0] = proxy.addr().to_string();
            }
            cfg
        });
        Job {
            parties: connect_all(configs).map(Arc::new),
            proxy,
        }
    }

    /// Times the link from `me` to `peer` was re-established, as `me` counts.
    fn resumes(&self, me: u8, peer: u8) -> u64 {
        self.parties[usize::from(me)].stats(rank(peer)).resumes
    }

    /// Runs `rounds` rounds of `traffic` on every party, each in its own
    /// thread. Rank 1 waits for the test's cuts to be done before it
    /// finishes, so every planned cut lands while the job still runs.
    fn run(
        &self,
        traffic: Traffic,
        rounds: u64,
        progress: &Arc<Progress>,
    ) -> Vec<JoinHandle<Result<Tally, TrafficError>>> {
        self.parties
            .iter()
            .enumerate()
            .map(|(r, party)| {
                let (party, progress) = (party.clone(), progress.clone());
                std::thread::spawn(move || {
                    let mut buffers = Buffers::default();
                    let mut tally = Tally::default();
                    for round in 0..rounds {
                        match run_round(&party, &traffic, round, &mut buffers) {
                            Ok(t) => tally += t,
                            Err(e) => {
                                progress.failed.store(true, SeqCst);
                                return Err(e);
                            }
                        }
                        progress.rounds[r].store(round + 1, SeqCst);
                    }
                    while r == 1 && !progress.cutting_done.load(SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Ok(tally)
                })
            })
            .collect()
    }

    /// Closes all three parties together (each waits for the others' close frames).
    fn close(self) {
        close_all(
            self.parties
                .map(|p| Arc::into_inner(p).expect("the traffic threads are done")),
        );
    }
}

/// Waits for every party's traffic. The first error fails the test at once
/// (its peers may be left blocked, waiting for a party that gave up), and so
/// does traffic still running after [`JOB_LIMIT`].
fn finish(
    threads: Vec<JoinHandle<Result<Tally, TrafficError>>>,
    progress: &Progress,
) -> Vec<Tally> {
    let deadline = Instant::now() + JOB_LIMIT;
    let mut tallies = vec![Tally::default(); threads.len()];
    let mut running: Vec<_> = threads.into_iter().enumerate().collect();
    while !running.is_empty() {
        let (done, still): (Vec<_>, Vec<_>) =
            running.into_iter().partition(|(_, t)| t.is_finished());
        running = still;
        for (r, thread) in done {
            match thread.join().unwrap() {
                Ok(tally) => tallies[r] = tally,
                Err(e) => panic!("rank {r}: {e}"),
            }
        }
        if Instant::now() > deadline {
            let rounds = progress.rounds.each_ref().map(|r| r.load(SeqCst));
            panic!("traffic still running after {JOB_LIMIT:?}, rounds done {rounds:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    tallies
}

/// Waits until `done` holds. False if a party's traffic failed meanwhile
/// (its error is the one to report); fails the test after `limit`.
fn wait_for(progress: &Progress, limit: Duration, what: &str, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if progress.failed.load(SeqCst) {
            return false;
        }
        assert!(Instant::now() < deadline, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Runs checked traffic for `rounds` rounds while cutting the proxied link
/// `cuts` times, each at a random moment once the link is back from the
/// previous cut, and checks that everything arrived and that each cut was
/// one resume at both ends.
fn cut_and_check(make: fn(u8, &[String; 3]) -> Config, rounds: u64, cuts: u64) {
    let seed = fresh_seed();
    let traffic = Traffic {
        seed,
        max_len_log2: MAX_LEN_LOG2,
    };
    let job = Job::start(make);
    let progress = Arc::new(Progress::default());
    let threads = job.run(traffic, rounds, &progress);
    let mut rng = XorShift::new(seed);
    for k in 1..=cuts {
        // Spread over the job, at a random round and a random moment in it.
        let round = rounds * k / (cuts + 1) + rng.below(rounds / (cuts + 1) / 2);
        let reached = wait_for(&progress, JOB_LIMIT, "rank 1 reaching its cut", || {
            progress.rounds[1].load(SeqCst) >= round
        });
        if !reached {
            break;
        }
        std::thread::sleep(Duration::from_micros(rng.below(5_000)));
        assert_eq!(job.proxy.cut_all(), 1, "cut {k} found no live connection");
        let resumed = wait_for(&progress, RESUME_LIMIT, "resume after a cut", || {
            job.resumes(1, 0) >= k && job.resumes(0, 1) >= k
        });
        if !resumed {
            break;
        }
    }
    progress.cutting_done.store(true, SeqCst);
    let tallies = finish(threads, &progress);
    for (r, tally) in tallies.iter().enumerate() {
        assert_eq!(
            *tally,
            traffic.expected(rounds, rank(r as u8)),
            "rank {r} received every message once, intact, in order"
        );
    }
    assert_eq!(job.proxy.cuts() as u64, cuts);
    assert!(
        job.proxy.forwarded() as u64 > cuts,
        "rank 1 dialled again after every cut ({} connections for {cuts} cuts)",
        job.proxy.forwarded()
    );
    assert_eq!(job.resumes(1, 0), cuts, "rank 1 resumed once per cut");
    assert_eq!(job.resumes(0, 1), cuts, "rank 0 resumed once per cut");
    for (me, peer) in [(0, 2), (2, 0), (1, 2), (2, 1)] {
        assert_eq!(job.resumes(me, peer), 0, "rank {me}'s uncut link to {peer}");
    }
    job.close();
}

#[test]
fn the_cutting_proxy_resets_both_ends_and_keeps_accepting() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = CuttingProxy::start(target.local_addr().unwrap()).unwrap();
    let connect = || {
        let client = TcpStream::connect(proxy.addr()).unwrap();
        let (server, _) = target.accept().unwrap();
        for s in [&client, &server] {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        }
        (client, server)
    };
    let exchange = |client: &mut TcpStream, server: &mut TcpStream| {
        let mut got = [0u8; 5];
        client.write_all(b"hello").unwrap();
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        server.write_all(b"world").unwrap();
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"world");
    };

    let (mut client, mut server) = connect();
    exchange(&mut client, &mut server);
    assert_eq!(proxy.cut_all(), 1);
    for end in [&mut client, &mut server] {
        let err = end.read(&mut [0u8; 1]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    }
    assert_eq!(proxy.cut_all(), 0, "nothing is left to cut");

    let (mut client, mut server) = connect();
    exchange(&mut client, &mut server);
    assert_eq!((proxy.forwarded(), proxy.cuts()), (2, 1));
}

#[test]
fn traffic_through_the_proxy_arrives_intact_when_nothing_is_cut() {
    const ROUNDS: u64 = 300;
    let traffic = Traffic {
        seed: fresh_seed(),
        max_len_log2: MAX_LEN_LOG2,
    };
    let job = Job::start(config);
    let progress = Arc::new(Progress {
        cutting_done: AtomicBool::new(true),
        ..Default::default()
    });
    let tallies = finish(job.run(traffic, ROUNDS, &progress), &progress);
    for (r, tally) in tallies.iter().enumerate() {
        assert_eq!(*tally, traffic.expected(ROUNDS, rank(r as u8)));
    }
    assert_eq!((job.proxy.forwarded(), job.proxy.cuts()), (1, 0));
    job.close();
}

#[test]
fn an_encrypted_link_cut_five_times_loses_nothing() {
    cut_and_check(config, ROUNDS_WITH_CUTS, CUTS);
}

#[test]
fn a_plaintext_link_cut_five_times_loses_nothing() {
    cut_and_check(plaintext_config, ROUNDS_WITH_CUTS, CUTS);
}
