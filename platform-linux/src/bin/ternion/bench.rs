//! `ternion bench`: the five workloads of the MPI comparison, measured with
//! three local parties. Definitions match `bench/mpi_bench.c` and
//! `bench/raw_tcp_bench.c`, so `scripts/bench.sh` can set them side by side.

use crate::launch::{supervise, Job};
use serde::Serialize;
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

#[derive(Serialize)]
struct Report {
    system: &'static str,
    parties: usize,
    quick: bool,
    latency_8b: Latency,
    throughput: Vec<Throughput>,
    rounds_64x1m: Rounds,
    open_1m: Open,
    overlap: Overlap,
}

const MIB: usize = 1 << 20;
const ELEMENTS: usize = 1 << 20;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A pattern that depends on the sender and the repetition, so a receiver can
/// tell a right message from a stale or garbled one.
fn pattern(rank: Rank, rep: usize, i: usize) -> u8 {
    (rank.index() * 31 + rep * 7 + i * 13) as u8
}

fn check(got: &[u8], from: Rank, rep: usize) -> ternion::Result<()> {
    let step = (got.len() / 64).max(1);
    for i in (0..got.len()).step_by(step).chain(got.len().checked_sub(1)) {
        if got[i] != pattern(from, rep, i) {
            return Err(ternion::Error::InvalidValue(
                "benchmark payload (corrupted data)",
            ));
        }
    }
    Ok(())
}

/// Times `f` on rank 0 after a barrier, `reps` times.
fn timed(
    p: &Party,
    reps: usize,
    mut f: impl FnMut(usize) -> ternion::Result<()>,
) -> ternion::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(reps);
    for rep in 0..reps {
        p.barrier()?;
        let t = Instant::now();
        f(rep)?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(times)
}

fn latency(p: &Party, quick: bool) -> ternion::Result<Latency> {
    let (warmup, n) = if quick { (100, 2000) } else { (1000, 100_000) };
    for i in 0..warmup {
        black_box(p.exchange_value(i as u64)?);
    }
    p.barrier()?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let got = p.exchange_value(i as u64 ^ p.rank().index() as u64)?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
        if got != i as u64 ^ p.succ().index() as u64 {
            return Err(ternion::Error::InvalidValue(
                "latency payload (corrupted data)",
            ));
        }
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    samples.sort_by(f64::total_cmp);
    Ok(Latency {
        exchanges: n,
        mean_us: mean,
        p50_us: percentile(&samples, 0.5),
        p99_us: percentile(&samples, 0.99),
    })
}

fn throughput(p: &Party, quick: bool) -> ternion::Result<Vec<Throughput>> {
    let mut out = Vec::new();
    for bytes in [1 << 10, 16 << 10, 256 << 10, 4 * MIB, 32 * MIB, 128 * MIB] {
        let reps = if quick {
            2
        } else {
            (256 * MIB / bytes).clamp(3, 1000)
        };
        let mut recv = vec![0u8; bytes];
        let sends: Vec<Vec<u8>> = (0..2)
            .map(|rep| (0..bytes).map(|i| pattern(p.rank(), rep, i)).collect())
            .collect();
        let times = timed(p, reps, |rep| {
            p.exchange(&sends[rep % 2], &mut recv)?;
            check(&recv, p.succ(), rep % 2)
        })?;
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

fn rounds(p: &Party, quick: bool) -> ternion::Result<Rounds> {
    let (rounds, reps) = if quick { (8, 1) } else { (64, 3) };
    let mut data: Vec<u64> = (0..ELEMENTS as u64).collect();
    let mut recv = vec![0u64; ELEMENTS];
    let times = timed(p, reps, |_| {
        for _ in 0..rounds {
            p.exchange(&data, &mut recv)?;
            for (d, r) in data.iter_mut().zip(&recv) {
                *d = r.wrapping_add(1);
            }
        }
        Ok(())
    })?;
    Ok(Rounds {
        rounds,
        elements: ELEMENTS,
        median_s: median(times),
    })
}

fn open(p: &Party, quick: bool) -> ternion::Result<Open> {
    let share: Vec<u64> = (0..ELEMENTS as u64)
        .map(|i| i * (p.rank().index() as u64 + 1))
        .collect();
    let times = timed(p, if quick { 2 } else { 5 }, |_| {
        if let Some(v) = p.open(&share, Combine::WrappingAdd)? {
            if v[ELEMENTS - 1] != (ELEMENTS as u64 - 1) * 6 {
                return Err(ternion::Error::InvalidValue("opened value (wrong result)"));
            }
        }
        Ok(())
    })?;
    Ok(Open {
        elements: ELEMENTS,
        median_s: median(times),
    })
}

/// The fixed compute loop of the overlap workload.
fn compute(x: &mut [u64], passes: usize) {
    for _ in 0..passes {
        for v in x.iter_mut() {
            *v = v
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
        black_box(&mut *x);
    }
}

fn overlap(p: &Party, quick: bool) -> ternion::Result<Overlap> {
    let (bytes, passes, reps) = if quick {
        (8 * MIB, 8, 1)
    } else {
        (64 * MIB, 64, 3)
    };
    let mut x = vec![1u64; ELEMENTS];
    let mut send = Some(vec![7u8; bytes]);
    let mut recv = Some(vec![0u8; bytes]);
    let mut exchange = |with_compute: bool, x: &mut [u64]| -> ternion::Result<()> {
        let r = p.irecv(
            Source::Rank(p.succ()),
            TagFilter::Tag(1),
            recv.take().unwrap_or_default(),
        )?;
        let s = p.isend_vec(p.pred(), 1, send.take().unwrap_or_default())?;
        if with_compute {
            compute(x, passes);
        }
        let mut done = p.wait_all(vec![r, s])?;
        let sent = done.pop().map(|c| c.into_bytes()).unwrap_or_default();
        let got = done.pop().map(|c| c.into_bytes()).unwrap_or_default();
        if got.len() != bytes || got[bytes - 1] != 7 {
            return Err(ternion::Error::InvalidValue(
                "overlap payload (corrupted data)",
            ));
        }
        send = Some(sent);
        recv = Some(got);
        Ok(())
    };
    let compute_s = median(timed(p, reps, |_| {
        compute(&mut x, passes);
        Ok(())
    })?);
    let exchange_s = median(timed(p, reps, |_| exchange(false, &mut x))?);
    let together_s = median(timed(p, reps, |_| exchange(true, &mut x))?);
    Ok(Overlap {
        bytes,
        passes,
        compute_s,
        exchange_s,
        together_s,
        ratio: together_s / compute_s.max(exchange_s),
    })
}

fn party(args: &BenchArgs) -> ternion::Result<Option<Report>> {
    let p = Party::from_env()?;
    let report = Report {
        system: "ternion",
        parties: 3,
        quick: args.quick,
        latency_8b: latency(&p, args.quick)?,
        throughput: throughput(&p, args.quick)?,
        rounds_64x1m: rounds(&p, args.quick)?,
        open_1m: open(&p, args.quick)?,
        overlap: overlap(&p, args.quick)?,
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
    let job = Job::local().map_err(|e| e.to_string())?;
    let children = (0..3)
        .map(|rank| job.spawn(rank, &command).map(|c| (rank, c)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(supervise(children, true))
}
