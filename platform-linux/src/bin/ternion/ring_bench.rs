//! `ternion ring-bench`: one party of the ring benchmark (8-byte ring
//! exchanges and a million-element exchange), the same workload the
//! in-kernel backend runs, for comparing the two in identical guests.

use std::process::ExitCode;
use ternion::Party;
use ternion_core::Instant;
use ternion_mpc::Clock;
use ternion_mpc::{ring_benchmark, RingBenchPlan};

/// Arguments of `ternion ring-bench`.
#[derive(clap::Args, Debug)]
pub struct RingBenchArgs {
    /// A few exchanges only, for smoke tests.
    #[arg(long)]
    quick: bool,
    /// This party's configuration (flags or `TERNION_*` variables).
    #[command(flatten)]
    party: ternion::ConfigArgs,
}

struct MonotonicClock(std::time::Instant);

impl Clock for MonotonicClock {
    fn now(&self) -> Instant {
        Instant::from_micros(self.0.elapsed().as_micros() as u64)
    }
}

/// Runs one party and prints `ternion-bench backend=hosted rank=R ...`.
pub fn main(args: RingBenchArgs) -> Result<ExitCode, String> {
    let config = args.party.resolve().map_err(|e| e.to_string())?;
    let party = Party::connect(&config).map_err(|e| e.to_string())?;
    let plan = if args.quick {
        RingBenchPlan::QUICK
    } else {
        RingBenchPlan::STANDARD
    };
    let clock = MonotonicClock(std::time::Instant::now());
    let report = ring_benchmark(&mut &party, &clock, plan)
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    println!(
        "ternion-bench backend=hosted rank={} {report}",
        party.rank().index()
    );
    party.close().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
