#!/usr/bin/env python3
"""Merge the wide-area runs into target/bench/wan.json and wan.md.

Called by scripts/bench.sh --wan once every profile has run:

    wan_report.py --dir target/bench/wan

Reads every profile that has run to the end (DIR/PROFILE/run.json: when,
how many runs, quick or not), each run separately (bench.sh --wan P
replaces only P's results): DIR/PROFILE/profile.json (`ternion-wan show`),
DIR/PROFILE/runs/<system>-<i>.json (bench/wan.h's JSON, one per system and
run) and DIR/PROFILE/secrecy.json if Secrecy's experiments ran, and writes
beside DIR:

  - wan.json: per profile, the emulated path, the physical floor of each
    workload, every system's per-metric median across runs, and the raw
    runs; under "ratios", an object per profile with the issue's five
    ratios (wan_latency_8b_vs_rtt, wan_rounds_64k, wan_rounds_8b,
    wan_64mib_vs_bandwidth, wan_secrecy) and more, and under "targets"
    the cross-region targets, met or not;
  - wan.md: the same as tables.

Python standard library only.
"""

import argparse
import datetime
import json
import os
import sys

from report import LABELS, cores, cpu_model, median_of
from wan import SECRECY_SYSTEMS, SYSTEMS
MIB = 1 << 20
ROUND_SIZES = [8, 1 << 10, 16 << 10, 64 << 10, 256 << 10, MIB, 4 * MIB]
EXCHANGE_SIZES = [MIB, 64 * MIB]
OPEN_BYTES = 8 * MIB  # 1,048,576 u64 shares from each of ranks 1 and 2

# The targets, on the cross-region profile: (ratio, operator, goal).
TARGETS = {
    "cross-region": [
        ("wan_latency_8b_vs_rtt", "<=", 1.05),
        ("wan_rounds_64k", "<=", 0.6),
        ("wan_rounds_8b", "<=", 1.0),
        ("wan_64mib_vs_bandwidth", ">=", 0.9),
        ("wan_secrecy", "<=", 0.7),
    ],
}


def floors(path):
    """The least time each workload can take on the emulated path: a ring
    exchange's message crosses one path (the mean one-way delay) at the
    link's rate; the three paths of a ring run at once. The open brings
    two shares to rank 0 over two different paths, also at once. Sizes are
    keys as strings, as JSON keeps them."""
    one_way = path["mean_rtt_ms"] / 2e3
    rate = path["rate_bps"] / 8
    return {
        "exchange_s": {str(b): one_way + b / rate for b in EXCHANGE_SIZES},
        "round_s": {str(b): one_way + b / rate for b in ROUND_SIZES},
        "open_s": one_way + OPEN_BYTES / rate,
        "rtt_s": path["mean_rtt_ms"] / 1e3,
        "rate_bytes_per_s": rate,
    }


def per_round(d, size):
    return next(r["per_round_s"] for r in d["rounds"] if r["bytes"] == size)


def exchange_s(d, size):
    return next(e["median_s"] for e in d["exchange"] if e["bytes"] == size)


def load_runs(pdir, runs, quick):
    raw, med = {}, {}
    for s in SYSTEMS:
        raw[s] = []
        for i in range(1, runs + 1):
            path = os.path.join(pdir, "runs", f"{s}-{i}.json")
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
            if d.get("system") != s or d.get("workloads") != "wan" or d.get("quick") != quick:
                sys.exit(f"wan_report.py: {path} is not a {'quick ' if quick else ''}wan run of {s}")
            raw[s].append(d)
        med[s] = median_of(raw[s])
    return raw, med


def profile_ratios(med, fl, secrecy):
    t, m, c = med["ternion"], med["openmpi_tcp"], med["ternion_cubic"]
    r = {
        # The five.
        # The mean, the loop's time per exchange: in a ring of exchanges a
        # party often finds its next message already there, so the median
        # of single exchanges can sit far below the path's delay.
        "wan_latency_8b_vs_rtt": t["latency_8b"]["mean_us"] / 1e6 / fl["rtt_s"],
        "wan_rounds_64k": per_round(t, 64 << 10) / per_round(m, 64 << 10),
        "wan_rounds_8b": per_round(t, 8) / per_round(m, 8),
        "wan_64mib_vs_bandwidth": 64 * MIB / exchange_s(t, 64 * MIB) / fl["rate_bytes_per_s"],
        # Against the floors and the other systems, without targets.
        "wan_latency_8b_vs_floor": t["latency_8b"]["mean_us"] / 1e6 / fl["round_s"]["8"],
        "wan_rounds_1m": per_round(t, MIB) / per_round(m, MIB),
        "wan_rounds_8b_vs_floor": per_round(t, 8) / fl["round_s"]["8"],
        "wan_rounds_64k_vs_floor": per_round(t, 64 << 10) / fl["round_s"][str(64 << 10)],
        "wan_rounds_1m_vs_floor": per_round(t, MIB) / fl["round_s"][str(MIB)],
        "wan_rounds_64k_vs_raw": per_round(t, 64 << 10) / per_round(med["raw_tcp"], 64 << 10),
        "wan_rounds_1m_vs_raw": per_round(t, MIB) / per_round(med["raw_tcp"], MIB),
        "wan_rounds_1m_vs_tls": per_round(t, MIB) / per_round(med["openssl_tls"], MIB),
        "wan_exchange_1m_vs_openmpi": exchange_s(t, MIB) / exchange_s(m, MIB),
        "wan_64mib_vs_openmpi": exchange_s(t, 64 * MIB) / exchange_s(m, 64 * MIB),
        "wan_open_1m": t["open_1m"]["median_s"] / m["open_1m"]["median_s"],
        "wan_open_1m_vs_floor": t["open_1m"]["median_s"] / fl["open_s"],
        # ternion on the host's CUBIC: what the rest of ternion does, without BBR.
        "wan_rounds_64k_on_cubic": per_round(c, 64 << 10) / per_round(m, 64 << 10),
        "wan_rounds_1m_on_cubic": per_round(c, MIB) / per_round(m, MIB),
        "wan_64mib_on_cubic_vs_bandwidth": 64 * MIB / exchange_s(c, 64 * MIB) / fl["rate_bytes_per_s"],
    }
    if secrecy:
        exps = secrecy["experiments"].values()
        total = lambda s: sum(e[s]["median_s"] for e in exps)  # noqa: E731
        r["wan_secrecy"] = total("ternion") / total("openmpi_tcp")
        r["wan_secrecy_plain"] = total("ternion_plain") / total("openmpi_tcp")
    return r


def judge(profile, ratios):
    out = {}
    for name, op, goal in TARGETS.get(profile, []):
        v = ratios.get(name)
        met = v is not None and (v <= goal if op == "<=" else v >= goal)
        out[name] = {"target": f"{op} {goal}", "value": v, "met": met}
    return out


def ms(v):
    return f"{v * 1e3:.2f}"


def size_label(b):
    for unit, n in (("MiB", MIB), ("KiB", 1 << 10)):
        if b >= n:
            return f"{b // n} {unit}"
    return f"{b} B"


def render_md(report):
    lines = ["# Across clouds: ternion and MPI over an emulated wide-area network",
             "",
             f"{report['machine']['cpu']}, {report['machine']['cores']} cores for three "
             "parties and the emulator. Medians across runs, the systems interleaved; every "
             "party in its own network namespace (tests/wan)."]
    for name, p in report["profiles"].items():
        path, fl, med, run = p["path"], p["floor"], p["systems"], p["run"]
        jitter = f" ± {path['jitter_ms']:g}" if path["jitter_ms"] else ""
        lines += ["", f"## {name}: {path['mean_rtt_ms']:g}{jitter} ms round trip, "
                  f"{path['rate_bps'] / 1e9:g} Gbit/s, {path['loss'] * 100:g}% loss", "",
                  f"{run['date']} · {'quick' if run['quick'] else 'full'} mode · "
                  f"{run['runs']} run(s) per system", ""]
        head = "| workload | floor | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |"
        lines += [head, "|---" * (len(SYSTEMS) + 2) + "|"]

        def row(label, floor, get, fmt=ms):
            cells = [fmt(get(med[s])) for s in SYSTEMS]
            lines.append(f"| {label} | {floor} | " + " | ".join(cells) + " |")

        row("8 B exchange, p50 (ms)", ms(fl["round_s"]["8"]), lambda d: d["latency_8b"]["p50_us"] / 1e6)
        row("8 B exchange, mean (ms)", ms(fl["round_s"]["8"]), lambda d: d["latency_8b"]["mean_us"] / 1e6)
        for b in EXCHANGE_SIZES:
            row(f"{size_label(b)} exchange (ms)", ms(fl["exchange_s"][str(b)]), lambda d, b=b: exchange_s(d, b))
        for b in ROUND_SIZES:
            n = next(r["rounds"] for r in med["ternion"]["rounds"] if r["bytes"] == b)
            row(f"{n} rounds × {size_label(b)}, per round (ms)", ms(fl["round_s"][str(b)]),
                lambda d, b=b: per_round(d, b))
        row("open 1M u64 at rank 0 (ms)", ms(fl["open_s"]), lambda d: d["open_1m"]["median_s"])
        row("64 MiB exchange, CPU s per GiB (all parties)", "",
            lambda d: d["cpu"][f"exchange_{64 * MIB}"]["cpu_s_per_gib"], lambda v: f"{v:.2f}")
        if p.get("secrecy"):
            exps = p["secrecy"]["experiments"]
            lines += ["", "Secrecy's experiments (rank 0's timed sections, s):", "",
                      "| experiment | " + " | ".join(LABELS[s] for s in SECRECY_SYSTEMS) + " |",
                      "|---" * (len(SECRECY_SYSTEMS) + 1) + "|"]
            for exp, e in exps.items():
                lines.append(f"| {exp} {e['arguments']} | " +
                             " | ".join(f"{e[s]['median_s']:.2f}" for s in SECRECY_SYSTEMS) + " |")
            lines.append("| **total** | " + " | ".join(
                f"{sum(e[s]['median_s'] for e in exps.values()):.2f}" for s in SECRECY_SYSTEMS) + " |")
        lines += ["", "| ratio | value | target |", "|---|---|---|"]
        targets = report["targets"].get(name, {})
        for k, v in report["ratios"][name].items():
            t = targets.get(k)
            verdict = f"{t['target']} ({'met' if t['met'] else 'not met'})" if t else ""
            lines.append(f"| {k} | {v:.3f} | {verdict} |")
    return "\n".join(lines) + "\n"


PROFILE_ORDER = ["region", "cross-region", "intercontinental"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_model(), "cores": cores()},
        "profiles": {},
        "ratios": {},
        "targets": {},
    }
    done = [n for n in os.listdir(a.dir) if os.path.exists(os.path.join(a.dir, n, "run.json"))]
    if not done:
        sys.exit(f"wan_report.py: no profile in {a.dir} has run to the end")
    done.sort(key=lambda n: (PROFILE_ORDER.index(n) if n in PROFILE_ORDER else len(PROFILE_ORDER), n))
    for name in done:
        pdir = os.path.join(a.dir, name)
        with open(os.path.join(pdir, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
        with open(os.path.join(pdir, "profile.json"), encoding="utf-8") as f:
            path = json.load(f)
        raw, med = load_runs(pdir, run["runs"], run["quick"])
        secrecy = None
        if os.path.exists(os.path.join(pdir, "secrecy.json")):
            with open(os.path.join(pdir, "secrecy.json"), encoding="utf-8") as f:
                secrecy = json.load(f)
        fl = floors(path)
        ratios = profile_ratios(med, fl, secrecy)
        report["profiles"][name] = {"path": path, "run": run, "floor": fl, "systems": med,
                                    "secrecy": secrecy, "raw": raw}
        report["ratios"][name] = ratios
        report["targets"][name] = judge(name, ratios)
    out = os.path.dirname(os.path.abspath(a.dir))
    with open(os.path.join(out, "wan.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "wan.md"), "w", encoding="utf-8") as f:
        f.write(render_md(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
