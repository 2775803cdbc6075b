//! What TCP itself does across a profile, one choice at a time, with plain
//! TCP between two parties: so that what ternion sets on its sockets, and
//! what it asks of the hosts, rests on measurements.
//!
//! - socket buffers against the bandwidth-delay product: a bulk transfer
//!   with Linux's default limits (4 MiB to send, 6 MiB to receive) and with
//!   limits of one, two and four times the product;
//! - the congestion control: cubic (Linux's default) and BBR;
//! - several connections at once, against the profile's random loss;
//! - the window after an idle gap: a 4 MiB request and its one-byte answer
//!   back to back, and after a second of silence, with and without
//!   `tcp_slow_start_after_idle`, with cubic and with BBR.

use crate::netns::HostTcp;
use crate::network::Network;
use crate::profile::Profile;
use crate::verify;
use std::process::ExitCode;
use std::time::Duration;

/// One measurement: a host configuration and what is measured on it.
struct Case {
    what: String,
    host: HostTcp,
    test: Test,
}

enum Test {
    /// Bulk transfer over this many connections at once.
    Bulk { streams: usize },
    /// A request of this many bytes and a one-byte answer, back to back and
    /// after an idle gap.
    AfterIdle { bytes: usize, idle: Duration },
}

fn cases(profile: &Profile) -> Vec<Case> {
    let bdp = profile.bdp_bytes();
    let host = |congestion: &str, buffer_max: Option<u64>, slow_start_after_idle: bool| HostTcp {
        congestion: congestion.into(),
        buffer_max,
        slow_start_after_idle,
    };
    let bulk = |what: &str, host: HostTcp, streams: usize| Case {
        what: what.into(),
        host,
        test: Test::Bulk { streams },
    };
    let idle = |what: &str, host: HostTcp| Case {
        what: what.into(),
        host,
        test: Test::AfterIdle {
            bytes: 4 << 20,
            idle: Duration::from_secs(1),
        },
    };
    let big = Some(4 * bdp);
    vec![
        bulk("cubic, Linux's buffers", host("cubic", None, true), 1),
        bulk("cubic, buffers 1 x BDP", host("cubic", Some(bdp), true), 1),
        bulk(
            "cubic, buffers 2 x BDP",
            host("cubic", Some(2 * bdp), true),
            1,
        ),
        bulk("cubic, buffers 4 x BDP", host("cubic", big, true), 1),
        bulk("bbr, Linux's buffers", host("bbr", None, true), 1),
        bulk("bbr, buffers 2 x BDP", host("bbr", Some(2 * bdp), true), 1),
        bulk("bbr, buffers 4 x BDP", host("bbr", big, true), 1),
        bulk(
            "cubic, Linux's buffers, 4 connections",
            host("cubic", None, true),
            4,
        ),
        bulk(
            "cubic, buffers 4 x BDP, 4 connections",
            host("cubic", big, true),
            4,
        ),
        idle(
            "cubic, slow start after idle (Linux's default)",
            host("cubic", big, true),
        ),
        idle("cubic, window kept after idle", host("cubic", big, false)),
        idle("bbr, slow start after idle", host("bbr", big, true)),
    ]
}

/// Runs every case across `profile` and prints a table (or JSON).
pub fn measure(
    name: &str,
    profile: Profile,
    seconds: Duration,
    json: bool,
) -> Result<ExitCode, String> {
    let mut rows = Vec::new();
    let rate_mbit = profile.rate_bps as f64 / 1e6;
    // A 4 MiB request and its answer can take no less than a round trip
    // and the request's time on the link.
    let floor_ms =
        profile.mean_rtt().as_secs_f64() * 1e3 + (4u64 << 20) as f64 * 8.0 / rate_mbit / 1e3;
    for case in cases(&profile) {
        let net = Network::start(profile, &[], &case.host)
            .map_err(|e| format!("setting up the network: {e}"))?;
        let result = match case.test {
            Test::Bulk { streams } => verify::bulk_rate(&net.parties, streams, seconds)
                .map(|bps| (format!("{:.0} Mbit/s", bps / 1e6), vec![bps / 1e6])),
            Test::AfterIdle { bytes, idle } => verify::after_idle(&net.parties, bytes, idle, 5)
                .map(|(warm, idled)| {
                    let (w, i) = (warm.as_secs_f64() * 1e3, idled.as_secs_f64() * 1e3);
                    (
                        format!("{w:.1} ms back to back, {i:.1} ms after 1 s idle"),
                        vec![w, i],
                    )
                }),
        };
        net.stop(false).map_err(|e| e.to_string())?;
        let (text, values) = result.map_err(|e| format!("{}: {e}", case.what))?;
        if !json {
            println!("{name}: {:<48} {text}", case.what);
        }
        rows.push((case.what, values));
        if crate::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(ExitCode::from(130));
        }
    }
    if json {
        let cases: Vec<String> = rows
            .iter()
            .map(|(what, v)| {
                let values: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
                format!(
                    "{{\"case\": \"{what}\", \"values\": [{}]}}",
                    values.join(", ")
                )
            })
            .collect();
        println!(
            "{{\"profile\": {}, \"seconds\": {}, \"rate_mbit\": {rate_mbit}, \"request_floor_ms\": {floor_ms:.3}, \"cases\": [{}]}}",
            profile.json(name),
            seconds.as_secs_f64(),
            cases.join(", ")
        );
    } else {
        println!(
            "{name}: link {rate_mbit:.0} Mbit/s; a 4 MiB request and its answer take at least {floor_ms:.1} ms"
        );
    }
    Ok(ExitCode::SUCCESS)
}
