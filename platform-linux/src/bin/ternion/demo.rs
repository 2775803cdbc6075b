//! `ternion demo`: three local parties hold private inputs, compute on
//! secret shares over their standing links, and check the results.

use crate::launch::Job;
use std::process::ExitCode;
use ternion::Party;
use ternion_mpc::{demo_inputs, run_demo};

/// Arguments of `ternion demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Values in each party's private input.
    #[arg(long, default_value_t = 1000)]
    elements: usize,
    /// Seed of the private inputs (the protocol's own randomness is always fresh).
    #[arg(long, default_value_t = 2026)]
    input_seed: u64,
    /// Run as one party of a job (set by `ternion run`, or given as flags on
    /// each machine); without a rank, three local parties are started.
    #[command(flatten)]
    party: ternion::ConfigArgs,
}

fn party(args: DemoArgs, layer: ternion::ConfigLayer) -> Result<bool, String> {
    let config = layer.finish().map_err(|e| e.to_string())?;
    let p = Party::connect(&config).map_err(|e| e.to_string())?;
    let mut input_seed = [0u8; 32];
    input_seed[..8].copy_from_slice(&args.input_seed.to_le_bytes());
    let input = demo_inputs(input_seed, p.rank(), args.elements);
    let mut protocol_seed = [0u8; 32];
    getrandom::getrandom(&mut protocol_seed).map_err(|e| e.to_string())?;
    let report = run_demo(&mut &p, &input, protocol_seed).map_err(|e| e.to_string())?;
    if p.rank() == ternion::Rank::ZERO {
        println!("{report}");
    }
    for peer in p.rank().others() {
        let s = p.stats(peer);
        println!(
            "link {} -> {}: sent {} bytes in {} messages, received {} bytes in {} messages",
            p.rank().index(),
            peer.index(),
            s.bytes_sent,
            s.messages_sent,
            s.bytes_received,
            s.messages_received
        );
    }
    let correct = report.all_correct();
    println!(
        "{}",
        if correct {
            "all results correct"
        } else {
            "RESULTS WRONG"
        }
    );
    p.close().map_err(|e| e.to_string())?;
    Ok(correct)
}

/// `ternion demo`: as one party when given a rank (by `ternion run`'s
/// environment or a flag), else launches three local parties.
pub fn main(args: DemoArgs) -> Result<ExitCode, String> {
    let layer = args.party.merged().map_err(|e| e.to_string())?;
    if layer.rank.is_some() {
        return Ok(if party(args, layer)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let command = vec![
        exe.to_string_lossy().into_owned(),
        "demo".to_string(),
        format!("--elements={}", args.elements),
        format!("--input-seed={}", args.input_seed),
    ];
    Job::local()?.run(&[0, 1, 2], &command, false)
}
