#!/usr/bin/env python3
"""Merge benchmark runs into target/bench/report.json and report.md.

Called by scripts/bench.sh after every run has finished:

    report.py --dir target/bench --runs N [--quick]

Reads DIR/runs/<system>-<i>.json for each system and i in 1..N (each one
JSON object as printed by `ternion bench --json`, mpi_bench or
raw_tcp_bench, tls_bench), checks it against the common schema, and writes:

  - report.json: machine, runs, quick, the per-metric median across runs
    for each system, ratios with their targets, min/max spread of the
    headline metrics, and every raw run;
  - report.md: the same headline figures as tables.

Python standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys

SYSTEMS = ["ternion", "ternion_plain", "ternion_mpi", "openmpi_tcp", "raw_tcp", "openssl_tls"]
LABELS = {
    "ternion": "ternion (encrypted)",
    "ternion_plain": "ternion plaintext",
    "ternion_mpi": "ternion MPI drop-in",
    "ternion_cubic": "ternion on CUBIC",
    "openmpi_tcp": "OpenMPI (TCP)",
    "raw_tcp": "raw TCP",
    "openssl_tls": "OpenSSL TLS",
}
SIZES = [1 << 10, 16 << 10, 256 << 10, 4 << 20, 32 << 20, 128 << 20]
ELEMENTS = 1 << 20
MIB128 = 128 << 20

# (ratio name, target operator, target value); "<=" means lower is better.
# The data-path targets: plaintext against the best unencrypted baseline,
# encrypted against plaintext, and Secrecy's own exchange pattern.
TARGETS = [
    ("plain_vs_best_128mib", ">=", 1.0),
    ("plain_cpu_per_gib_vs_raw", "<=", 1.1),
    ("encrypted_vs_plain_throughput_128mib", ">=", 0.75),
    ("encrypted_vs_tls_128mib", ">=", 1.0),
    ("encrypted_rounds_vs_tls", "<=", 1.0),
    ("plain_rounds_vs_best", "<=", 1.0),
    ("open_1m", "<=", 1.0),
    ("latency_8b", "<=", 0.8),
    ("wait_wait_exchange", "<=", 0.8),
    # The MPI drop-in against ternion's native API.
    ("mpi_vs_native_latency_8b", "<=", 1.05),
    ("mpi_vs_native_throughput_128mib", ">=", 0.95),
    ("encrypted_vs_plain_latency_8b", "<=", 1.1),
    ("overlap", "<=", 1.1),
]

CPU_128MIB = f"throughput_{MIB128}"
PATTERNS = ["send_recv", "irecv_isend_waitall", "irecv_isend_wait_wait"]
COSTS = ["latency_8b"] + [f"throughput_{b}" for b in SIZES] + ["rounds_64x1m", "open_1m"]

# Headline metrics: (key, label, unit, getter).
def _tp(size):
    return lambda d: next(t["mib_per_s"] for t in d["throughput"] if t["bytes"] == size)


HEADLINE = [
    ("latency_8b.mean_us", "8 B exchange latency, mean", "µs", lambda d: d["latency_8b"]["mean_us"]),
    ("latency_8b.p50_us", "8 B exchange latency, p50", "µs", lambda d: d["latency_8b"]["p50_us"]),
    ("latency_8b.p99_us", "8 B exchange latency, p99", "µs", lambda d: d["latency_8b"]["p99_us"]),
    ("throughput_1kib.mib_per_s", "throughput at 1 KiB", "MiB/s", _tp(1 << 10)),
    ("throughput_4mib.mib_per_s", "throughput at 4 MiB", "MiB/s", _tp(4 << 20)),
    ("throughput_128mib.mib_per_s", "throughput at 128 MiB", "MiB/s", _tp(MIB128)),
    ("rounds_64x1m.median_s", "rounds of 1M u64, total", "s", lambda d: d["rounds_64x1m"]["median_s"]),
    ("open_1m.median_s", "open 1M u64 at rank 0", "s", lambda d: d["open_1m"]["median_s"]),
    ("overlap.ratio", "overlap ratio (together / max)", "", lambda d: d["overlap"]["ratio"]),
]


class SchemaError(Exception):
    pass


def _need(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        raise SchemaError(f"{where}: missing '{key}'")
    val = obj[key]
    if kind is float:
        ok = isinstance(val, (int, float)) and not isinstance(val, bool) and val == val
    else:
        ok = isinstance(val, kind) and not (kind is int and isinstance(val, bool))
    if not ok:
        raise SchemaError(f"{where}: '{key}' should be {kind.__name__}, got {val!r}")
    return val


def check_run(d, system, quick, where):
    """Raises SchemaError unless d follows the common benchmark schema."""
    if _need(d, "system", str, where) != system:
        raise SchemaError(f"{where}: system is {d['system']!r}, expected {system!r}")
    if _need(d, "parties", int, where) != 3:
        raise SchemaError(f"{where}: parties is {d['parties']}, expected 3")
    if _need(d, "quick", bool, where) != quick:
        raise SchemaError(f"{where}: quick is {d['quick']}, expected {quick}")
    lat = _need(d, "latency_8b", dict, where)
    _need(lat, "exchanges", int, where + ".latency_8b")
    for k in ("mean_us", "p50_us", "p99_us"):
        _need(lat, k, float, where + ".latency_8b")
    tps = _need(d, "throughput", list, where)
    got = []
    for i, t in enumerate(tps):
        w = f"{where}.throughput[{i}]"
        got.append(_need(t, "bytes", int, w))
        _need(t, "reps", int, w)
        for k in ("median_s", "mib_per_s"):
            _need(t, k, float, w)
    if got != SIZES:
        raise SchemaError(f"{where}: throughput sizes are {got}, expected {SIZES}")
    rounds = _need(d, "rounds_64x1m", dict, where)
    want_rounds = 8 if quick else 64
    if _need(rounds, "rounds", int, where + ".rounds_64x1m") != want_rounds:
        raise SchemaError(f"{where}: rounds is {rounds['rounds']}, expected {want_rounds}")
    if _need(rounds, "elements", int, where + ".rounds_64x1m") != ELEMENTS:
        raise SchemaError(f"{where}: rounds_64x1m.elements is not {ELEMENTS}")
    _need(rounds, "median_s", float, where + ".rounds_64x1m")
    opn = _need(d, "open_1m", dict, where)
    if _need(opn, "elements", int, where + ".open_1m") != ELEMENTS:
        raise SchemaError(f"{where}: open_1m.elements is not {ELEMENTS}")
    _need(opn, "median_s", float, where + ".open_1m")
    ov = _need(d, "overlap", dict, where)
    _need(ov, "bytes", int, where + ".overlap")
    _need(ov, "passes", int, where + ".overlap")
    for k in ("compute_s", "exchange_s", "together_s", "ratio"):
        _need(ov, k, float, where + ".overlap")
    pat = _need(d, "exchange_patterns", dict, where)
    _need(pat, "exchanges", int, where + ".exchange_patterns")
    for k in PATTERNS:
        _need(pat, k + "_us", float, where + ".exchange_patterns")
    cpu = _need(d, "cpu", dict, where)
    for k in COSTS:
        cost = _need(cpu, k, dict, where + ".cpu")
        for field in ("cpu_s", "gib", "cpu_s_per_gib"):
            _need(cost, field, float, f"{where}.cpu.{k}")


def median_of(values):
    """Per-metric median across runs, keeping the schema's shape."""
    first = values[0]
    if isinstance(first, dict):
        return {k: median_of([v[k] for v in values]) for k in first}
    if isinstance(first, list):  # throughput: match entries by size
        return [
            median_of([next(t for t in v if t["bytes"] == entry["bytes"]) for v in values])
            for entry in first
        ]
    if isinstance(first, bool) or isinstance(first, str):
        return first
    m = statistics.median(values)
    if all(isinstance(v, int) for v in values) and m == int(m):
        return int(m)
    return float(f"{m:.9g}")  # drop float noise from averaging two middle values


def read_other_cpu(path):
    """Share of the CPUs used by other work during one run, as recorded by
    bench.sh (None if it could not be measured)."""
    try:
        with open(path, encoding="utf-8") as f:
            return float(json.load(f)["other_cpu_pct"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_optional(path):
    """A side benchmark's results (bench/aead, bench/secrecy.py), or None if it did not run."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cores():
    try:
        return len(os.sched_getaffinity(0))  # what nproc reports
    except AttributeError:
        return os.cpu_count() or 0


def compute_ratios(med):
    t, d, m, r = med["ternion"], med["ternion_mpi"], med["openmpi_tcp"], med["raw_tcp"]
    p, tls = med["ternion_plain"], med["openssl_tls"]
    tp = lambda d: _tp(MIB128)(d)  # noqa: E731
    rounds = lambda d: d["rounds_64x1m"]["median_s"]  # noqa: E731
    lat = lambda d: d["latency_8b"]["mean_us"]  # noqa: E731
    cpu = lambda d: d["cpu"][CPU_128MIB]["cpu_s_per_gib"]  # noqa: E731
    wait_wait = lambda d: d["exchange_patterns"]["irecv_isend_wait_wait_us"]  # noqa: E731
    ratios = {
        "plain_vs_best_128mib": tp(p) / max(tp(m), tp(r)),
        "plain_cpu_per_gib_vs_raw": cpu(p) / cpu(r),
        "encrypted_vs_plain_throughput_128mib": tp(t) / tp(p),
        "encrypted_vs_tls_128mib": tp(t) / tp(tls),
        "encrypted_rounds_vs_tls": rounds(t) / rounds(tls),
        "plain_rounds_vs_best": rounds(p) / min(rounds(m), rounds(r)),
        "open_1m": t["open_1m"]["median_s"] / m["open_1m"]["median_s"],
        "latency_8b": lat(t) / lat(m),
        # Secrecy's pattern as Secrecy runs it: the MPI program on the drop-in.
        "wait_wait_exchange": wait_wait(d) / wait_wait(m),
        "mpi_vs_native_latency_8b": lat(d) / lat(t),
        "mpi_vs_native_throughput_128mib": tp(d) / tp(t),
        "encrypted_vs_plain_latency_8b": lat(t) / lat(p),
        "overlap": t["overlap"]["ratio"],
        # Informative, no target: encrypted ternion against plaintext baselines.
        "throughput_128mib": tp(t) / tp(m),
        "throughput_vs_raw_128mib": tp(t) / tp(r),
        "rounds_64x1m": rounds(t) / rounds(m),
        "mpi_latency_8b": lat(d) / lat(m),
        "mpi_throughput_128mib": tp(d) / tp(m),
        "mpi_rounds_64x1m": rounds(d) / rounds(m),
        "encrypted_cpu_per_gib_vs_raw": cpu(t) / cpu(r),
        "latency_8b_vs_raw": lat(t) / lat(r),
        "rounds_64x1m_vs_raw": rounds(t) / rounds(r),
    }
    targets = {}
    for name, op, goal in TARGETS:
        v = ratios[name]
        met = v <= goal if op == "<=" else v >= goal
        targets[name] = {"target": f"{op} {goal}", "value": v, "met": met}
    ratios["targets"] = targets
    return ratios


def add_secrecy_ratios(ratios, secrecy):
    """Encrypted ternion against OpenMPI-TCP on Secrecy's experiments: the
    total time, and the slowest experiment's ratio."""
    exps = secrecy["experiments"].values()
    total = lambda s: sum(e[s]["median_s"] for e in exps)  # noqa: E731
    ratios["secrecy_total"] = total("ternion") / total("openmpi_tcp")
    ratios["secrecy_plain_total"] = total("ternion_plain") / total("openmpi_tcp")
    ratios["secrecy_worst"] = max(e["ternion"]["median_s"] / e["openmpi_tcp"]["median_s"] for e in exps)
    for name, op, goal in (("secrecy_total", "<=", 0.9), ("secrecy_worst", "<=", 1.1)):
        v = ratios[name]
        ratios["targets"][name] = {"target": f"{op} {goal}", "value": v, "met": v <= goal}


def compute_spread(raw):
    spread = {}
    for s in SYSTEMS:
        spread[s] = {}
        for key, _label, _unit, get in HEADLINE:
            vals = [get(d) for d in raw[s]]
            spread[s][key] = {"min": min(vals), "max": max(vals)}
    return spread


def fmt(v, unit=""):
    if unit == "s":
        return f"{v * 1e3:.2f} ms"
    if unit == "µs":
        return f"{v:.2f} µs"
    if unit == "MiB/s":
        return f"{v:,.0f} MiB/s"
    return f"{v:.3f}"


def render_md(report):
    m = report["machine"]
    med = {s: report[s] for s in SYSTEMS}
    out = []
    mode = "quick" if report["quick"] else "full"
    out.append("# ternion benchmark report\n")
    out.append(
        f"{report['date']} · {mode} mode · {report['runs']} run(s) per system, interleaved · "
        f"figures are medians across runs\n"
    )
    out.append(
        f"Machine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}. "
        f"Three parties and their threads share {m['cores']} cores, over loopback.\n"
    )
    other = report["other_cpu_pct"]
    worst = max((v for runs in other.values() for v in runs if v is not None), default=None)
    if worst is not None:
        per = "; ".join(
            f"{LABELS[s]} " + ", ".join("?" if v is None else f"{v:.0f}%" for v in other[s])
            for s in SYSTEMS
        )
        out.append(
            f"CPU used by other work during each run (share of all cores, approximate): {per}.\n"
        )
        if worst > 10:
            out.append(
                f"**Warning:** other work took up to {worst:.0f}% of the CPUs during a run; "
                "it competes with the parties for the same cores, so these figures are noisier "
                "than usual. Rerun on a quiet machine for a measurement.\n"
            )
    ov = med["ternion"]["overlap"]
    rounds = med["ternion"]["rounds_64x1m"]["rounds"]
    out.append("## Headline figures\n")
    out.append("| metric | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |")
    out.append("|---|" + "---:|" * len(SYSTEMS))
    for key, label, unit, get in HEADLINE:
        if key == "rounds_64x1m.median_s":
            label = f"{rounds} rounds of 1M u64, total"
        cells = [fmt(get(med[s]), unit) for s in SYSTEMS]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    out.append(
        f"Overlap: a {ov['bytes'] >> 20} MiB exchange alongside {ov['passes']} compute passes "
        f"over 1M u64; ratio = together / max(compute alone, exchange alone), 1.0 is perfect.\n"
    )
    out.append("| overlap detail | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |")
    out.append("|---|" + "---:|" * len(SYSTEMS))
    for k in ("compute_s", "exchange_s", "together_s"):
        out.append(f"| {k[:-2]} | " + " | ".join(fmt(med[s]["overlap"][k], "s") for s in SYSTEMS) + " |")
    out.append("")
    out.append("## Ratios against targets\n")
    out.append("| ratio | definition | value | target | met |")
    out.append("|---|---|---:|---:|:---:|")
    defs = {
        "plain_vs_best_128mib": "plaintext ternion / max(OpenMPI, raw TCP), MiB/s at 128 MiB",
        "plain_cpu_per_gib_vs_raw": "plaintext ternion / raw TCP, CPU s per GiB at 128 MiB",
        "encrypted_vs_plain_throughput_128mib": "encrypted / plaintext ternion, MiB/s at 128 MiB",
        "encrypted_vs_tls_128mib": "encrypted ternion / OpenSSL TLS, MiB/s at 128 MiB",
        "encrypted_rounds_vs_tls": "encrypted ternion / OpenSSL TLS, rounds total time",
        "plain_rounds_vs_best": "plaintext ternion / min(OpenMPI, raw TCP), rounds total time",
        "open_1m": "ternion / OpenMPI, open 1M u64 at rank 0",
        "latency_8b": "ternion / OpenMPI, mean 8 B latency",
        "wait_wait_exchange": "MPI drop-in / OpenMPI, Irecv+Isend+Wait+Wait of one u64",
        "mpi_vs_native_latency_8b": "MPI drop-in / native ternion, mean 8 B latency",
        "mpi_vs_native_throughput_128mib": "MPI drop-in / native ternion, MiB/s at 128 MiB",
        "encrypted_vs_plain_latency_8b": "encrypted / plaintext ternion, mean 8 B latency",
        "overlap": "ternion overlap ratio",
        "secrecy_total": "ternion / OpenMPI, Secrecy's experiments, total time",
        "secrecy_worst": "ternion / OpenMPI, the slowest Secrecy experiment",
    }
    for name, t in report["ratios"]["targets"].items():
        out.append(
            f"| {name} | {defs[name]} | {t['value']:.3f} | {t['target']} | "
            f"{'met' if t['met'] else 'not met'} |"
        )
    r = report["ratios"]
    out.append("")
    out.append(
        "Without target (encrypted ternion against plaintext baselines): "
        f"MiB/s at 128 MiB / OpenMPI = {r['throughput_128mib']:.3f}, / raw TCP = "
        f"{r['throughput_vs_raw_128mib']:.3f}; rounds / OpenMPI = {r['rounds_64x1m']:.3f}, "
        f"/ raw TCP = {r['rounds_64x1m_vs_raw']:.3f}; CPU per GiB / raw TCP = "
        f"{r['encrypted_cpu_per_gib_vs_raw']:.3f}; latency / raw TCP = "
        f"{r['latency_8b_vs_raw']:.3f}. MPI drop-in / OpenMPI: latency "
        f"{r['mpi_latency_8b']:.3f}, MiB/s at 128 MiB {r['mpi_throughput_128mib']:.3f}, "
        f"rounds {r['mpi_rounds_64x1m']:.3f}.\n"
    )
    out.append("## CPU seconds per GiB sent (all three parties, user + system)\n")
    out.append("| workload | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |")
    out.append("|---|" + "---:|" * len(SYSTEMS))
    for key in (CPU_128MIB, f"throughput_{4 << 20}", "rounds_64x1m", "open_1m"):
        cells = [f"{med[s]['cpu'][key]['cpu_s_per_gib']:.3f}" for s in SYSTEMS]
        out.append(f"| {key} | " + " | ".join(cells) + " |")
    out.append("")
    aead = report.get("aead")
    if aead:
        out.append("## The AEAD on one core (bench/aead, sealing in place)\n")
        out.append("| implementation | algorithm | record | GiB/s | seal + open, CPU s per GiB |")
        out.append("|---|---|---:|---:|---:|")
        for row in aead["results"]:
            out.append(
                f"| {row['implementation']} | {row['algorithm']} | {row['record_bytes']} B | "
                f"{row['seal_gib_per_s']:.2f} | {row['seal_and_open_cpu_s_per_gib']:.3f} |"
            )
        best = min(
            (r for r in aead["results"] if r["algorithm"] == "aes256gcm"),
            key=lambda r: r["seal_and_open_cpu_s_per_gib"],
        )
        plain = med["ternion_plain"]["cpu"][CPU_128MIB]["cpu_s_per_gib"]
        enc = med["ternion"]["cpu"][CPU_128MIB]["cpu_s_per_gib"]
        out.append("")
        out.append(
            f"Floor for encrypted 128 MiB: plaintext ternion's {plain:.3f} CPU s/GiB plus one seal "
            f"and one open with {best['implementation']} ({best['seal_and_open_cpu_s_per_gib']:.3f}) "
            f"= {plain + best['seal_and_open_cpu_s_per_gib']:.3f}; encrypted ternion measured "
            f"{enc:.3f}.\n"
        )
    secrecy = report.get("secrecy")
    if secrecy:
        out.append(
            f"## Secrecy's experiments (its own timed sections, rank 0; median of "
            f"{secrecy['rounds']} interleaved round(s))\n"
        )
        names = ["ternion", "ternion_plain", "openmpi_tcp"]
        out.append("| experiment | arguments | " + " | ".join(LABELS[s] for s in names)
                   + " | encrypted / OpenMPI |")
        out.append("|---|---|" + "---:|" * (len(names) + 1))
        for name, e in secrecy["experiments"].items():
            cells = [f"{e[s]['median_s']:.3f} s" for s in names]
            ratio = e["ternion"]["median_s"] / e["openmpi_tcp"]["median_s"]
            out.append(f"| {name} | {e['arguments']} | " + " | ".join(cells) + f" | {ratio:.2f} |")
        out.append("")
    n = med["ternion"]["exchange_patterns"]["exchanges"]
    out.append(f"## One-element exchanges by request pattern (mean of {n})\n")
    out.append("| pattern | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |")
    out.append("|---|" + "---:|" * len(SYSTEMS))
    for k in PATTERNS:
        cells = [fmt(med[s]["exchange_patterns"][k + "_us"], "µs") for s in SYSTEMS]
        out.append(f"| {k} | " + " | ".join(cells) + " |")
    out.append("")
    out.append(
        "Raw TCP and OpenSSL TLS have no requests: their three patterns are a blocking "
        "send then receive, and twice the concurrent exchange.\n"
    )
    out.append(f"## Spread across {report['runs']} run(s) (min – max)\n")
    if report["runs"] == 1:
        out.append("One run per system: no spread to show; use --runs N for N > 1.\n")
    else:
        out.append("| metric | " + " | ".join(LABELS[s] for s in SYSTEMS) + " |")
        out.append("|---|" + "---:|" * len(SYSTEMS))
        for key, label, unit, _get in HEADLINE:
            cells = []
            for s in SYSTEMS:
                sp = report["spread"][s][key]
                cells.append(f"{fmt(sp['min'], unit)} – {fmt(sp['max'], unit)}")
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        out.append("")
    out.append(
        "Definitions: bench/common.h (baselines) and `ternion bench` implement the same six "
        "workloads; OpenMPI runs with `--mca pml ob1 --mca btl tcp,self` on `lo`. "
        "Raw runs are in report.json under `raw_runs`.\n"
    )
    return "\n".join(out).rstrip("\n") + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="bench output directory (holds runs/)")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    raw = {s: [] for s in SYSTEMS}
    other = {s: [] for s in SYSTEMS}
    try:
        for s in SYSTEMS:
            for i in range(1, args.runs + 1):
                path = os.path.join(args.dir, "runs", f"{s}-{i}.json")
                try:
                    with open(path, encoding="utf-8") as f:
                        d = json.load(f)
                except (OSError, ValueError) as e:
                    raise SchemaError(f"{path}: not a JSON benchmark result ({e})") from e
                check_run(d, s, args.quick, path)
                raw[s].append(d)
                other[s].append(read_other_cpu(os.path.join(args.dir, "runs", f"{s}-{i}.cpu.json")))
    except SchemaError as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1

    med = {s: median_of(raw[s]) for s in SYSTEMS}
    n = cores()
    report = {
        "machine": {
            "cores": n,
            "cpu": cpu_model(),
            "kernel": platform.release(),
            "note": f"three parties share {n} cores",
        },
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": args.runs,
        "quick": args.quick,
        **med,
        "ratios": compute_ratios(med),
        "other_cpu_pct": other,
        "spread": compute_spread(raw),
        "raw_runs": raw,
    }
    aead = read_optional(os.path.join(args.dir, "aead.json"))
    if aead is not None:
        report["aead"] = aead
    secrecy = read_optional(os.path.join(args.dir, "secrecy.json"))
    if secrecy is not None:
        report["secrecy"] = secrecy
        add_secrecy_ratios(report["ratios"], secrecy)
    with open(os.path.join(args.dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.dir, "report.md"), "w", encoding="utf-8") as f:
        f.write(render_md(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
