#!/usr/bin/env python3
"""Checks that every command and flag the README names exists.

Usage: flags.py README TERNION_BINARY

- `ternion SUB ...` spans: SUB is a subcommand and each flag is in its --help;
- a bare `--flag` span: a party setting, so `ternion run --help` lists it;
- `scripts/NAME ...` spans: the script exists and names each flag.
Other tools' commands (cargo, mpirun, make, cmake) are run, not parsed.
Prints one line per check and exits non-zero if any failed.
"""
import os
import re
import subprocess
import sys


def help_text(ternion, sub):
    run = subprocess.run([ternion, sub, "--help"], capture_output=True, text=True)
    return run.stdout if run.returncode == 0 else None


def mentions(text, flag):
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def flags_in(span):
    return re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", span)


def main():
    readme, ternion = sys.argv[1], sys.argv[2]
    text = open(readme).read()
    spans = sorted(set(re.findall(r"`([^`\n]+)`", text)))
    fenced = re.findall(r"```(?:\w*)\n(.*?)```", text, re.S)
    for block in fenced:
        spans += [line.split("#")[0].strip() for line in block.splitlines()]
    failed = 0
    checked = 0

    def check(ok, what):
        nonlocal failed, checked
        checked += 1
        if not ok:
            failed += 1
        print(("ok      " if ok else "MISSING ") + what)

    helps = {}
    for span in spans:
        words = span.split()
        if len(words) >= 2 and words[0] == "ternion" and not words[1].startswith("-"):
            sub = words[1]
            own = span.split(" -- ")[0]
            helps.setdefault(sub, help_text(ternion, sub))
            check(helps[sub] is not None, f"ternion {sub} (from `{span}`)")
            for flag in flags_in(" ".join(own.split()[2:])):
                listed = helps[sub] is not None and mentions(helps[sub], flag)
                check(listed, f"ternion {sub} {flag} (from `{span}`)")
        elif re.fullmatch(r"--[a-z][a-z0-9-]*", span):
            helps.setdefault("run", help_text(ternion, "run"))
            listed = helps["run"] is not None and mentions(helps["run"], span)
            check(listed, f"ternion run {span} (a party setting the README names)")
        elif words and words[0].startswith("scripts/"):
            path = words[0]
            try:
                script = open(os.path.join(os.path.dirname(os.path.abspath(readme)), path)).read()
            except OSError:
                check(False, f"{path} exists (from `{span}`)")
                continue
            check(True, f"{path} exists")
            for flag in flags_in(" ".join(words[1:])):
                # Its option parser, or the usage of the program it hands "$@" to.
                check(mentions(script, flag), f"{path} knows {flag} (from `{span}`)")
    print(f"flags: {checked - failed} of {checked} found")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
