//! `ternion bench`: the six workloads of the MPI comparison, measured with
//! three local parties. Each workload mirrors `bench/common.h` (the same
//! sizes, repetitions, data patterns, checks and CPU accounting), so
//! `scripts/bench.sh` can set ternion, OpenMPI and raw TCP side by side.

use crate::launch::Job;
use serde::Serialize;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;
use ternion::{Combine, Party, Rank, Source, TagFilter};

/// Arguments of `ternion bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Fewer repetitions (a smoke test, not a measurement).
    #[arg(long)]
    quick: bool,
}

#[derive(Serialize)]
struct Latency {
    exchanges: usize,
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

#[derive(Serialize)]
struct Throughput {
    bytes: usize,
    reps: usize,
    median_s: f64,
    mib_per_s: f64,
}

#[derive(Serialize)]
struct Rounds {
    rounds: usize,
    elements: usize,
    median_s: f64,
}

#[derive(Serialize)]
struct Open {
    elements: usize,
    median_s: f64,
}

#[derive(Serialize)]
struct Overlap {
    bytes: usize,
    passes: usize,
    compute_s: f64,
    exchange_s: f64,
    together_s: f64,
    ratio: f64,
}

/// Mean time per one-element exchange in each request pattern.
#[derive(Serialize)]
struct ExchangePatterns {
    exchanges: usize,
    send_recv_us: f64,
    irecv_isend_waitall_us: f64,
    irecv_isend_wait_wait_us: f64,
}

/// What a workload cost all three parties in CPU time.
#[derive(Serialize)]
struct Cost {
    cpu_s: f64,
    gib: f64,
    cpu_s_per_gib: f64,
}

#[derive(Serialize)]
struct Report {
    system: String,
    parties: usize,
    quick: bool,
    latency_8b: Latency,
    throughput: Vec<Throughput>,
    rounds_64x1m: Rounds,
    open_1m: Open,
    overlap: Overlap,
    exchange_patterns: ExchangePatterns,
    cpu: BTreeMap<String, Cost>,
}

/// CPU seconds (user + system, every thread) this process has used so
/// far; what the workloads' timed calls cost, as `bench/common.h` counts it.
fn cpu_now() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes one rusage into the pointer it is given,
    // which points at a zeroed, properly aligned rusage owned by this frame.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return 0.0;
    }
    // SAFETY: zero-initialised, and filled by the successful call above.
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU time and bytes sent (by all three parties) of each workload, under
/// the names `bench/common.h` prints.
#[derive(Default)]
struct Costs {
    entries: Vec<(String, f64, f64)>,
}

impl Costs {
    fn add(&mut self, name: String, cpu_s: f64, bytes_all_parties: f64) {
        self.entries.push((name, cpu_s, bytes_all_parties));
    }

    /// Rank 0 sums every party's CPU time per workload; the others send theirs.
    fn gather(self, p: &Party) -> ternion::Result<BTreeMap<String, Cost>> {
        const TAG: u32 = 9;
        let mine: Vec<u64> = self.entries.iter().map(|e| e.1.to_bits()).collect();
        if p.rank() != Rank::ZERO {
            p.send(Rank::ZERO, TAG, &mine)?;
            return Ok(BTreeMap::new());
        }
        let mut total: Vec<f64> = self.entries.iter().map(|e| e.1).collect();
        for peer in [p.succ(), p.pred()] {
            let mut theirs = vec![0u64; mine.len()];
            p.recv(peer, TAG, &mut theirs)?;
            for (t, bits) in total.iter_mut().zip(theirs) {
                *t += f64::from_bits(bits);
            }
        }
        Ok(self
            .entries
            .into_iter()
            .zip(total)
            .map(|((name, _, bytes), cpu_s)| {
                let gib = bytes / (1u64 << 30) as f64;
                let cost = Cost {
                    cpu_s,
                    gib,
                    cpu_s_per_gib: cpu_s / gib,
                };
                (name, cost)
            })
            .collect())
    }
}

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// 1,048,576 u64 values (8 MiB), the vector size of rounds, open and compute.
const VEC_ELEMS: usize = 1 << 20;
const SIZES: [usize; 6] = [KIB, 16 * KIB, 256 * KIB, 4 * MIB, 32 * MIB, 128 * MIB];

/// Workload ids in the data patterns (as in `bench/common.h`).
const W_LATENCY: u64 = 1;
const W_THROUGHPUT: u64 = 2;
const W_ROUNDS: u64 = 3;
const W_OPEN: u64 = 4;
const W_OVERLAP: u64 = 5;
const W_PATTERNS: u64 = 6;

/// Repetition counts; the same as `bench_config_for` in `bench/common.h`.
struct Plan {
    quick: bool,
    latency_n: usize,
    latency_warmup: usize,
    patterns_n: usize,
    rounds: usize,
    rounds_reps: usize,
    open_reps: usize,
    overlap_bytes: usize,
    overlap_passes: usize,
    overlap_reps: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                latency_n: 2000,
                latency_warmup: 100,
                patterns_n: 2000,
                rounds: 8,
                rounds_reps: 1,
                open_reps: 2,
                overlap_bytes: 8 * MIB,
                overlap_passes: 8,
                overlap_reps: 1,
            }
        } else {
            Plan {
                quick,
                latency_n: 100_000,
                latency_warmup: 1000,
                patterns_n: 20_000,
                rounds: 64,
                rounds_reps: 3,
                open_reps: 5,
                overlap_bytes: 64 * MIB,
                overlap_passes: 64,
                overlap_reps: 3,
            }
        }
    }

    fn throughput_reps(&self, bytes: usize) -> usize {
        if self.quick {
            2
        } else {
            (256 * MIB / bytes).clamp(3, 1000)
        }
    }
}

/// Median; the mean of the two middle values for an even count.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of a sorted slice.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let k = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// The seed of one transfer: workload, sender and run (as in `bench/common.h`).
fn pattern_seed(sender: Rank, workload: u64, a: u64, b: u64) -> u64 {
    let mut z = (sender.index() as u64 + 1).wrapping_mul(0x9E3779B97F4A7C15);
    z ^= workload.wrapping_mul(0xBF58476D1CE4E5B9);
    z ^= (a + 1).wrapping_mul(0x94D049BB133111EB);
    z ^= (b + 1).wrapping_mul(0xD6E8FEB86659FD93);
    z ^ (z >> 31)
}

fn pattern_word(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64).wrapping_mul(0x9E3779B97F4A7C15)
}

fn pattern_fill(words: &mut [u64], seed: u64) {
    for (i, w) in words.iter_mut().enumerate() {
        *w = pattern_word(seed, i);
    }
}

/// Checks every received word, outside the timed region.
fn pattern_check(what: &str, got: &[u64], seed: u64, add: u64) -> ternion::Result<()> {
    match got
        .iter()
        .enumerate()
        .find(|&(i, &w)| w != pattern_word(seed, i).wrapping_add(add))
    {
        None => Ok(()),
        Some((i, &w)) => {
            eprintln!(
                "{what}: data mismatch at word {i} of {}: got {w:016x}",
                got.len()
            );
            Err(ternion::Error::InvalidValue(
                "benchmark payload (data mismatch)",
            ))
        }
    }
}

fn latency(p: &Party, plan: &Plan, costs: &mut Costs) -> ternion::Result<Latency> {
    let mut samples = Vec::with_capacity(plan.latency_n);
    p.barrier()?;
    let total = plan.latency_warmup + plan.latency_n;
    let cpu = cpu_now();
    for k in 0..total {
        let word = pattern_word(pattern_seed(p.rank(), W_LATENCY, k as u64, 0), 0);
        let t = Instant::now();
        let got = p.exchange_value(word)?;
        let elapsed = t.elapsed().as_secs_f64() * 1e6;
        if got != pattern_word(pattern_seed(p.succ(), W_LATENCY, k as u64, 0), 0) {
            return Err(ternion::Error::InvalidValue(
                "latency payload (data mismatch)",
            ));
        }
        if k >= plan.latency_warmup {
            samples.push(elapsed);
        }
    }
    costs.add("latency_8b".into(), cpu_now() - cpu, (total * 8 * 3) as f64);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    samples.sort_by(f64::total_cmp);
    Ok(Latency {
        exchanges: plan.latency_n,
        mean_us: mean,
        p50_us: percentile(&samples, 50.0),
        p99_us: percentile(&samples, 99.0),
    })
}

/// Buffers allocated and touched once, before any timing.
struct Buffers {
    send: Vec<u64>,
    recv: Vec<u64>,
}

fn throughput(
    p: &Party,
    plan: &Plan,
    b: &mut Buffers,
    costs: &mut Costs,
) -> ternion::Result<Vec<Throughput>> {
    let mut out = Vec::new();
    for bytes in SIZES {
        let words = bytes / 8;
        let reps = plan.throughput_reps(bytes);
        let mut times = Vec::with_capacity(reps);
        let mut cpu_s = 0.0;
        for rep in 0..reps {
            pattern_fill(
                &mut b.send[..words],
                pattern_seed(p.rank(), W_THROUGHPUT, bytes as u64, rep as u64),
            );
            p.barrier()?;
            let (cpu, t) = (cpu_now(), Instant::now());
            p.exchange(&b.send[..words], &mut b.recv[..words])?;
            times.push(t.elapsed().as_secs_f64());
            cpu_s += cpu_now() - cpu;
            pattern_check(
                "throughput",
                &b.recv[..words],
                pattern_seed(p.succ(), W_THROUGHPUT, bytes as u64, rep as u64),
                0,
            )?;
        }
        costs.add(
            format!("throughput_{bytes}"),
            cpu_s,
            (bytes * reps * 3) as f64,
        );
        let median_s = median(times);
        out.push(Throughput {
            bytes,
            reps,
            median_s,
            mib_per_s: bytes as f64 / MIB as f64 / median_s,
        });
    }
    Ok(out)
}

fn rounds(p: &Party, plan: &Plan, b: &mut Buffers, costs: &mut Costs) -> ternion::Result<Rounds> {
    let n = VEC_ELEMS;
    let mut times = Vec::with_capacity(plan.rounds_reps);
    let mut cpu_s = 0.0;
    for rep in 0..plan.rounds_reps {
        pattern_fill(
            &mut b.send[..n],
            pattern_seed(p.rank(), W_ROUNDS, rep as u64, 0),
        );
        p.barrier()?;
        let t = Instant::now();
        for k in 0..plan.rounds {
            if k > 0 {
                for (s, r) in b.send[..n].iter_mut().zip(&b.recv[..n]) {
                    *s = r.wrapping_add(1);
                }
            }
            let cpu = cpu_now();
            p.exchange(&b.send[..n], &mut b.recv[..n])?;
            cpu_s += cpu_now() - cpu;
        }
        times.push(t.elapsed().as_secs_f64());
        // Round k receives what party (me+k+1)%3 started with, plus k.
        let origin = Rank::new(((p.rank().index() + plan.rounds) % 3) as u8).unwrap_or(Rank::ZERO);
        pattern_check(
            "rounds_64x1m",
            &b.recv[..n],
            pattern_seed(origin, W_ROUNDS, rep as u64, 0),
            plan.rounds as u64 - 1,
        )?;
    }
    costs.add(
        "rounds_64x1m".into(),
        cpu_s,
        (n * 8 * plan.rounds * plan.rounds_reps * 3) as f64,
    );
    Ok(Rounds {
        rounds: plan.rounds,
        elements: n,
        median_s: median(times),
    })
}

fn open(p: &Party, plan: &Plan, b: &mut Buffers, costs: &mut Costs) -> ternion::Result<Open> {
    let n = VEC_ELEMS;
    let mut times = Vec::with_capacity(plan.open_reps);
    let mut cpu_s = 0.0;
    let (share, sum) = b.recv.split_at_mut(n);
    let sum = &mut sum[..n];
    for rep in 0..plan.open_reps {
        pattern_fill(share, pattern_seed(p.rank(), W_OPEN, rep as u64, 0));
        p.barrier()?;
        let (cpu, t) = (cpu_now(), Instant::now());
        let opened = p.open_into(share, Combine::WrappingAdd, sum)?;
        times.push(t.elapsed().as_secs_f64());
        cpu_s += cpu_now() - cpu;
        if opened {
            let seeds = Rank::ALL.map(|r| pattern_seed(r, W_OPEN, rep as u64, 0));
            let wrong = sum.iter().enumerate().any(|(i, &v)| {
                v != seeds
                    .iter()
                    .fold(0u64, |acc, &s| acc.wrapping_add(pattern_word(s, i)))
            });
            if wrong {
                return Err(ternion::Error::InvalidValue("opened value (wrong sum)"));
            }
        }
    }
    costs.add("open_1m".into(), cpu_s, (n * 8 * 2 * plan.open_reps) as f64);
    Ok(Open {
        elements: n,
        median_s: median(times),
    })
}

/// The fixed compute loop of the overlap workload (as in `bench/common.h`).
fn compute(x: &mut [u64], passes: usize) {
    for _ in 0..passes {
        for v in x.iter_mut() {
            *v = v
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
    }
    black_box(x.iter().step_by(512).fold(0, |a, &v| a ^ v));
}

fn overlap(p: &Party, plan: &Plan, b: &mut Buffers) -> ternion::Result<Overlap> {
    let (bytes, reps) = (plan.overlap_bytes, plan.overlap_reps);
    let words = bytes / 8;
    let mut work = vec![0u64; VEC_ELEMS];
    pattern_fill(&mut work, pattern_seed(p.rank(), W_OVERLAP, 0, 0));
    let mut compute_times = Vec::new();
    for _ in 0..reps {
        p.barrier()?;
        let t = Instant::now();
        compute(&mut work, plan.overlap_passes);
        compute_times.push(t.elapsed().as_secs_f64());
    }
    let mut exchange_times = Vec::new();
    for rep in 0..reps {
        pattern_fill(
            &mut b.send[..words],
            pattern_seed(p.rank(), W_OVERLAP, 1, rep as u64),
        );
        p.barrier()?;
        let t = Instant::now();
        p.exchange(&b.send[..words], &mut b.recv[..words])?;
        exchange_times.push(t.elapsed().as_secs_f64());
        pattern_check(
            "overlap (exchange)",
            &b.recv[..words],
            pattern_seed(p.succ(), W_OVERLAP, 1, rep as u64),
            0,
        )?;
    }
    // Together: the non-blocking API with owned buffers, filled before timing.
    let mut send_bytes = vec![0u8; bytes];
    let mut recv_bytes = vec![0u8; bytes];
    let mut together_times = Vec::new();
    for rep in 0..reps {
        pattern_fill(
            &mut b.send[..words],
            pattern_seed(p.rank(), W_OVERLAP, 2, rep as u64),
        );
        send_bytes.copy_from_slice(bytemuck::cast_slice(&b.send[..words]));
        recv_bytes.fill(0);
        p.barrier()?;
        let t = Instant::now();
        let r = p.irecv(
            Source::Rank(p.succ()),
            TagFilter::Tag(1),
            std::mem::take(&mut recv_bytes),
        )?;
        let s = p.isend_vec(p.pred(), 1, std::mem::take(&mut send_bytes))?;
        compute(&mut work, plan.overlap_passes);
        let mut done = p.wait_all(vec![r, s])?;
        together_times.push(t.elapsed().as_secs_f64());
        send_bytes = done.pop().map(|c| c.into_bytes()).unwrap_or_default();
        recv_bytes = done.pop().map(|c| c.into_bytes()).unwrap_or_default();
        b.recv[..words].copy_from_slice(bytemuck::cast_slice(&recv_bytes));
        pattern_check(
            "overlap (together)",
            &b.recv[..words],
            pattern_seed(p.succ(), W_OVERLAP, 2, rep as u64),
            0,
        )?;
    }
    let (compute_s, exchange_s, together_s) = (
        median(compute_times),
        median(exchange_times),
        median(together_times),
    );
    Ok(Overlap {
        bytes,
        passes: plan.overlap_passes,
        compute_s,
        exchange_s,
        together_s,
        ratio: together_s / compute_s.max(exchange_s),
    })
}

/// One-element exchanges in the three request patterns of MPI programs
/// (`bench/common.h`'s `run_patterns`): blocking send then receive;
/// irecv, isend and a wait for both; irecv, isend, then a wait for the
/// send and one for the receive, Secrecy's own order.
fn exchange_patterns(p: &Party, plan: &Plan) -> ternion::Result<ExchangePatterns> {
    const TAG: u32 = 6;
    let mut means = [0.0; 3];
    for (pattern, mean) in means.iter_mut().enumerate() {
        p.barrier()?;
        let t = Instant::now();
        for k in 0..plan.patterns_n {
            let seed = |r| pattern_seed(r, W_PATTERNS, pattern as u64, k as u64);
            let out = pattern_word(seed(p.rank()), 0);
            let got = if pattern == 0 {
                p.send(p.pred(), TAG, &[out])?;
                let mut got = [0u64];
                p.recv(p.succ(), TAG, &mut got)?;
                got[0]
            } else {
                let r = p.irecv(Source::Rank(p.succ()), TagFilter::Tag(TAG), vec![0; 8])?;
                let s = p.isend(p.pred(), TAG, &[out])?;
                let received = if pattern == 1 {
                    p.wait_all(vec![r, s])?.swap_remove(0)
                } else {
                    s.wait()?;
                    r.wait()?
                };
                received.into_values::<u64>()?.first().copied().unwrap_or(0)
            };
            if got != pattern_word(seed(p.succ()), 0) {
                return Err(ternion::Error::InvalidValue(
                    "exchange pattern payload (data mismatch)",
                ));
            }
        }
        *mean = t.elapsed().as_secs_f64() / plan.patterns_n as f64 * 1e6;
    }
    Ok(ExchangePatterns {
        exchanges: plan.patterns_n,
        send_recv_us: means[0],
        irecv_isend_waitall_us: means[1],
        irecv_isend_wait_wait_us: means[2],
    })
}

fn party(args: &BenchArgs) -> ternion::Result<Option<Report>> {
    let p = Party::from_env()?;
    let plan = Plan::new(args.quick);
    // Allocated and touched before any timing, so no run pays for page faults.
    let mut b = Buffers {
        send: vec![1; 128 * MIB / 8],
        recv: vec![1; 128 * MIB / 8],
    };
    let mut costs = Costs::default();
    let latency_8b = latency(&p, &plan, &mut costs)?;
    let throughput = throughput(&p, &plan, &mut b, &mut costs)?;
    let rounds_64x1m = rounds(&p, &plan, &mut b, &mut costs)?;
    let open_1m = open(&p, &plan, &mut b, &mut costs)?;
    let overlap = overlap(&p, &plan, &mut b)?;
    let exchange_patterns = exchange_patterns(&p, &plan)?;
    let report = Report {
        // scripts/bench.sh names the variant it runs (encrypted by default, or plaintext).
        system: std::env::var("BENCH_SYSTEM").unwrap_or_else(|_| "ternion".into()),
        parties: 3,
        quick: args.quick,
        latency_8b,
        throughput,
        rounds_64x1m,
        open_1m,
        overlap,
        exchange_patterns,
        cpu: costs.gather(&p)?,
    };
    let rank = p.rank();
    p.close()?;
    Ok((rank == Rank::ZERO).then_some(report))
}

fn print_table(r: &Report) {
    println!(
        "ternion bench: three parties on this machine{}",
        if r.quick {
            " (quick mode: not a measurement)"
        } else {
            ""
        }
    );
    let l = &r.latency_8b;
    println!(
        "  8-byte ring exchange: mean {:.1} us, p50 {:.1} us, p99 {:.1} us over {} exchanges",
        l.mean_us, l.p50_us, l.p99_us, l.exchanges
    );
    println!("  ring exchange throughput (per party):");
    for t in &r.throughput {
        println!(
            "    {:>10} bytes: {:>9.1} MiB/s (median of {} reps, {:.3} ms)",
            t.bytes,
            t.mib_per_s,
            t.reps,
            t.median_s * 1e3
        );
    }
    println!(
        "  {} rounds of a {}-element u64 exchange: {:.3} s",
        r.rounds_64x1m.rounds, r.rounds_64x1m.elements, r.rounds_64x1m.median_s
    );
    println!(
        "  open of {} u64 to party 0: {:.2} ms",
        r.open_1m.elements,
        r.open_1m.median_s * 1e3
    );
    let o = &r.overlap;
    println!(
        "  overlap: compute {:.3} s, exchange {:.3} s, together {:.3} s, ratio {:.2} (1.0 = perfect overlap)",
        o.compute_s, o.exchange_s, o.together_s, o.ratio
    );
    let e = &r.exchange_patterns;
    println!(
        "  one-element exchanges ({}): send+recv {:.1} us, irecv+isend+waitall {:.1} us, irecv+isend+wait+wait {:.1} us",
        e.exchanges, e.send_recv_us, e.irecv_isend_waitall_us, e.irecv_isend_wait_wait_us
    );
    println!("  CPU seconds (all three parties) per GiB sent:");
    for (name, cost) in &r.cpu {
        println!("    {name:>22}: {:>9.3}", cost.cpu_s_per_gib);
    }
}

/// `ternion bench`: as a party when started by `ternion run`, else launches three.
pub fn main(args: BenchArgs) -> Result<ExitCode, String> {
    if std::env::var_os("TERNION_RANK").is_some() {
        return match party(&args) {
            Ok(Some(report)) if args.json => {
                println!(
                    "{}",
                    serde_json::to_string(&report).map_err(|e| e.to_string())?
                );
                Ok(ExitCode::SUCCESS)
            }
            Ok(Some(report)) => {
                print_table(&report);
                Ok(ExitCode::SUCCESS)
            }
            Ok(None) => Ok(ExitCode::SUCCESS),
            Err(e) => Err(e.to_string()),
        };
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = vec![exe.to_string_lossy().into_owned(), "bench".to_string()];
    command.extend(args.json.then(|| "--json".to_string()));
    command.extend(args.quick.then(|| "--quick".to_string()));
    Job::local()?.run(&[0, 1, 2], &command, true)
}
