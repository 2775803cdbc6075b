//! Where a party's time went: how long its program sat blocked in ternion's
//! waits, against the whole span from init to finalize, and what each link
//! carried. Reported at `MPI_Finalize` when [`USAGE_SWITCH`] is on, so that
//! a slow job can be split into time spent computing and time spent
//! waiting for the network (or for a slower peer), as an MPI profiler would.

use crate::backend::Backend;
use core::sync::atomic::{AtomicU64, Ordering};
use ternion_core::config::parse_switch;
use ternion_core::{Rank, PARTIES};

/// The environment variable that turns the report on (`1`, `on`, `true`).
pub const USAGE_SWITCH: &str = "TERNION_MPI_STATS";

/// Nanoseconds the program has spent blocked in waits. The C layer serves
/// one party per process (or kernel), so one counter serves it.
static BLOCKED_NANOS: AtomicU64 = AtomicU64::new(0);

/// Counts `seconds` spent blocked in a wait.
pub fn add_blocked(seconds: f64) {
    if seconds > 0.0 {
        BLOCKED_NANOS.fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }
}

/// Seconds spent blocked in waits so far.
pub fn blocked_seconds() -> f64 {
    BLOCKED_NANOS.load(Ordering::Relaxed) as f64 / 1e9
}

/// True if the party's environment asks for the report.
pub fn wanted<B: Backend>() -> bool {
    B::env(USAGE_SWITCH).is_some_and(|v| parse_switch(&v) == Some(true))
}

/// Prints the report: `since_init` seconds since init, the blocked share
/// of them, and each link's traffic, on one line short enough for a
/// kernel console's.
pub fn report<B: Backend>(party: &B, since_init: f64) {
    let blocked = blocked_seconds();
    let share = if since_init > 0.0 {
        100.0 * blocked / since_init
    } else {
        0.0
    };
    let mut links = alloc::string::String::new();
    for index in 0..PARTIES as u8 {
        let Some(peer) = Rank::new(index).filter(|&p| p != party.rank()) else {
            continue;
        };
        let s = party.stats(peer);
        links += &alloc::format!(
            "; to/from {peer}: {}/{} messages, {}/{} bytes",
            s.messages_sent,
            s.messages_received,
            s.bytes_sent,
            s.bytes_received
        );
    }
    B::report(format_args!(
        "ternion MPI: {} usage: {since_init:.3} s from MPI_Init to MPI_Finalize, \
         {blocked:.3} s ({share:.1}%) blocked waiting for messages{links}",
        party.rank()
    ));
}
