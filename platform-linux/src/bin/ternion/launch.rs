//! `ternion run`: starts the parties of a job with what they need to find
//! each other, forwards their output, and stops them all if one fails.

use crate::ephemeral_keys::EphemeralKeys;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use ternion::config::format_session;

/// How long the other parties get to notice a failed party and exit.
const GRACE: Duration = Duration::from_secs(15);

/// Arguments of `ternion run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Number of parties (ternion jobs have exactly 3).
    #[arg(short = 'n', long = "np", alias = "n", default_value_t = 3)]
    parties: usize,
    /// A file listing one `host:port` per rank, rank 0 first. Without it,
    /// free loopback ports are chosen.
    #[arg(long)]
    hostfile: Option<PathBuf>,
    /// Start only this rank (for parties on different machines; needs --hostfile).
    #[arg(long, requires = "hostfile")]
    rank: Option<u8>,
    /// Session identifier (32 hex digits). Random for local runs; with
    /// --rank, every machine must pass the same value.
    #[arg(long)]
    session: Option<String>,
    /// Forward output unprefixed (the program's own stdout stays machine-readable).
    #[arg(long, hide = true)]
    raw_output: bool,
    /// The program and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Everything needed to start one party.
pub struct Job {
    /// Where each rank listens.
    pub peers: [String; 3],
    /// The session all parties share.
    pub session: String,
    /// Fresh keys for a job whose parties all run here.
    pub keys: Option<EphemeralKeys>,
}

impl Job {
    /// A local job on three free loopback ports with a random session.
    pub fn local() -> std::io::Result<Job> {
        let listeners = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()?;
        let peers: Vec<String> = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.to_string()))
            .collect::<Result<_, _>>()?;
        let mut session = [0u8; 16];
        getrandom::getrandom(&mut session).map_err(std::io::Error::other)?;
        Ok(Job {
            peers: peers.try_into().unwrap_or_default(),
            session: format_session(&session),
            keys: Some(EphemeralKeys::generate().map_err(std::io::Error::other)?),
        })
    }

    /// Starts `command` as `rank`, with its output piped to us.
    pub fn spawn(&self, rank: usize, command: &[String]) -> std::io::Result<Child> {
        let mut cmd = Command::new(&command[0]);
        if let Some(keys) = &self.keys {
            cmd.env("TERNION_PRIVATE_KEY_FILE", keys.file(rank))
                .env("TERNION_PUBLIC_KEYS", keys.public_list());
        }
        cmd.args(&command[1..])
            .env("TERNION_RANK", rank.to_string())
            .env("TERNION_PEERS", self.peers.join(","))
            .env("TERNION_SESSION", &self.session)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    }
}

fn read_hostfile(path: &PathBuf) -> Result<[String; 3], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let hosts: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    hosts.try_into().map_err(|h: Vec<String>| {
        format!(
            "{}: expected 3 host:port lines, found {}",
            path.display(),
            h.len()
        )
    })
}

/// Copies a child's stream to ours, line by line, with a rank prefix.
fn forward(
    stream: impl Read + Send + 'static,
    rank: usize,
    to_stderr: bool,
    raw: bool,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            let mut out: Box<dyn Write> = if to_stderr {
                Box::new(std::io::stderr().lock())
            } else {
                Box::new(std::io::stdout().lock())
            };
            if !raw {
                let _ = write!(out, "[{rank}] ");
            }
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\n");
        }
    })
}

/// Ends a child that outlived the grace period.
fn kill(pid: u32) {
    // SAFETY: kill(2) takes no pointers; `pid` is a child we started and
    // have not reaped (its waiting thread has not reported it).
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// Waits for the children; once one fails, gives the others [`GRACE`] to
/// exit on their own, then kills them. Returns the job's exit code.
///
/// Each child has a thread blocked in `wait`, so exits are seen in the order
/// they happen and the party that failed first is named correctly.
pub fn supervise(children: Vec<(usize, Child)>, raw: bool) -> ExitCode {
    let (exited, exits) = std::sync::mpsc::channel();
    let mut forwarders = Vec::new();
    let mut running = Vec::new();
    for (rank, mut child) in children {
        if let Some(out) = child.stdout.take() {
            forwarders.push(forward(out, rank, false, raw));
        }
        if let Some(err) = child.stderr.take() {
            forwarders.push(forward(err, rank, true, raw));
        }
        running.push((rank, child.id()));
        let exited = exited.clone();
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = exited.send((rank, status));
        });
    }
    let mut first_failure: Option<(usize, i32)> = None;
    let mut deadline: Option<Instant> = None;
    while !running.is_empty() {
        let wait = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        match exits.recv_timeout(wait) {
            Ok((rank, status)) => {
                running.retain(|&(r, _)| r != rank);
                let (failed, code, how) = match status {
                    Ok(s) if s.success() => (false, 0, String::new()),
                    Ok(s) => match s.code() {
                        Some(c) => (true, c, format!("exited with code {c}")),
                        None => (true, 1, format!("was killed ({s})")),
                    },
                    Err(e) => (true, 1, format!("could not be waited for: {e}")),
                };
                if failed {
                    eprintln!("ternion run: rank {rank} {how}");
                    if first_failure.is_none() {
                        first_failure = Some((rank, code));
                        deadline = Some(Instant::now() + GRACE);
                    }
                }
            }
            Err(_) => {
                for &(rank, pid) in &running {
                    eprintln!(
                        "ternion run: stopping rank {rank}, still running {}s after the failure",
                        GRACE.as_secs()
                    );
                    kill(pid);
                }
                deadline = None;
            }
        }
    }
    for f in forwarders {
        let _ = f.join();
    }
    match first_failure {
        None => ExitCode::SUCCESS,
        Some((rank, code)) => {
            eprintln!(
                "ternion run: job failed with exit code {code}; rank {rank} was the first to exit"
            );
            ExitCode::from(u8::try_from(code).ok().filter(|&c| c != 0).unwrap_or(1))
        }
    }
}

/// `ternion run`.
pub fn run(args: RunArgs) -> Result<ExitCode, String> {
    if args.parties != 3 {
        return Err(format!(
            "ternion jobs have exactly 3 parties, not {}",
            args.parties
        ));
    }
    let mut job = match &args.hostfile {
        Some(path) => Job {
            peers: read_hostfile(path)?,
            session: String::new(),
            keys: None,
        },
        None => Job::local().map_err(|e| format!("choosing local ports: {e}"))?,
    };
    if let Some(session) = &args.session {
        job.session = session.clone();
    } else if args.hostfile.is_some() && args.rank.is_none() {
        // All three ranks run here: a fresh session and fresh keys, as for
        // a local job. (A rank started alone takes its keys from its own
        // configuration.)
        let local = Job::local().map_err(|e| e.to_string())?;
        job.session = local.session;
        job.keys = local.keys;
    }
    let ranks: Vec<usize> = match args.rank {
        Some(r) if r < 3 => vec![r as usize],
        Some(r) => return Err(format!("rank {r} is not 0, 1 or 2")),
        None => vec![0, 1, 2],
    };
    let mut children = Vec::new();
    for rank in ranks {
        let child = job
            .spawn(rank, &args.command)
            .map_err(|e| format!("starting {:?} as rank {rank}: {e}", args.command[0]))?;
        children.push((rank, child));
    }
    Ok(supervise(children, args.raw_output))
}
