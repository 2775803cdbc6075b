#!/usr/bin/env python3
"""Time Secrecy's communication-heavy experiments on ternion (encrypted and
plaintext) and on OpenMPI-TCP, interleaved; called by scripts/bench.sh.

    secrecy.py --ternion PATH --builds DIR --out FILE.json --rounds N [--quick]

DIR/ternion/bin and DIR/openmpi/bin hold the experiments built by
tests/secrecy/run.sh --build-only. The experiments and sizes are those of
BENCHMARK below; --quick runs them at the small sizes of
tests/secrecy/experiments instead (a smoke test). An experiment's time is the sum of the elapsed
seconds Secrecy's rank 0 prints for its timed sections (its own
gettimeofday figures: start-up and share generation are left out). Each
round runs every experiment on every system before the next round starts.
Writes FILE.json: per experiment and system, the median time over the
rounds and every round's time; a run that fails stops the benchmark.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.join(HERE, "..", "tests", "secrecy", "experiments")
# Secrecy's timing lines end in a tab (or "Time: ") and the seconds.
ELAPSED = re.compile(r"(?:\t|Time: )(\d+\.\d+)\s*$")
# How each launcher marks rank 0's lines.
RANK0 = {"ternion": re.compile(r"^\[0\] "), "openmpi": re.compile(r"^\[1,0\]<stdout>:")}
SYSTEMS = ["ternion", "ternion_plain", "openmpi_tcp"]
TIMEOUT_S = 600
# Communication-heavy experiments, at sizes where each takes about a second
# on this machine (powers of two, as Secrecy's operators need).
BENCHMARK = {
    "exp_exchange": ["32768"],
    "exp_equality": ["8192"],
    "exp_group_by": ["4096", "16"],
    "exp_q1": ["512", "512"],
    "exp_tpch_q6": ["131072"],
    "exp_distinct": ["65536"],
    "exp_order_by": ["4096", "4", "2"],
}


def small_sizes():
    args = {}
    with open(EXPERIMENTS, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words and not words[0].startswith("#"):
                args[words[0]] = words[1:]
    return args


def command(system, ternion, builds, name, args):
    if system == "openmpi_tcp":
        return [
            "mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "3",
            "--tag-output", "--mca", "pml", "ob1", "--mca", "btl", "tcp,self",
            "--mca", "btl_tcp_if_include", "lo", os.path.join(builds, "openmpi", "bin", name), *args,
        ]
    return [ternion, "run", "-n", "3", "--", os.path.join(builds, "ternion", "bin", name), *args]


def run(system, cmd, name):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    if system == "ternion_plain":
        env["TERNION_INSECURE_PLAINTEXT"] = "1"
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        sys.exit(f"secrecy.py: {name} on {system} did not finish in {TIMEOUT_S} s")
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-2000:])
        sys.exit(f"secrecy.py: {name} on {system} exited with {done.returncode}")
    seconds = elapsed_seconds(done.stdout, RANK0["openmpi" if system == "openmpi_tcp" else "ternion"])
    if seconds is None:
        sys.exit(f"secrecy.py: {name} on {system} printed no elapsed time on rank 0")
    return seconds


def elapsed_seconds(stdout, rank0):
    """The sum of the timed sections rank 0 reports: over the lines `rank0`
    matches (a launcher's mark), or every line when it is None (rank 0's
    own output); None if there is none."""
    times = [float(m.group(1)) for line in stdout.splitlines()
             if (rank0 is None or rank0.match(line)) and (m := ELAPSED.search(line))]
    return sum(times) if times else None


def summary(times, arguments, rounds, quick):
    """secrecy.json's content: per experiment its arguments and, per system,
    the median and every run of `times[experiment][system]` (seconds)."""
    return {
        "rounds": rounds,
        "quick": quick,
        "experiments": {
            name: {
                "arguments": " ".join(arguments[name]),
                **{s: {"median_s": statistics.median(v), "runs_s": v} for s, v in per.items()},
            }
            for name, per in times.items()
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ternion", required=True)
    ap.add_argument("--builds", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    known = BENCHMARK
    if a.quick:
        small = small_sizes()
        known = {name: small[name] for name in BENCHMARK}
    times = {name: {s: [] for s in SYSTEMS} for name in known}
    for _round in range(a.rounds):
        for name in known:
            for system in SYSTEMS:
                cmd = command(system, a.ternion, a.builds, name, known[name])
                times[name][system].append(run(system, cmd, name))
    result = summary(times, known, a.rounds, a.quick)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
