#!/usr/bin/env bash
# Soak test: three local parties exchange checked traffic (1 to 3 messages of
# 1 B to 4 MiB from every party to each peer per round, every byte verified
# on arrival) while the connection of a random link is cut every 1-5 s through
# cutting proxies. Every 30 s it reports messages and bytes verified, cuts,
# resumes, and resident memory (now and peak); the summary compares the memory
# at the first report with the last, which should be flat.
#
#   scripts/soak.sh                        # 300 s (the default)
#   scripts/soak.sh --seconds 20 --report-seconds 5   # a quick check
#   scripts/soak.sh --seconds 20 --no-cuts # the same traffic, nothing cut
#   scripts/soak.sh --seed 42              # replay a run's traffic and cut choices
#                                          # (each run prints its seed)
#   scripts/soak.sh --insecure-plaintext   # plaintext links instead of encrypted
#
# Exits 0 only if every message arrived intact, in order and exactly once, and
# nothing failed; otherwise it names each party's error and the last cut.
# Cut links survive only with link resume; without it the first cut ends the
# run with the link's failure.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release -q -p ternion-linux --example soak -- "$@"
