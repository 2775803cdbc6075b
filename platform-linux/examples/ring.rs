//! A ring of exchanges, the communication pattern of replicated secret
//! sharing: run it with `ternion run -n 3 -- target/debug/examples/ring 1000`.
//!
//! Setting `RING_CRASH_RANK=r` makes rank `r` exit abruptly half-way, to show
//! how the other parties fail (with an error naming it) instead of hanging.
//! `RING_SIGNAL_RANK=r` with `RING_SIGNAL=KILL` (or `STOP`) instead sends
//! rank `r` that signal half-way: killed, its connections close; stopped,
//! they stay open and fall silent, which only the liveness deadline detects.

use std::process::ExitCode;
use ternion::Party;

fn main() -> ExitCode {
    env_logger::init();
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let rank_from =
        |name: &str| -> Option<usize> { std::env::var(name).ok().and_then(|v| v.parse().ok()) };
    let crash_rank = rank_from("RING_CRASH_RANK");
    let signal_rank = rank_from("RING_SIGNAL_RANK");
    let signal = std::env::var("RING_SIGNAL").unwrap_or_else(|_| String::from("KILL"));
    let party = match Party::from_env() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ring: cannot connect: {e}");
            return ExitCode::from(2);
        }
    };
    let me = party.rank().index() as u64;
    let mut value = me;
    for round in 0..rounds {
        if crash_rank == Some(me as usize) && round == rounds / 2 {
            eprintln!("ring: rank {me} crashing on purpose at round {round}");
            std::process::exit(7);
        }
        if signal_rank == Some(me as usize) && round == rounds / 2 {
            eprintln!("ring: rank {me} sending itself SIG{signal} at round {round}");
            let sent = std::process::Command::new("kill")
                .args([format!("-{signal}"), std::process::id().to_string()])
                .status();
            eprintln!("ring: rank {me} survived SIG{signal} ({sent:?})");
            return ExitCode::from(4);
        }
        // Each party passes its value to its predecessor: after r rounds a
        // party holds the start value of the party r places after it, plus r.
        value = match party.exchange_value(value + 1) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("ring: rank {me} round {round}: {e}");
                return ExitCode::from(3);
            }
        };
    }
    let expected = (me + rounds) % 3 + rounds;
    println!("rank {me}: value {value} after {rounds} rounds (expected {expected})");
    if let Err(e) = party.barrier().and_then(|()| party.close()) {
        eprintln!("ring: rank {me} closing: {e}");
        return ExitCode::from(3);
    }
    if value == expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
