//! Whole jobs as processes, through `ternion run` and the subcommands.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ternion() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ternion"))
}

/// The `ring` example, built by `cargo test` next to the binaries.
fn ring() -> String {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_ternion"));
    let path = exe.parent().unwrap().join("examples").join("ring");
    assert!(
        path.exists(),
        "build the example first: cargo build --examples"
    );
    path.to_string_lossy().into_owned()
}

/// A hostfile with three loopback ports that were free a moment ago.
fn hostfile(name: &str, header: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ternion-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hosts");
    let ports: Vec<String> = (0..3)
        .map(|_| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().to_string()
        })
        .collect();
    std::fs::write(&path, format!("{header}{}\n", ports.join("\n"))).unwrap();
    path
}

/// Key pairs made with `ternion keygen`: the private key files and the
/// comma-separated public keys, as a party's configuration lists them.
struct Keys {
    files: Vec<PathBuf>,
    public: String,
}

fn keygen(dir: &Path) -> Keys {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    let mut public = Vec::new();
    for rank in 0..3 {
        let file = dir.join(format!("rank{rank}.key"));
        let _ = std::fs::remove_file(&file);
        let out = ternion()
            .args(["keygen", "--out", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
        public.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
        files.push(file);
    }
    // An existing key is never overwritten.
    let again = ternion()
        .args(["keygen", "--out", files[0].to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    Keys {
        files,
        public: public.join(","),
    }
}

impl Keys {
    /// Gives `cmd` the keys of `rank`.
    fn apply<'a>(&self, cmd: &'a mut Command, rank: usize) -> &'a mut Command {
        cmd.env("TERNION_PRIVATE_KEY_FILE", &self.files[rank])
            .env("TERNION_PUBLIC_KEYS", &self.public)
    }
}

/// Starts one rank of a hostfile job running the ring example for `rounds`.
fn start_rank(hosts: &Path, keys: &Keys, rank: usize, rounds: &str) -> Command {
    let mut cmd = ternion();
    keys.apply(&mut cmd, rank);
    cmd.args([
        "run",
        "--hostfile",
        hosts.to_str().unwrap(),
        "--rank",
        &rank.to_string(),
        "--",
        &ring(),
        rounds,
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_starts_three_parties_and_prefixes_their_output() {
    for flag in ["-n", "-np"] {
        let out = ternion()
            .args(["run", flag, "3", "--", &ring(), "500"])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        for rank in 0..3 {
            let expected = (rank + 500) % 3 + 500;
            assert!(
                stdout.contains(&format!(
                    "[{rank}] rank {rank}: value {expected} after 500 rounds"
                )),
                "{stdout}"
            );
        }
    }
}

/// Runs the ring example under `ternion run` with `env`, expects the job
/// to fail, and returns its standard error.
fn failed_ring_job(rounds: &str, env: &[(&str, &str)]) -> String {
    let out = ternion()
        .args(["run", "-n", "3", "--", &ring(), rounds])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    stderr
}

/// Both survivors stop with an error that names rank 1, not a hang.
fn assert_survivors_name_rank_1(stderr: &str) {
    for rank in [0, 2] {
        assert!(
            stderr.contains(&format!("[{rank}] ring: rank {rank} round")),
            "{stderr}"
        );
    }
    assert!(stderr.contains("link to rank 1"), "{stderr}");
}

/// Two threads that keep both cores busy until dropped, so that the
/// parties' exits race as they do on a loaded machine.
struct CpuHogs {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHogs {
    fn start() -> CpuHogs {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..2)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        CpuHogs { stop, threads }
    }
}

impl Drop for CpuHogs {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn a_party_that_dies_fails_the_job_naming_it() {
    // A survivor can exit before the party that died; the launcher must
    // still name the dead one. Repeated beside two CPU hogs, where that
    // race is common.
    // (At the default peer timeout: starved of CPU, parties can fall
    // silent for a second or more.)
    let _hogs = CpuHogs::start();
    for _ in 0..3 {
        let stderr = failed_ring_job("2000", &[("RING_CRASH_RANK", "1")]);
        assert!(
            stderr.contains("ternion run: rank 1 exited with code 7"),
            "{stderr}"
        );
        assert_survivors_name_rank_1(&stderr);
        assert!(
            stderr.contains("after its link to rank 1 failed"),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "job failed with exit code 7; the failure started at rank 1, which exited with code 7"
            ),
            "{stderr}"
        );
    }
}

#[test]
fn a_killed_party_fails_the_job_naming_it() {
    let stderr = failed_ring_job(
        "200000",
        &[("RING_SIGNAL_RANK", "1"), ("RING_SIGNAL", "KILL")],
    );
    assert!(
        stderr.contains("ternion run: rank 1 was killed"),
        "{stderr}"
    );
    // Its connections closed with it: both others name it at once.
    assert_survivors_name_rank_1(&stderr);
}

#[test]
fn a_frozen_party_is_named_at_the_liveness_deadline() {
    let stderr = failed_ring_job(
        "200000",
        &[
            ("RING_SIGNAL_RANK", "1"),
            ("RING_SIGNAL", "STOP"),
            ("TERNION_PEER_TIMEOUT_MS", "1500"),
        ],
    );
    // Stopped, rank 1 keeps its connections open and silent: only the
    // deadline can tell. Rank 0 waits on rank 1 directly; rank 2 waits on
    // rank 0, or on rank 1 if it got there first.
    assert!(
        stderr.contains("[0] ring: rank 0 round")
            && stderr.contains("link to rank 1: peer sent nothing for 1500 ms"),
        "{stderr}"
    );
    // The launcher ends the frozen party once the others have failed.
    assert!(stderr.contains("ternion run: stopping rank 1"), "{stderr}");
}

#[test]
fn a_party_that_never_comes_is_named() {
    let hosts = hostfile("never", "");
    let keys = keygen(&hosts.with_file_name("keys"));
    // Only ranks 0 and 1 start; rank 2 never does.
    let children: Vec<_> = (0..2)
        .map(|rank| {
            start_rank(&hosts, &keys, rank, "10")
                .env("TERNION_CONNECT_TIMEOUT_MS", "1500")
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(stderr.contains("rank 2 never connected"), "{stderr}");
    }
}

#[test]
fn ranks_started_separately_from_one_hostfile_form_a_job() {
    let hosts = hostfile("hostfile", "# rank 0 first\n");
    let keys = keygen(&hosts.with_file_name("keys"));
    // Start in reverse order: connection set-up must not depend on it.
    let children: Vec<_> = (0..3)
        .rev()
        .map(|rank| start_rank(&hosts, &keys, rank, "300").spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("after 300 rounds"), "{stdout}");
    }
}

#[test]
fn demo_checks_every_result() {
    let out = ternion()
        .args(["demo", "--elements", "200"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("[0] all 4 computations correct"),
        "{stdout}"
    );
    for rank in 0..3 {
        assert!(
            stdout.contains(&format!("[{rank}] all results correct")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("[0] link 0 -> 1: sent"), "{stdout}");
}

#[test]
fn bench_quick_reports_every_workload_as_json() {
    let out = ternion()
        .args(["bench", "--quick", "--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(report["system"], "ternion");
    for key in ["latency_8b", "rounds_64x1m", "open_1m", "overlap"] {
        assert!(report[key].is_object(), "{key} missing: {stdout}");
    }
    assert_eq!(report["throughput"].as_array().unwrap().len(), 6);
    assert!(report["latency_8b"]["mean_us"].as_f64().unwrap() > 0.0);
}

#[test]
fn parties_configured_by_flags_alone_form_a_job() {
    let hosts_file = hostfile("flags", "");
    let keys = keygen(&hosts_file.with_file_name("keys"));
    let hosts = std::fs::read_to_string(&hosts_file).unwrap();
    let peers = hosts.trim().replace('\n', ",");
    let children: Vec<_> = (0..3)
        .map(|rank| {
            ternion()
                .args([
                    "demo",
                    "--elements",
                    "20",
                    "--rank",
                    &rank.to_string(),
                    "--peers",
                    &peers,
                ])
                .args(["--session", "0123456789abcdef0123456789abcdef"])
                .args(["--private-key-file", keys.files[rank].to_str().unwrap()])
                .args(["--public-keys", &keys.public])
                .env_remove("TERNION_RANK")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("all results correct"), "{stdout}");
    }
}
