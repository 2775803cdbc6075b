//! The `ternion` command: run programs as three parties, the demo, the benchmark.

mod bench;
mod blame;
mod demo;
mod ephemeral_keys;
mod keygen;
mod launch;
mod private_dir;
mod ring_bench;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ternion",
    version,
    about = "Secure communication for three-party computation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs PROGRAM as the parties of a job (like `mpirun -np 3`).
    Run(launch::RunArgs),
    /// Three local parties compute on secret-shared inputs and check the results.
    Demo(demo::DemoArgs),
    /// Measures latency, throughput, rounds, open and overlap with three local parties.
    Bench(bench::BenchArgs),
    /// Writes a new static private key (mode 0600) and prints its public key.
    Keygen(keygen::KeygenArgs),
    /// One party of the ring benchmark (the workload the in-kernel backend also runs).
    RingBench(ring_bench::RingBenchArgs),
}

/// Accepts mpirun's single-dash `-np` (clap would read it as `-n p`) by
/// rewriting it to `--np`, up to the `--` that starts the program's own arguments.
fn mpirun_style_args(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut in_program = false;
    args.map(|a| {
        if a == "--" {
            in_program = true;
        }
        if !in_program && a == "-np" {
            OsString::from("--np")
        } else {
            a
        }
    })
    .collect()
}

fn run(command: Command) -> ExitCode {
    let result = match command {
        Command::Run(args) => launch::run(args),
        Command::Demo(args) => demo::main(args),
        Command::Bench(args) => bench::main(args),
        Command::Keygen(args) => keygen::main(args),
        Command::RingBench(args) => ring_bench::main(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("ternion: {e}");
        ExitCode::FAILURE
    })
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    // Parsed without clap's own exit, so that a guest's init reports a
    // usage error like any other failure.
    let code = match Cli::try_parse_from(mpirun_style_args(std::env::args_os())) {
        Ok(cli) => run(cli.command),
        Err(usage) => {
            let _ = usage.print();
            ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2))
        }
    };
    if ternion::guest::is_init() {
        // A guest whose init is this program (the hosted comparison under
        // QEMU): report like the in-kernel application does, then end the machine.
        let ok = code == ExitCode::SUCCESS;
        println!("ternion: init exited with code {}", if ok { 0 } else { 1 });
        ternion::guest::restart();
    }
    code
}
