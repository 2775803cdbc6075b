//! The `ternion` command: run programs as three parties, the demo, the benchmark.

mod bench;
mod demo;
mod ephemeral_keys;
mod keygen;
mod launch;

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

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse_from(mpirun_style_args(std::env::args_os()));
    let result = match cli.command {
        Command::Run(args) => launch::run(args),
        Command::Demo(args) => demo::main(args),
        Command::Bench(args) => bench::main(args),
        Command::Keygen(args) => keygen::main(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ternion: {e}");
            ExitCode::FAILURE
        }
    }
}
