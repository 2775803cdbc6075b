//! `ternion-wan`: three parties in three network namespaces, joined by an
//! emulated wide-area network that works on IP packets (TUN devices), so
//! any TCP program runs across it unchanged: ternion, OpenMPI, the raw TCP
//! and TLS benchmarks.
//!
//! ```text
//! ternion-wan run --profile cross-region -- ./script.sh
//! ternion-wan verify --profile all
//! ternion-wan show --profile intercontinental
//! ternion-wan tcp --profile cross-region
//! ```
//!
//! `run` makes the namespaces, starts the emulator and runs the command on
//! the host with `TERNION_WAN_NS_<rank>` (the namespace, for `ip netns
//! exec`) and `TERNION_WAN_ADDR_<rank>` (the party's address) set; it
//! deletes the namespaces when the command ends or on Ctrl-C, and exits
//! with the command's status. `verify` measures each profile's round trip
//! and rate and checks them against the profile, within 10%. `show` prints
//! a profile's parameters as JSON. `tcp` measures what TCP itself does
//! across a profile (buffers against the bandwidth-delay product,
//! congestion control, several connections, the window after an idle
//! second): the measurements behind ternion's TCP choices. Each namespace's
//! TCP starts at Linux's defaults, whatever the host's sysctls say; `run`'s
//! `--congestion`, `--tcp-buffer-max` and `--keep-window-after-idle`
//! change them.

mod netns;
mod network;
mod path;
mod profile;
mod switch;
mod tuning;
mod verify;

use clap::{Parser, Subcommand};
use netns::HostTcp;
use network::Network;
use profile::Profile;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switch::Outage;

#[derive(Parser)]
#[command(about = "An emulated wide-area network between three network namespaces")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
struct PathArgs {
    /// region (1 ms, 10 Gbit/s), cross-region (20 ± 2 ms, 1 Gbit/s, 0.01% loss)
    /// or intercontinental (80 ms, 500 Mbit/s, 0.1% loss)
    #[arg(long, default_value = "cross-region")]
    profile: String,
    /// Replaces the profile's round trip, in milliseconds.
    #[arg(long)]
    rtt_ms: Option<f64>,
    /// Replaces the profile's loss, in percent.
    #[arg(long)]
    loss_percent: Option<f64>,
    /// Replaces the profile's rate, in Mbit/s.
    #[arg(long)]
    rate_mbit: Option<u64>,
}

/// How the parties' kernels run TCP (each is a fresh Linux's default
/// unless given).
#[derive(clap::Args, Clone)]
struct HostArgs {
    /// The congestion control of every connection (Linux's default: cubic).
    #[arg(long, default_value = "cubic")]
    congestion: String,
    /// The largest send and receive buffers TCP's autotuning may grow to,
    /// in bytes (Linux's defaults: 4 MiB to send, 6 MiB to receive).
    #[arg(long)]
    tcp_buffer_max: Option<u64>,
    /// Keep the congestion window over idle gaps
    /// (net.ipv4.tcp_slow_start_after_idle=0).
    #[arg(long)]
    keep_window_after_idle: bool,
}

impl HostArgs {
    fn host(&self) -> HostTcp {
        HostTcp {
            congestion: self.congestion.clone(),
            buffer_max: self.tcp_buffer_max,
            slow_start_after_idle: !self.keep_window_after_idle,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs a command with the network up; the namespaces go when it ends.
    Run {
        #[command(flatten)]
        path: PathArgs,
        #[command(flatten)]
        host: HostArgs,
        /// RANK:START_S:LENGTH_S — every path to and from RANK is down from
        /// START_S seconds after the start, for LENGTH_S seconds.
        #[arg(long, value_parser = parse_outage)]
        outage: Vec<Outage>,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
    },
    /// Prints a profile's parameters as one JSON object, the physical floor
    /// a benchmark's figures are held against.
    Show {
        #[command(flatten)]
        path: PathArgs,
    },
    /// Measures TCP's own choices across a profile, one at a time: buffer
    /// sizes against the bandwidth-delay product, the congestion control,
    /// several connections at once, and the window after an idle gap.
    Tcp {
        #[command(flatten)]
        path: PathArgs,
        /// Seconds of bulk transfer per case.
        #[arg(long, default_value_t = 6.0)]
        seconds: f64,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Checks each profile's round trip and rate (within 10%).
    Verify {
        /// A profile name, or `all`.
        #[arg(long, default_value = "all")]
        profile: String,
        /// Seconds of bulk transfer per profile.
        #[arg(long, default_value_t = 4.0)]
        seconds: f64,
    },
}

fn parse_outage(s: &str) -> Result<Outage, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let [rank, start, length] = parts[..] else {
        return Err(format!("`{s}` is not RANK:START_S:LENGTH_S"));
    };
    let party: usize = rank.parse().map_err(|_| format!("bad rank `{rank}`"))?;
    if party > 2 {
        return Err(format!("rank {party} is not 0, 1 or 2"));
    }
    let secs = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or(format!("bad seconds `{v}`"))
    };
    Ok(Outage {
        party,
        start: secs(start)?,
        length: secs(length)?,
    })
}

impl PathArgs {
    fn profile(&self) -> Result<Profile, String> {
        let mut p = Profile::named(&self.profile).ok_or(format!(
            "unknown profile `{}` (one of {})",
            self.profile,
            Profile::NAMES.join(", ")
        ))?;
        if let Some(rtt) = self.rtt_ms {
            p.delay = Duration::from_secs_f64(rtt / 2000.0);
            p.jitter = Duration::ZERO;
        }
        if let Some(loss) = self.loss_percent {
            p.loss = loss / 100.0;
        }
        if let Some(rate) = self.rate_mbit {
            p.rate_bps = rate * 1_000_000;
        }
        Ok(p)
    }
}

/// Set by SIGINT, SIGTERM or SIGHUP, so the namespaces are deleted on the way out.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

/// Asks the command to stop (SIGTERM, so it can stop what it started),
/// and kills it if it is still running 5 s later.
fn stop(child: &mut std::process::Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill takes a pid and a signal number, no pointers.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn run(
    path: &PathArgs,
    host: &HostArgs,
    outages: &[Outage],
    command: &[String],
) -> Result<ExitCode, String> {
    let profile = path.profile()?;
    catch_signals();
    let net = Network::start(profile, outages, &host.host())
        .map_err(|e| format!("setting up the network: {e}"))?;
    let mut child = Command::new(&command[0]);
    child.args(&command[1..]);
    for rank in 0..3 {
        child.env(format!("TERNION_WAN_NS_{rank}"), net.parties.name(rank));
        child.env(format!("TERNION_WAN_ADDR_{rank}"), netns::address(rank));
    }
    let status = match child.spawn() {
        Ok(mut child) => loop {
            if INTERRUPTED.load(Ordering::SeqCst) {
                stop(&mut child);
                break None;
            }
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    eprintln!("ternion-wan: waiting for the command: {e}");
                    break None;
                }
            }
        },
        Err(e) => {
            eprintln!("ternion-wan: cannot start `{}`: {e}", command[0]);
            None
        }
    };
    net.stop(true)
        .map_err(|e| format!("the emulator failed: {e}"))?;
    Ok(match status.and_then(|s| s.code()) {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(code.clamp(1, 255) as u8),
        None => ExitCode::from(130),
    })
}

/// Whether `measured` is within 10% of `expected`.
fn within_ten_percent(measured: f64, expected: f64) -> bool {
    (measured - expected).abs() <= 0.1 * expected
}

fn verify(which: &str, seconds: f64) -> Result<ExitCode, String> {
    let names: Vec<&str> = match which {
        "all" => Profile::NAMES.to_vec(),
        name => vec![name],
    };
    catch_signals();
    let mut failed = 0;
    for name in names {
        let profile = Profile::named(name).ok_or(format!("unknown profile `{name}`"))?;
        // The round trip with the profile as it is; the rate without loss,
        // which would otherwise measure TCP's answer to loss, not the link.
        let lossless = Profile {
            loss: 0.0,
            ..profile
        };
        // Buffers that hold the path's bandwidth-delay product four times
        // over: what is measured is the link, not the host.
        let tcp = HostTcp {
            buffer_max: Some((profile.bdp_bytes() * 4).max(8 << 20)),
            ..HostTcp::default()
        };
        for (what, p) in [("rtt", profile), ("rate", lossless)] {
            let net =
                Network::start(p, &[], &tcp).map_err(|e| format!("setting up the network: {e}"))?;
            let (measured, expected, unit) = if what == "rtt" {
                let rtt = verify::round_trip(&net.parties, 200).map_err(|e| e.to_string())?;
                (
                    rtt.as_secs_f64() * 1e3,
                    p.mean_rtt().as_secs_f64() * 1e3,
                    "ms",
                )
            } else {
                let rate = verify::bulk_rate(&net.parties, 1, Duration::from_secs_f64(seconds))
                    .map_err(|e| e.to_string())?;
                (rate / 1e6, p.rate_bps as f64 / 1e6, "Mbit/s")
            };
            net.stop(false).map_err(|e| e.to_string())?;
            let ok = within_ten_percent(measured, expected);
            failed += usize::from(!ok);
            println!(
                "{} {name} {what}: measured {measured:.2} {unit}, profile {expected:.2} {unit}",
                if ok { "PASS" } else { "FAIL" }
            );
            if INTERRUPTED.load(Ordering::SeqCst) {
                return Ok(ExitCode::from(130));
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Cmd::Run {
            path,
            host,
            outage,
            command,
        } => run(path, host, outage, command),
        Cmd::Tcp {
            path,
            seconds,
            json,
        } => path.profile().and_then(|p| {
            catch_signals();
            tuning::measure(&path.profile, p, Duration::from_secs_f64(*seconds), *json)
        }),
        Cmd::Show { path } => path.profile().map(|p| {
            println!("{}", p.json(&path.profile));
            ExitCode::SUCCESS
        }),
        Cmd::Verify { profile, seconds } => verify(profile, *seconds),
    };
    result.unwrap_or_else(|e| {
        eprintln!("ternion-wan: {e}");
        ExitCode::from(2)
    })
}
