#!/usr/bin/env python3
"""Compares a program's output in three in-kernel guests with its hosted run.

    program_output.py HOSTED_STDOUT HOSTED_STDERR GUEST0_LOG GUEST1_LOG GUEST2_LOG

The hosted files are `ternion run -n 3`'s streams, each line "[rank] text".
In a guest's console the in-kernel C library tags the program's lines
"stdout| text" and "stderr| text" (a long line continues in "stdout+ "
pieces); everything else there is the kernel's or ternion's own. For each
rank and stream the lines must be equal, in order, once the decimal
fractions Secrecy prints as elapsed seconds are masked: those are its
timing lines, which differ between any two runs. The hosted stderr lines
ternion itself writes ("ternion: ...", "ternion MPI: ...", as when a job
aborts) are not the program's and are left out; in the kernel the same
reports are untagged. Prints each difference and exits 1 if there is one.
"""
import re
import sys

CONSOLE_PREFIX = re.compile(r'^\[\s*\d+\.\d+\] (ternion: )?')
SECONDS = re.compile(r'\d+\.\d+')
TERNION_OWN = re.compile(r'^ternion( MPI)?: ')


def masked(line):
    return SECONDS.sub('<seconds>', line)


def hosted_lines(path):
    lines = {0: [], 1: [], 2: []}
    with open(path, 'rb') as f:
        for raw in f.read().decode('utf-8', 'replace').splitlines():
            m = re.match(r'^\[(\d)\] ?(.*)$', raw)
            if m and int(m.group(1)) in lines and not TERNION_OWN.match(m.group(2)):
                lines[int(m.group(1))].append(masked(m.group(2)))
    return lines


def guest_lines(path):
    streams = {'stdout': [], 'stderr': []}
    with open(path, 'rb') as f:
        for raw in f.read().decode('utf-8', 'replace').splitlines():
            line = CONSOLE_PREFIX.sub('', raw.rstrip('\r'))
            m = re.match(r'^(stdout|stderr)([|+]) ?(.*)$', line)
            if not m:
                continue
            stream, mark, text = m.groups()
            if mark == '+' and streams[stream]:
                streams[stream][-1] += text
            else:
                streams[stream].append(text)
    return {s: [masked(l) for l in ls] for s, ls in streams.items()}


def main():
    hosted = {'stdout': hosted_lines(sys.argv[1]), 'stderr': hosted_lines(sys.argv[2])}
    differences = 0
    compared = 0
    for rank, log in enumerate(sys.argv[3:6]):
        guest = guest_lines(log)
        for stream in ('stdout', 'stderr'):
            want, got = hosted[stream][rank], guest[stream]
            compared += len(want)
            if want == got:
                continue
            differences += 1
            print('  rank %d %s: hosted %d lines, kernel %d' % (rank, stream, len(want), len(got)))
            for i in range(max(len(want), len(got))):
                w = want[i] if i < len(want) else '(none)'
                g = got[i] if i < len(got) else '(none)'
                if w != g:
                    print('    line %d\n      hosted: %s\n      kernel: %s' % (i + 1, w, g))
                    break
    print('  %d hosted lines compared, %d streams differ' % (compared, differences))
    return 1 if differences else 0


if __name__ == '__main__':
    sys.exit(main())
