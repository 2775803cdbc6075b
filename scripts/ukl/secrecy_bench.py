#!/usr/bin/env python3
"""Summarises scripts/run-qemu.sh --secrecy-bench: each experiment's time in
kernel mode against hosted, and how much of it the parties sat blocked.

    secrecy_bench.py RUNS ROUNDS OUT.md ACCELERATOR EXPERIMENT...

RUNS/secbench-MODE-NAME-ROUND/guestR.log are the consoles of the guests (MODE
kernel or hosted). An experiment's time is the sum of the elapsed seconds
Secrecy's rank 0 prints for its timed sections (its own gettimeofday
figures, so start-up and share generation are left out). Each party's
usage line (TERNION_MPI_STATS) gives its span from MPI_Init to MPI_Finalize
and the part of it spent blocked in ternion's waits: waiting for the
network, or for a slower peer. The rest is the program's own computation.
Medians over the rounds; writes OUT.md and OUT.json (same name).
"""
import json
import re
import sys

CONSOLE_PREFIX = re.compile(r'^\[\s*\d+\.\d+\] (ternion: )?')
# Secrecy's timing lines end in a tab (or "Time: ") and the seconds.
ELAPSED = re.compile(r'(?:\t|Time: )(\d+\.\d+)\s*$')
USAGE = re.compile(r'ternion MPI: rank (\d) usage: ([\d.]+) s from MPI_Init to MPI_Finalize, '
                   r'([\d.]+) s \(')


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def console_lines(path):
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    for raw in text.splitlines():
        line = CONSOLE_PREFIX.sub('', raw.rstrip('\r'))
        yield re.sub(r'^std(out|err)\| ', '', line)


def job(runs, mode, name, round):
    """(Secrecy's elapsed seconds, the median party's blocked share)."""
    elapsed, shares = [], []
    for r in range(3):
        path = '%s/secbench-%s-%s-%d/guest%d.log' % (runs, mode, name, round, r)
        for line in console_lines(path):
            m = ELAPSED.search(line)
            if m and r == 0:
                elapsed.append(float(m.group(1)))
            m = USAGE.search(line)
            if m and int(m.group(1)) == r:
                span, blocked = float(m.group(2)), float(m.group(3))
                shares.append(blocked / span if span > 0 else 0.0)
        if len(shares) != r + 1:
            sys.exit('no usage line of rank %d in %s' % (r, path))
    if not elapsed:
        sys.exit('no elapsed time in %s/secbench-%s-%s-%d/guest0.log' % (runs, mode, name, round))
    return sum(elapsed), median(shares)


def main():
    runs, rounds, out, accelerator = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    names = sys.argv[5:]
    rows = [
        '| QEMU guests (%s), plaintext links | in-kernel | hosted | in-kernel / hosted '
        '| blocked in waits, in-kernel | blocked in waits, hosted |'
        % accelerator.split()[-1].upper(),
        '|---|---:|---:|---:|---:|---:|',
    ]
    report = {'accelerator': accelerator, 'rounds': rounds, 'experiments': {}}
    for name in names:
        kernel = [job(runs, 'kernel', name, n) for n in range(1, rounds + 1)]
        hosted = [job(runs, 'hosted', name, n) for n in range(1, rounds + 1)]
        k, h = median([t for t, _ in kernel]), median([t for t, _ in hosted])
        k_share, h_share = median([s for _, s in kernel]), median([s for _, s in hosted])
        per_round = [kt / ht for (kt, _), (ht, _) in zip(kernel, hosted)]
        rows.append('| %s | %.3f s | %.3f s | %.2f | %.0f%% | %.0f%% |'
                    % (name, k, h, k / h, 100 * k_share, 100 * h_share))
        report['experiments'][name] = {
            'kernel_seconds': k, 'hosted_seconds': h, 'ratio': k / h,
            'ratio_per_round': per_round,
            'kernel_blocked_share': k_share, 'hosted_blocked_share': h_share,
        }
    note = ('Medians over %d alternating rounds. Time: the sum of the elapsed seconds '
            'Secrecy prints for its timed sections (rank 0). Blocked: the share of each '
            'party\'s span from MPI_Init to MPI_Finalize spent in ternion\'s waits '
            '(median party); the rest is computation.' % rounds)
    with open(out, 'w') as f:
        f.write('\n'.join(rows) + '\n\n' + note + '\n')
    with open(re.sub(r'\.md$', '.json', out), 'w') as f:
        json.dump(report, f, indent=2)
    print('\n'.join(rows))
    print(note)


if __name__ == '__main__':
    main()
