//! Soak test: three local parties exchange checked traffic for a long time
//! while the connections between them are cut at random moments, and the
//! run fails unless every message arrives intact, in order, exactly once.
//!
//! ```sh
//! cargo run --release -p ternion-linux --example soak -- --seconds 300
//! ```
//! (`scripts/soak.sh` runs this.)
//!
//! The parties are threads of this process, so one resident-memory figure
//! covers all three. Each link's dialling party reaches its peer through a
//! cutting proxy (its configuration lists the proxy as the peer's address;
//! the session is set explicitly, so the differing address lists do not
//! matter). Every round, each party sends each peer 1 to 3 messages of
//! 1 B to 4 MiB whose lengths and bytes follow from (seed, round, sender,
//! receiver), and checks every byte it receives. Every few seconds one
//! link, chosen at random, has its connection reset. Progress, cuts,
//! resumes and memory are reported periodically; memory should stay flat
//! from the first report to the last.

// Test support shared with the integration tests: an example cannot import
// them, and the library's public API is no place for test tools.
#[path = "../tests/common/checked_traffic.rs"]
mod checked_traffic;
#[path = "../tests/common/cutting_proxy.rs"]
#[allow(dead_code)] // stalling a proxy is for the backpressure test
mod cutting_proxy;
#[path = "../tests/common/memory.rs"]
mod memory;

use checked_traffic::{run_round, Buffers, Tally, Traffic, XorShift};
use clap::Parser;
use cutting_proxy::CuttingProxy;
use memory::Resident;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use ternion::config::{format_session, Security};
use ternion::keys::PrivateKey;
use ternion::{ConfigLayer, Party, Rank};
use ternion_core::secure::Aead;

/// Soak test of three local parties whose connections are cut at random.
#[derive(Parser)]
struct Args {
    /// How long to run traffic, in seconds.
    #[arg(long, default_value_t = 300)]
    seconds: u64,
    /// Seed of the traffic and of the cuts (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds between progress reports.
    #[arg(long, default_value_t = 30)]
    report_seconds: u64,
    /// Cut nothing: the same traffic through the same proxies.
    #[arg(long)]
    no_cuts: bool,
    /// Run plaintext links instead of encrypted ones.
    #[arg(long)]
    insecure_plaintext: bool,
}

/// The longest message is 4 MiB.
const MAX_LEN_LOG2: u32 = 22;
/// Shortest and longest pause between two cuts, in milliseconds.
const CUT_GAP_MS: (u64, u64) = (1_000, 5_000);
/// The links, as (dialling rank, accepting rank): each party dials the
/// lower ranks, so these are all three.
const LINKS: [(u8, u8); 3] = [(1, 0), (2, 0), (2, 1)];
/// A run in which no party completes a round for this long hangs.
const HANG_LIMIT: Duration = Duration::from_secs(60);
/// After the first failure, how long the other parties may take to report
/// theirs (each names its own side of what went wrong).
const FAILURE_GRACE: Duration = Duration::from_secs(2);
/// The session every party is configured with.
const SESSION: [u8; 16] = *b"ternion-soaktest";

fn rank(i: u8) -> Rank {
    Rank::new(i).expect("ranks are 0, 1 and 2")
}

/// A link whose dialling party reaches the accepting one through a proxy.
struct ProxiedLink {
    dialler: Rank,
    acceptor: Rank,
    proxy: CuttingProxy,
}

/// When the parties stop: all three must run the same rounds, so the round
/// to stop at is fixed once, to one no party has entered yet.
#[derive(Default)]
struct Schedule {
    /// Rounds each party has entered.
    entered: [u64; 3],
    /// Rounds every party runs, once the time is up.
    rounds: Option<u64>,
}

/// What the party threads, the cutter and the reporter share.
struct Soak {
    started: Instant,
    parties: [Arc<Party>; 3],
    links: Vec<ProxiedLink>,
    traffic: Traffic,
    time_is_up: AtomicBool,
    schedule: Mutex<Schedule>,
    /// Messages and bytes verified, over all parties.
    messages: AtomicU64,
    bytes: AtomicU64,
    /// Rounds completed, over all parties (the hang watchdog's measure).
    rounds_completed: AtomicU64,
    failures: Mutex<Vec<String>>,
    /// When each cut happened, and on which link.
    cuts: Mutex<Vec<(Duration, usize)>>,
}

impl Soak {
    /// Whether `me` runs round `round`, which it is about to enter.
    fn runs_round(&self, me: Rank, round: u64) -> bool {
        let mut schedule = self.schedule.lock().unwrap();
        if schedule.rounds.is_none() && self.time_is_up.load(SeqCst) {
            // Every round any party has entered is run by all.
            schedule.rounds = schedule.entered.iter().copied().max();
        }
        let runs = !matches!(schedule.rounds, Some(rounds) if round >= rounds);
        if runs {
            schedule.entered[me.index()] = round + 1;
        }
        runs
    }

    fn fail(&self, failure: String) {
        self.failures.lock().unwrap().push(failure);
    }

    fn failed(&self) -> bool {
        !self.failures.lock().unwrap().is_empty()
    }

    /// Times `link` was re-established, as its dialling and its accepting party count.
    fn resumes(&self, link: &ProxiedLink) -> (u64, u64) {
        let count = |me: Rank, peer: Rank| self.parties[me.index()].stats(peer).resumes;
        (
            count(link.dialler, link.acceptor),
            count(link.acceptor, link.dialler),
        )
    }

    /// Connections cut and resumes (as the dialling parties count them), over all links.
    fn cuts_and_resumes(&self) -> (usize, u64) {
        self.links.iter().fold((0, 0), |(cuts, resumes), link| {
            (cuts + link.proxy.cuts(), resumes + self.resumes(link).0)
        })
    }

    /// One line of progress.
    fn report(&self, memory: Resident) {
        let (cuts, resumes) = self.cuts_and_resumes();
        println!(
            "{:>6} s: {} messages ({}) verified, {cuts} cuts, {resumes} resumes; \
             resident {} (peak {})",
            self.started.elapsed().as_secs(),
            self.messages.load(SeqCst),
            gib(self.bytes.load(SeqCst)),
            mib_from_kib(memory.now_kib),
            mib_from_kib(memory.peak_kib),
        );
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn mib_from_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Three loopback addresses with ports that were free a moment ago.
fn free_addresses() -> std::io::Result<[String; 3]> {
    let listeners = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    let addrs = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.to_string()))
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(addrs.try_into().expect("three addresses"))
}

/// Starts a proxy on every link and connects the three parties, the
/// dialling ones through the proxies.
fn connect(args: &Args) -> Result<([Arc<Party>; 3], Vec<ProxiedLink>), String> {
    let addrs = free_addresses().map_err(|e| format!("no free loopback port: {e}"))?;
    let links = LINKS
        .iter()
        .map(|&(dialler, acceptor)| {
            let target = addrs[usize::from(acceptor)].parse().expect("an address");
            let proxy =
                CuttingProxy::start(target).map_err(|e| format!("cannot start a proxy: {e}"))?;
            Ok(ProxiedLink {
                dialler: rank(dialler),
                acceptor: rank(acceptor),
                proxy,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let keys = (0..3)
        .map(|_| PrivateKey::generate())
        .collect::<ternion::Result<Vec<_>>>()
        .map_err(|e| format!("cannot make keys: {e}"))?;
    let public_keys = [0, 1, 2].map(|r| keys[r].public());
    let mut connecting: Vec<JoinHandle<ternion::Result<Party>>> = Vec::new();
    for r in 0..3u8 {
        let mut peers = addrs.to_vec();
        for link in links.iter().filter(|l| l.dialler == rank(r)) {
            peers[link.acceptor.index()] = link.proxy.addr().to_string();
        }
        // Every setting not named here takes the library's default, as with
        // a configuration file. Secure links would need key files there; the
        // keys here stay in memory, so they are put in afterwards.
        let mut config = ConfigLayer {
            rank: Some(r),
            peers: Some(peers),
            session: Some(format_session(&SESSION)),
            insecure_plaintext: Some(true),
            ..ConfigLayer::default()
        }
        .finish()
        .map_err(|e| format!("rank {r}'s configuration: {e}"))?;
        if !args.insecure_plaintext {
            config.security = Security::Keys {
                private_key: keys[usize::from(r)].clone(),
                public_keys,
                aead: Aead::AesGcm,
            };
        }
        connecting.push(std::thread::spawn(move || Party::connect(&config)));
    }
    let mut parties = Vec::new();
    for (r, c) in connecting.into_iter().enumerate() {
        let party = c
            .join()
            .expect("connecting does not panic")
            .map_err(|e| format!("rank {r} cannot connect: {e}"))?;
        parties.push(Arc::new(party));
    }
    let parties = parties.try_into().unwrap_or_else(|_| unreachable!());
    Ok((parties, links))
}

/// Runs rounds on party `me` until the agreed last round, or a failure.
fn run_party(soak: &Soak, me: Rank) -> Option<Tally> {
    let party = &soak.parties[me.index()];
    let mut buffers = Buffers::default();
    let mut total = Tally::default();
    let mut round = 0;
    while soak.runs_round(me, round) {
        match run_round(party, &soak.traffic, round, &mut buffers) {
            Ok(tally) => {
                total += tally;
                soak.messages.fetch_add(tally.messages, SeqCst);
                soak.bytes.fetch_add(tally.bytes, SeqCst);
                soak.rounds_completed.fetch_add(1, SeqCst);
            }
            Err(e) => {
                soak.fail(format!(
                    "{me}, round {round}, at {:.1} s: {e}",
                    soak.started.elapsed().as_secs_f64()
                ));
                return None;
            }
        }
        round += 1;
    }
    Some(total)
}

/// Cuts the connection of a random link every few seconds until the time is up.
fn cut_at_random(soak: &Soak, mut rng: XorShift) {
    loop {
        let (min, max) = CUT_GAP_MS;
        let at = Instant::now() + Duration::from_millis(min + rng.below(max - min));
        while Instant::now() < at {
            if soak.time_is_up.load(SeqCst) || soak.failed() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let link = rng.below(soak.links.len() as u64) as usize;
        if soak.links[link].proxy.cut_all() > 0 {
            soak.cuts
                .lock()
                .unwrap()
                .push((soak.started.elapsed(), link));
        }
    }
}

fn describe(link: &ProxiedLink) -> String {
    format!("{} -> {}", link.dialler, link.acceptor)
}

/// Prints what failed and the last cuts before it.
fn report_failure(soak: &Soak, what: &str) -> ExitCode {
    eprintln!(
        "soak: FAIL after {:.1} s: {what}",
        soak.started.elapsed().as_secs_f64()
    );
    for failure in soak.failures.lock().unwrap().iter() {
        eprintln!("  {failure}");
    }
    let cuts = soak.cuts.lock().unwrap();
    if let Some((at, link)) = cuts.last() {
        eprintln!(
            "  cuts so far: {}; the last at {:.1} s, on the link {}",
            cuts.len(),
            at.as_secs_f64(),
            describe(&soak.links[*link])
        );
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        nanos as u64
    });
    println!(
        "soak: {} s, seed {seed}, {} links, {}, reports every {} s",
        args.seconds,
        if args.insecure_plaintext {
            "PLAINTEXT"
        } else {
            "encrypted"
        },
        if args.no_cuts {
            "no cuts".to_string()
        } else {
            format!(
                "a random link cut every {}-{} s",
                CUT_GAP_MS.0 / 1000,
                CUT_GAP_MS.1 / 1000
            )
        },
        args.report_seconds
    );
    let (parties, links) = match connect(&args) {
        Ok(connected) => connected,
        Err(e) => {
            eprintln!("soak: FAIL: {e}");
            return ExitCode::FAILURE;
        }
    };
    let soak = Arc::new(Soak {
        started: Instant::now(),
        parties,
        links,
        traffic: Traffic {
            seed,
            max_len_log2: MAX_LEN_LOG2,
        },
        time_is_up: AtomicBool::new(false),
        schedule: Mutex::new(Schedule::default()),
        messages: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        rounds_completed: AtomicU64::new(0),
        failures: Mutex::new(Vec::new()),
        cuts: Mutex::new(Vec::new()),
    });
    let workers: Vec<JoinHandle<Option<Tally>>> = (0..3)
        .map(|r| {
            let soak = soak.clone();
            std::thread::spawn(move || run_party(&soak, rank(r)))
        })
        .collect();
    let cutter = (!args.no_cuts).then(|| {
        let soak = soak.clone();
        // Cuts draw from their own sequence, so the traffic stays the seed's.
        let rng = XorShift::new(seed ^ 0xc075_c075_c075_c075);
        std::thread::spawn(move || cut_at_random(&soak, rng))
    });

    let run_for = Duration::from_secs(args.seconds);
    let report_every = Duration::from_secs(args.report_seconds.max(1));
    let mut next_report = report_every;
    // Memory at the first report and at the last, which comes as the time
    // runs out, while the traffic still runs.
    let (mut first_report, mut last_report) = (None, None);
    // The kernel's high-water mark can lag behind a resident size already
    // seen (see `Resident`), so the peak is also taken over the reports.
    let mut peak_kib = 0;
    let (mut last_rounds, mut last_progress) = (0, Instant::now());
    while !workers.iter().all(JoinHandle::is_finished) {
        std::thread::sleep(Duration::from_millis(50));
        if soak.failed() {
            std::thread::sleep(FAILURE_GRACE);
            return report_failure(&soak, "a party's traffic failed");
        }
        let elapsed = soak.started.elapsed();
        if !soak.time_is_up.load(SeqCst) && (elapsed >= next_report || elapsed >= run_for) {
            next_report += report_every;
            let memory = Resident::read();
            first_report.get_or_insert(memory);
            last_report = Some(memory);
            peak_kib = peak_kib.max(memory.now_kib).max(memory.peak_kib);
            soak.report(memory);
        }
        if elapsed >= run_for {
            soak.time_is_up.store(true, SeqCst);
        }
        let rounds = soak.rounds_completed.load(SeqCst);
        if rounds != last_rounds {
            (last_rounds, last_progress) = (rounds, Instant::now());
        } else if last_progress.elapsed() > HANG_LIMIT {
            return report_failure(
                &soak,
                &format!(
                    "no party completed a round for {HANG_LIMIT:?}: \
                     a message went missing or a link hangs"
                ),
            );
        }
    }
    if let Some(cutter) = cutter {
        cutter.join().expect("the cutter does not panic");
    }
    let tallies: Vec<Option<Tally>> = workers
        .into_iter()
        .map(|w| w.join().expect("a party thread does not panic"))
        .collect();
    if soak.failed() {
        return report_failure(&soak, "a party's traffic failed");
    }
    let rounds = soak
        .schedule
        .lock()
        .unwrap()
        .rounds
        .expect("the parties stopped because the time was up");
    for (r, tally) in tallies.into_iter().enumerate() {
        let expected = soak.traffic.expected(rounds, rank(r as u8));
        if tally != Some(expected) {
            return report_failure(
                &soak,
                &format!("rank {r} verified {tally:?} but {expected:?} were sent to it"),
            );
        }
    }

    let (cuts, resumes) = soak.cuts_and_resumes();
    let link_lines: Vec<String> = soak
        .links
        .iter()
        .map(|link| {
            let (dialler, acceptor) = soak.resumes(link);
            format!(
                "  link {}: cuts {}, connections {}, resumes {dialler} ({}) / {acceptor} ({})",
                describe(link),
                link.proxy.cuts(),
                link.proxy.forwarded(),
                link.dialler,
                link.acceptor,
            )
        })
        .collect();
    let (soak_messages, soak_bytes) = (soak.messages.load(SeqCst), soak.bytes.load(SeqCst));
    // The proxies stay up until the parties have closed: the close frames
    // pass through them.
    let Soak { parties, links, .. } = Arc::into_inner(soak).expect("every other thread is done");
    let closing = parties.map(|p| {
        let p = Arc::into_inner(p).expect("only the soak holds the parties");
        std::thread::spawn(move || (p.rank(), p.close()))
    });
    for c in closing {
        let (who, closed) = c.join().expect("closing does not panic");
        if let Err(e) = closed {
            eprintln!("soak: FAIL: {who} cannot close: {e}");
            return ExitCode::FAILURE;
        }
    }
    drop(links);
    println!(
        "soak: PASS: {rounds} rounds in {} s, {} messages ({}) verified intact and in order; \
         cuts {cuts}, resumes {resumes}",
        args.seconds,
        soak_messages,
        gib(soak_bytes),
    );
    for line in link_lines {
        println!("{line}");
    }
    if let (Some(first), Some(last)) = (first_report, last_report) {
        println!(
            "  resident memory: {} at the first report, {} at the last; peak {}",
            mib_from_kib(first.now_kib),
            mib_from_kib(last.now_kib),
            mib_from_kib(peak_kib.max(Resident::read().peak_kib)),
        );
    }
    ExitCode::SUCCESS
}
