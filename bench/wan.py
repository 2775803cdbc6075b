#!/usr/bin/env python3
"""The wide-area benchmark's runs, inside `ternion-wan run` (scripts/bench.sh
--wan starts it there).

    wan.py run --profile P --runs N --out DIR --ternion PATH --bench-dir DIR
               [--secrecy-builds DIR] [--quick]
    wan.py rsh-agent HOST COMMAND      (OpenMPI's launch agent, see below)

Every party runs in its own network namespace, reached only through the
emulator: `ternion-wan run` names them in TERNION_WAN_NS_<rank> and their
addresses in TERNION_WAN_ADDR_<rank>. Each system starts its three ranks the
way it would on three hosts:

  - ternion (encrypted) and ternion_plain: the MPI benchmark program built
    with ternion-mpicc, each rank started by `ip netns exec` with the
    TERNION_* settings `ternion run` gives a party (fresh keys per profile,
    a fresh session per run);
  - openmpi_tcp: the same program built with OpenMPI's mpicc, started by
    mpirun in rank 0's namespace with the three addresses as hosts; mpirun
    starts its daemons on "hosts" 1 and 2 through this script's rsh-agent,
    which runs the daemon in the namespace that has that address;
  - raw_tcp and openssl_tls: each rank started on its own (BENCH_RANK,
    BENCH_PEERS; bench/tcp_mesh.h).

`run` runs every system N times, interleaved, each with `--wan` (the
workloads of bench/wan.h), then Secrecy's experiments of SECRECY_WAN on
ternion, ternion_plain and OpenMPI, interleaved, when --secrecy-builds is
given. It writes DIR/runs/<system>-<i>.json (rank 0's JSON), their logs,
DIR/secrecy.json and, once all is done, DIR/run.json (when, how many runs,
quick or not). A run that fails or times out stops the benchmark.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import secrecy  # noqa: E402  (Secrecy's elapsed times and its results file)

# ternion_cubic is ternion encrypted on the host's congestion control
# (TERNION_TCP_CONGESTION=system: CUBIC in the emulator's namespaces, as
# every other system uses), to tell what BBR brings from what the rest of
# ternion does.
SYSTEMS = ["ternion", "ternion_plain", "ternion_cubic", "openmpi_tcp", "raw_tcp", "openssl_tls"]
SECRECY_SYSTEMS = ["ternion", "ternion_plain", "openmpi_tcp"]
# Four of Secrecy's experiments, as (full, --quick) arguments: TPC-H Q6 (a
# selection with equality and inequality predicates, then an aggregate)
# and a greater-than over 256 Ki rows, where each round moves megabytes;
# the ripple-carry adder (64 rounds of 64 Ki-element bit vectors); and a
# sort of 256 rows, thousands of rounds of a few kilobytes, bound by the
# round trip. The full sizes take seconds each on the cross-region path.
SECRECY_WAN = {
    "exp_tpch_q6": (["262144"], ["4096"]),
    "exp_greater": (["262144"], ["4096"]),
    "exp_rca": (["65536"], ["1024"]),
    "exp_order_by": (["256", "4", "2"], ["64", "4", "2"]),
}
TERNION_PORT = 7700
MESH_PORT = 7800
# OpenMPI over TCP alone (ob1, the TCP BTL) on the emulated interface.
# Its daemons share one host's /tmp and /dev/shm though not its network,
# and each writes hwloc's topology to shared memory (rtc hwloc), which
# crashed one daemon in ten here; nothing is bound (--bind-to none), so
# that component has no work to do and stays out.
OPENMPI_MCA = ["--mca", "rtc", "^hwloc", "--mca", "pml", "ob1", "--mca", "btl", "tcp,self",
               "--mca", "btl_tcp_if_include", "wan0", "--mca", "oob_tcp_if_include", "wan0"]


def namespaces():
    try:
        return [os.environ[f"TERNION_WAN_NS_{r}"] for r in range(3)], \
               [os.environ[f"TERNION_WAN_ADDR_{r}"] for r in range(3)]
    except KeyError as e:
        sys.exit(f"wan.py: {e.args[0]} is not set: run this inside `ternion-wan run`")


def rsh_agent(host, command):
    """mpirun's agent: runs COMMAND (a shell command line) in the namespace
    whose party address is HOST, as ssh would run it on that host."""
    names, addrs = namespaces()
    if host not in addrs:
        sys.exit(f"wan.py rsh-agent: {host} is no party's address ({', '.join(addrs)})")
    ns = names[addrs.index(host)]
    os.execvp("ip", ["ip", "netns", "exec", ns, "sh", "-c", " ".join(command)])


class Job:
    """Three ranks (or one mpirun), started together and waited for together."""

    # Jobs not yet waited for, killed if the benchmark stops early.
    live = []

    def __init__(self, label, logdir, timeout_s):
        self.label, self.logdir, self.timeout_s = label, logdir, timeout_s
        self.procs = []
        Job.live.append(self)

    def start(self, argv, env, stdout_path, stderr_path):
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            self.procs.append(subprocess.Popen(
                argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True))

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            p.wait()

    def wait(self):
        """Exit codes; stops everything (and fails the benchmark) if the job
        outlives its time or a rank fails while the others keep waiting."""
        deadline = time.monotonic() + self.timeout_s
        failed_at = None
        while any(p.poll() is None for p in self.procs):
            now = time.monotonic()
            if failed_at is None and any(p.poll() not in (None, 0) for p in self.procs):
                failed_at = now
            if now > deadline or (failed_at is not None and now > failed_at + 30):
                self.kill()
                why = "timed out" if now > deadline else "stalled after a rank failed"
                sys.exit(f"wan.py: {self.label} {why} (logs in {self.logdir})")
            time.sleep(0.05)
        Job.live.remove(self)
        return [p.returncode for p in self.procs]


class Network:
    """The three namespaces and what every system needs to start in them."""

    def __init__(self, ternion, workdir):
        self.names, self.addrs = namespaces()
        self.ternion = ternion
        keydir = os.path.join(workdir, "keys")
        os.makedirs(keydir, exist_ok=True)
        self.key_files, public = [], []
        for r in range(3):
            path = os.path.join(keydir, f"rank{r}.key")
            if os.path.exists(path):
                os.unlink(path)
            made = subprocess.run([ternion, "keygen", "--out", path], check=True,
                                  capture_output=True, text=True)
            self.key_files.append(path)
            public.append(made.stdout.strip())
        self.public_keys = ",".join(public)

    def in_ns(self, rank, argv):
        return ["ip", "netns", "exec", self.names[rank], *argv]

    def start_ternion(self, job, argv, plaintext, name, extra_env=None):
        """The three ranks of a ternion program, as `ternion run` sets them up."""
        peers = ",".join(f"{a}:{TERNION_PORT}" for a in self.addrs)
        session = os.urandom(16).hex()
        for r in range(3):
            env = dict(os.environ, TERNION_RANK=str(r), TERNION_PEERS=peers,
                       TERNION_SESSION=session, **(extra_env or {}))
            if plaintext:
                env["TERNION_INSECURE_PLAINTEXT"] = "1"
            else:
                env.update(TERNION_PRIVATE_KEY_FILE=self.key_files[r],
                           TERNION_PUBLIC_KEYS=self.public_keys)
            job.start(self.in_ns(r, argv), env, os.path.join(job.logdir, f"{name}.rank{r}.out"),
                      os.path.join(job.logdir, f"{name}.rank{r}.log"))
        return os.path.join(job.logdir, f"{name}.rank0.out")

    def start_openmpi(self, job, argv, name, extra_env=None, tag_output=False):
        """mpirun in rank 0's namespace, its daemons started by rsh-agent."""
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   # The daemons of one job share a host's /dev/shm but not its
                   # network: PMIx's shared-memory store would warn for nothing.
                   PMIX_MCA_gds="hash", **(extra_env or {}))
        agent = f"{sys.executable} {os.path.abspath(__file__)} rsh-agent"
        mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                  "-np", "3", "--host", ",".join(self.addrs), "--mca", "plm_rsh_agent", agent,
                  *OPENMPI_MCA, *(["--tag-output"] if tag_output else []),
                  *[x for k in (extra_env or {}) for x in ("-x", k)], *argv]
        out = os.path.join(job.logdir, f"{name}.out")
        job.start(self.in_ns(0, mpirun), env, out, os.path.join(job.logdir, f"{name}.log"))
        return out

    def start_mesh(self, job, argv, name):
        """The three ranks of a tcp_mesh.h program, each on its own."""
        peers = ",".join(f"{a}:{MESH_PORT}" for a in self.addrs)
        for r in range(3):
            env = dict(os.environ, BENCH_RANK=str(r), BENCH_PEERS=peers)
            job.start(self.in_ns(r, argv), env, os.path.join(job.logdir, f"{name}.rank{r}.out"),
                      os.path.join(job.logdir, f"{name}.rank{r}.log"))
        return os.path.join(job.logdir, f"{name}.rank0.out")


def bench_run(net, system, i, a, runs_dir):
    name = f"{system}-{i}"
    job = Job(f"{system} run {i}", runs_dir, a.timeout)
    flags = ["--wan", *(["--quick"] if a.quick else [])]
    program = os.path.join(a.bench_dir, "mpi_bench_ternion")
    if system.startswith("ternion"):
        settings = {"BENCH_SYSTEM": system}
        if system == "ternion_cubic":
            settings["TERNION_TCP_CONGESTION"] = "system"
        out = net.start_ternion(job, [program, *flags], system == "ternion_plain", name, settings)
    elif system == "openmpi_tcp":
        out = net.start_openmpi(job, [os.path.join(a.bench_dir, "mpi_bench"), *flags], name)
    else:
        binary = {"raw_tcp": "raw_tcp_bench", "openssl_tls": "tls_bench"}[system]
        out = net.start_mesh(job, [os.path.join(a.bench_dir, binary), *flags], name)
    print(f"wan.py: {a.profile}: run {i}/{a.runs}: {system}", file=sys.stderr, flush=True)
    codes = job.wait()
    if any(codes):
        sys.exit(f"wan.py: {system} run {i} exited with {codes} (logs in {runs_dir}/{name}.*)")
    with open(out, encoding="utf-8") as f:
        text = f.read()
    try:
        result = json.loads(text)
    except json.JSONDecodeError:
        sys.exit(f"wan.py: {system} run {i} printed no JSON object ({out})")
    with open(os.path.join(runs_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)


def secrecy_run(net, system, name, args, a, logdir, i):
    label = f"{name}-{system}-{i}"
    job = Job(f"{name} on {system}", logdir, a.timeout)
    if system == "openmpi_tcp":
        binary = os.path.join(a.secrecy_builds, "openmpi", "bin", name)
        out = net.start_openmpi(job, [binary, *args], label, tag_output=True)
        rank0 = secrecy.RANK0["openmpi"]
    else:
        binary = os.path.join(a.secrecy_builds, "ternion", "bin", name)
        out = net.start_ternion(job, [binary, *args], system == "ternion_plain", label)
        rank0 = None  # rank 0's own stdout
    codes = job.wait()
    if any(codes):
        sys.exit(f"wan.py: {name} on {system} exited with {codes} (logs in {logdir}/{label}.*)")
    with open(out, encoding="utf-8") as f:
        seconds = secrecy.elapsed_seconds(f.read(), rank0)
    if seconds is None:
        sys.exit(f"wan.py: {name} on {system} printed no elapsed time on rank 0 ({out})")
    return seconds


def run(a):
    runs_dir = os.path.join(a.out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    net = Network(a.ternion, a.out)
    for i in range(1, a.runs + 1):
        for system in SYSTEMS:
            bench_run(net, system, i, a, runs_dir)
    if not a.secrecy_builds:
        mark_done(a)
        return 0
    experiments = {name: sizes[1 if a.quick else 0] for name, sizes in SECRECY_WAN.items()}
    logdir = os.path.join(a.out, "secrecy")
    os.makedirs(logdir, exist_ok=True)
    times = {name: {s: [] for s in SECRECY_SYSTEMS} for name in experiments}
    for i in range(1, a.runs + 1):
        for name, args in experiments.items():
            for system in SECRECY_SYSTEMS:
                print(f"wan.py: {a.profile}: Secrecy round {i}/{a.runs}: {name} on {system}",
                      file=sys.stderr, flush=True)
                times[name][system].append(secrecy_run(net, system, name, args, a, logdir, i))
    result = secrecy.summary(times, experiments, a.runs, a.quick)
    with open(os.path.join(a.out, "secrecy.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    mark_done(a)
    return 0


def mark_done(a):
    """Says the profile ran to the end, when and how, for wan_report.py."""
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(os.path.join(a.out, "run.json"), "w", encoding="utf-8") as f:
        json.dump({"date": date, "runs": a.runs, "quick": a.quick}, f)
        f.write("\n")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "rsh-agent":
        rsh_agent(sys.argv[2], sys.argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--profile", required=True)
    r.add_argument("--runs", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--ternion", required=True)
    r.add_argument("--bench-dir", required=True)
    r.add_argument("--secrecy-builds")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()
    # Ranks run in sessions of their own, which a signal to this script
    # does not reach: stop them too, or busy-polling ranks would outlive
    # the namespaces they run in.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("wan.py: terminated"))
    try:
        return run(a)
    finally:
        for job in Job.live:
            job.kill()


if __name__ == "__main__":
    sys.exit(main())
