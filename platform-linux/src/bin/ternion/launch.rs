//! `ternion run`: starts the parties of a job with what they need to find
//! each other, forwards their output, stops them all if one fails, and
//! names the party where the failure started.

use crate::blame::{origin, Failure, Origin};
use crate::ephemeral_keys::EphemeralKeys;
use crate::private_dir::PrivateDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use ternion::config::{format_session, CONFIG_FILE};
use ternion::failure_report::{FailureReport, REPORT_FILE_ENV};
use ternion::{ConfigArgs, ConfigLayer};

/// How long the other parties get to notice a failed party and exit.
const GRACE: Duration = Duration::from_secs(15);

/// Arguments of `ternion run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Number of parties (ternion jobs have exactly 3).
    #[arg(short = 'n', long = "np", alias = "n", default_value_t = 3)]
    parties: usize,
    /// A file listing one `host:port` per rank, rank 0 first. Without it
    /// (and without --peers), free loopback ports are chosen.
    #[arg(long, conflicts_with = "peers")]
    hostfile: Option<PathBuf>,
    /// Forward output unprefixed (the program's own stdout stays machine-readable).
    #[arg(long, hide = true)]
    raw_output: bool,
    /// The parties' settings, handed to each as its `TERNION_*` variables.
    /// With --rank, only that rank starts here (for parties on different
    /// machines: every machine passes the same --session).
    #[command(flatten)]
    party: ConfigArgs,
    /// The program and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Everything needed to start the parties of a job here.
pub struct Job {
    /// Where each rank listens.
    peers: [String; 3],
    /// The session all parties share (`None`: each derives it from the peers).
    session: Option<String>,
    /// Fresh keys for a job whose parties all run here.
    keys: Option<EphemeralKeys>,
    /// Settings every party gets, over the keys above.
    settings: ConfigLayer,
    /// A configuration file every party reads under those settings.
    config_file: Option<PathBuf>,
    /// Where each party reports the peer whose failure made it fail.
    reports: PrivateDir,
}

impl Job {
    /// A job at `peers` with no session, keys or settings yet.
    fn at(peers: [String; 3]) -> Result<Job, String> {
        Ok(Job {
            peers,
            session: None,
            keys: None,
            settings: ConfigLayer::default(),
            config_file: None,
            reports: PrivateDir::create("run")?,
        })
    }

    /// A local job on three free loopback ports with a random session and fresh keys.
    pub fn local() -> Result<Job, String> {
        let listeners = (0..3)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("choosing local ports: {e}"))?;
        let peers: Vec<String> = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.to_string()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("choosing local ports: {e}"))?;
        let mut job = Job::at(peers.try_into().unwrap_or_default())?;
        job.make_local_session_and_keys()?;
        Ok(job)
    }

    /// A random session and fresh keys, for a job whose parties all run here.
    fn make_local_session_and_keys(&mut self) -> Result<(), String> {
        let mut session = [0u8; 16];
        getrandom::getrandom(&mut session).map_err(|e| e.to_string())?;
        self.session = Some(format_session(&session));
        self.keys = Some(EphemeralKeys::generate()?);
        Ok(())
    }

    fn report_file(&self, rank: usize) -> PathBuf {
        self.reports.join(&format!("rank{rank}.failure"))
    }

    /// Starts `command` as `rank`, with its output piped to us and its
    /// configuration in its `TERNION_*` variables.
    fn spawn(&self, rank: usize, command: &[String]) -> std::io::Result<Child> {
        let keys = self
            .keys
            .as_ref()
            .map_or_else(ConfigLayer::default, |keys| ConfigLayer {
                private_key_file: Some(keys.file(rank).clone()),
                public_keys: Some(keys.public_keys()),
                ..ConfigLayer::default()
            });
        let identity = ConfigLayer {
            rank: u8::try_from(rank).ok(),
            peers: Some(self.peers.to_vec()),
            session: self.session.clone(),
            ..ConfigLayer::default()
        };
        let party = keys
            .overridden_by(self.settings.clone())
            .overridden_by(identity);
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..])
            .envs(party.to_vars())
            .env(REPORT_FILE_ENV, self.report_file(rank))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(file) = &self.config_file {
            cmd.env(CONFIG_FILE, file);
        }
        cmd.spawn()
    }

    /// Starts `command` as each of `ranks` and supervises them (see [`Job::supervise`]).
    pub fn run(&self, ranks: &[usize], command: &[String], raw: bool) -> Result<ExitCode, String> {
        let mut children = Vec::new();
        for &rank in ranks {
            let child = self
                .spawn(rank, command)
                .map_err(|e| format!("starting {:?} as rank {rank}: {e}", command[0]))?;
            children.push((rank, child));
        }
        Ok(self.supervise(children, raw))
    }

    /// What `rank` reported, if it wrote a report.
    fn report(&self, rank: usize) -> Option<FailureReport> {
        let text = std::fs::read_to_string(self.report_file(rank)).ok()?;
        FailureReport::parse(&text)
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

impl Job {
    /// Waits for the children; once one fails, gives the others [`GRACE`]
    /// to exit on their own, then kills them. Returns the job's exit code:
    /// that of the party where the failure started.
    ///
    /// Each child has a thread blocked in `wait`, so exits are seen as they
    /// happen; their order alone does not name the origin (see [`origin`]).
    fn supervise(&self, children: Vec<(usize, Child)>, raw: bool) -> ExitCode {
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
        let mut failures: Vec<Failure> = Vec::new();
        let mut deadline: Option<Instant> = None;
        while !running.is_empty() {
            let wait = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
            match exits.recv_timeout(wait) {
                Ok((rank, status)) => {
                    running.retain(|&(r, _)| r != rank);
                    let (code, how) = match status {
                        Ok(s) if s.success() => continue,
                        Ok(s) => match s.code() {
                            Some(c) => (c, format!("exited with code {c}")),
                            None => (1, format!("was killed ({s})")),
                        },
                        Err(e) => (1, format!("could not be waited for: {e}")),
                    };
                    let report = self.report(rank);
                    match &report {
                        Some(r) => eprintln!(
                            "ternion run: rank {rank} {how} after its link to {} failed: {}",
                            r.peer, r.reason
                        ),
                        None => eprintln!("ternion run: rank {rank} {how}"),
                    }
                    failures.push(Failure {
                        rank,
                        code,
                        how,
                        report,
                    });
                    deadline.get_or_insert_with(|| Instant::now() + GRACE);
                }
                Err(_) => {
                    for &(rank, pid) in &running {
                        eprintln!(
                            "ternion run: stopping rank {rank}, still running {}s after the failure",
                            GRACE.as_secs()
                        );
                        kill(pid);
                    }
                    deadline = Some(Instant::now() + Duration::from_secs(3600));
                }
            }
        }
        for f in forwarders {
            let _ = f.join();
        }
        let (code, origin) = match origin(&failures) {
            None => return ExitCode::SUCCESS,
            Some(Origin::Here(f)) => (f.code, format!("rank {}, which {}", f.rank, f.how)),
            Some(Origin::Elsewhere { rank, named_by }) => (
                failures[0].code,
                format!(
                    "rank {rank}, whose link to rank {} failed{}",
                    named_by.rank,
                    named_by
                        .report
                        .as_ref()
                        .map_or(String::new(), |r| format!(": {}", r.reason))
                ),
            ),
        };
        let code = u8::try_from(code).ok().filter(|&c| c != 0).unwrap_or(1);
        eprintln!("ternion run: job failed with exit code {code}; the failure started at {origin}");
        ExitCode::from(code)
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
    let mut settings = args.party.layer.clone();
    let rank = settings.rank.take();
    let session = settings.session.take();
    let peers = settings.peers.take();
    let mut job =
        match (&args.hostfile, peers) {
            (Some(path), _) => Job::at(read_hostfile(path)?)?,
            (None, Some(peers)) => {
                let n = peers.len();
                Job::at(
                    peers
                        .try_into()
                        .map_err(|_| format!("--peers lists {n} addresses, not 3"))?,
                )?
            }
            (None, None) if rank.is_some() => return Err(
                "--rank starts one party of a job across machines: it needs --hostfile or --peers"
                    .into(),
            ),
            (None, None) => Job::local()?,
        };
    if session.is_some() {
        job.session = session;
    } else if rank.is_none() && job.keys.is_none() {
        // All three ranks run here: a fresh session and fresh keys, as for
        // a local job. (A rank started alone takes its keys from its own
        // configuration.)
        job.make_local_session_and_keys()?;
    }
    job.settings = settings;
    job.config_file = args.party.file.clone();
    let ranks: Vec<usize> = match rank {
        Some(r) if r < 3 => vec![usize::from(r)],
        Some(r) => return Err(format!("rank {r} is not 0, 1 or 2")),
        None => vec![0, 1, 2],
    };
    job.run(&ranks, &args.command, args.raw_output)
}
