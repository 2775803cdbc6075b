#!/usr/bin/env python3
"""Draw a benchmark report as SVG pictures, with the standard library only.

    plots.py target/bench/report.json [OUTDIR]
    plots.py --wan target/bench/wan.json [OUTDIR]

Writes into OUTDIR (default: the report's directory):

  - throughput.svg: ring-exchange throughput against message size, one
    line per system (both axes logarithmic);
  - latency.svg: the 8-byte exchange's p50, mean and p99 per system;
  - cpu.svg: CPU seconds per GiB sent (all three parties) per system, for
    the 128 MiB exchange, the rounds and the open.

With --wan, the wide-area report (bench/wan_report.py) instead:

  - wan-rounds-PROFILE.svg for each profile: time per dependent ring round
    against message size, one line per system, and the path's floor (the
    one-way delay plus size / rate) dashed (both axes logarithmic).

SVG is drawn by hand so that a fresh machine needs no plotting library.
"""

import json
import math
import os
import sys
from xml.sax.saxutils import escape

from report import LABELS, SYSTEMS

COLOURS = {
    "ternion": "#1f77b4",
    "ternion_plain": "#17becf",
    "ternion_mpi": "#9467bd",
    "ternion_cubic": "#2ca02c",
    "openmpi_tcp": "#d62728",
    "raw_tcp": "#7f7f7f",
    "openssl_tls": "#ff7f0e",
}
WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 80, 190, 50, 60


class Svg:
    def __init__(self, title):
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'font-family="sans-serif" font-size="12">',
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
            f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>',
        ]

    def line(self, x1, y1, x2, y2, colour="#000", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}" stroke-width="{width}"{d}/>'
        )

    def text(self, x, y, s, anchor="start", rotate=None, colour="#000"):
        r = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate is not None else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{colour}"{r}>'
            f"{escape(s)}</text>"
        )

    def rect(self, x, y, w, h, colour):
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')

    def polyline(self, points, colour):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')

    def legend(self, systems):
        x = WIDTH - RIGHT + 15
        for i, s in enumerate(systems):
            y = TOP + 10 + 20 * i
            self.rect(x, y - 9, 12, 12, COLOURS[s])
            self.text(x + 18, y + 1, LABELS[s])

    def axes(self, xlabel, ylabel):
        x0, y0, x1, y1 = LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, TOP
        self.line(x0, y0, x1, y0)
        self.line(x0, y0, x0, y1)
        self.text((x0 + x1) / 2, HEIGHT - 15, xlabel, anchor="middle")
        self.text(20, (y0 + y1) / 2, ylabel, anchor="middle", rotate=-90)

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(self.parts + ["</svg>"]) + "\n")


def size_label(b):
    for unit, n in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= n:
            return f"{b // n} {unit}"
    return f"{b} B"


def log_ticks(lo, hi):
    """Powers of ten (and 2×, 5×) spanning [lo, hi]."""
    ticks = []
    e = math.floor(math.log10(lo))
    while 10**e <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10**e
            if lo / 1.0001 <= v <= hi * 1.0001:
                ticks.append(v)
        e += 1
    return ticks


def log_log_axes(svg, sizes, lo, hi, xlabel, ylabel):
    """Draws axes with both scales logarithmic, message sizes along x and
    values from lo to hi along y; returns the two coordinate mappings."""
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    lx = lambda b: x0 + (x1 - x0) * (math.log(b) - math.log(sizes[0])) / (math.log(sizes[-1]) - math.log(sizes[0]))  # noqa: E731
    ly = lambda v: y0 - (y0 - y1) * (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))  # noqa: E731
    svg.axes(xlabel, ylabel)
    for b in sizes:
        svg.line(lx(b), y0, lx(b), y0 + 4)
        svg.text(lx(b), y0 + 18, size_label(b), anchor="middle")
    for v in log_ticks(lo, hi):
        svg.line(x0, ly(v), x1, ly(v), "#ddd")
        svg.text(x0 - 6, ly(v) + 4, f"{v:g}", anchor="end")
    return lx, ly


def throughput_plot(report, date):
    svg = Svg(f"Ring-exchange throughput per party ({date})")
    sizes = [t["bytes"] for t in report["ternion"]["throughput"]]
    values = [t["mib_per_s"] for s in SYSTEMS for t in report[s]["throughput"]]
    lx, ly = log_log_axes(svg, sizes, min(values) / 1.3, max(values) * 1.3, "message size", "MiB/s (log)")
    for s in SYSTEMS:
        svg.polyline([(lx(t["bytes"]), ly(t["mib_per_s"])) for t in report[s]["throughput"]], COLOURS[s])
    svg.legend(SYSTEMS)
    return svg


def wan_rounds_plot(report, name):
    p = report["profiles"][name]
    systems = list(p["systems"])
    path = p["path"]
    svg = Svg(f"Time per round across {name} ({path['mean_rtt_ms']:g} ms, "
              f"{path['rate_bps'] / 1e9:g} Gbit/s; {p['run']['date']})")
    rounds = {s: [(r["bytes"], r["per_round_s"] * 1e3) for r in p["systems"][s]["rounds"]] for s in systems}
    sizes = [b for b, _ in rounds[systems[0]]]
    floor = [(b, p["floor"]["round_s"][str(b)] * 1e3) for b in sizes]
    values = [v for pts in rounds.values() for _, v in pts] + [v for _, v in floor]
    lx, ly = log_log_axes(svg, sizes, min(values) / 1.2, max(values) * 1.2,
                          "message size per party and round", "ms per round (log)")
    for (b1, v1), (b2, v2) in zip(floor, floor[1:]):
        svg.line(lx(b1), ly(v1), lx(b2), ly(v2), "#000", 1, "5,4")
    for s in systems:
        svg.polyline([(lx(b), ly(v)) for b, v in rounds[s]], COLOURS[s])
    svg.legend(systems)
    y = TOP + 10 + 20 * len(systems)
    svg.line(WIDTH - RIGHT + 15, y - 3, WIDTH - RIGHT + 27, y - 3, "#000", 1, "5,4")
    svg.text(WIDTH - RIGHT + 33, y + 1, "floor: delay + size/rate")
    return svg


def grouped_bars(title, ylabel, groups, value, unit):
    """One group per entry of `groups` (label, key), one bar per system."""
    svg = Svg(title)
    vmax = max(value(s, key) for _label, key in groups for s in SYSTEMS) * 1.15
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    ly = lambda v: y0 - (y0 - y1) * v / vmax  # noqa: E731
    svg.axes("", ylabel)
    step = 10 ** math.floor(math.log10(vmax / 2))
    for m in range(1, int(vmax / step) + 1):
        v = m * step
        if vmax / step > 10 and m % 2:
            continue
        svg.line(x0, ly(v), x1, ly(v), "#ddd")
        svg.text(x0 - 6, ly(v) + 4, f"{v:g}", anchor="end")
    gw = (x1 - x0) / len(groups)
    bw = gw * 0.8 / len(SYSTEMS)
    for g, (label, key) in enumerate(groups):
        gx = x0 + g * gw + gw * 0.1
        for i, s in enumerate(SYSTEMS):
            v = value(s, key)
            svg.rect(gx + i * bw, ly(v), bw - 2, y0 - ly(v), COLOURS[s])
            svg.text(gx + i * bw + bw / 2, ly(v) - 4, f"{v:.3g}{unit}", anchor="middle")
        svg.text(x0 + g * gw + gw / 2, y0 + 18, label, anchor="middle")
    svg.legend(SYSTEMS)
    return svg


def main():
    args = sys.argv[1:]
    wan = bool(args) and args[0] == "--wan"
    if wan:
        args = args[1:]
    if len(args) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    path = args[0]
    outdir = args[1] if len(args) == 2 else os.path.dirname(path) or "."
    if wan:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        for name in report["profiles"]:
            wan_rounds_plot(report, name).save(os.path.join(outdir, f"wan-rounds-{name}.svg"))
        return 0
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    date = report["date"]
    throughput_plot(report, date).save(os.path.join(outdir, "throughput.svg"))
    lat = [("p50", "p50_us"), ("mean", "mean_us"), ("p99", "p99_us")]
    grouped_bars(
        f"8-byte ring exchange latency ({date})",
        "µs",
        lat,
        lambda s, k: report[s]["latency_8b"][k],
        "",
    ).save(os.path.join(outdir, "latency.svg"))
    cpu = [("128 MiB exchange", "throughput_134217728"), ("rounds of 1M u64", "rounds_64x1m"), ("open 1M u64", "open_1m")]
    grouped_bars(
        f"CPU seconds per GiB sent, all three parties ({date})",
        "CPU s / GiB",
        cpu,
        lambda s, k: report[s]["cpu"][k]["cpu_s_per_gib"],
        "",
    ).save(os.path.join(outdir, "cpu.svg"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
