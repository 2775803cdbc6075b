#!/usr/bin/env bash
# The wide-area emulator's own checks (as root; needs `ip` and /dev/net/tun):
#  1. `ternion-wan verify` for PROFILE (default cross-region; `all` for the
#     three): TCP round trip and bulk rate through it within 10% of the profile;
#  2. Ctrl-C during `ternion-wan run` ends the command, exits 130 and leaves
#     none of its namespaces behind.
#
#   tests/wan/run.sh [PROFILE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/deps.sh install build wan
scripts/deps.sh need ip sysctl || exit 1
wan=target/release/ternion-wan
cargo build --release -q -p ternion-wan
profile=${1:-cross-region}
seconds=${2:-3}
failed=0

if "$wan" verify --profile "$profile" --seconds "$seconds" 2>/dev/null; then
  echo "PASS verify $profile"
else
  echo "FAIL verify $profile"
  failed=1
fi

"$wan" run -- sleep 60 2>/dev/null &
pid=$!
for _ in $(seq 50); do
  ip netns list | grep -q "^twan$pid-2" && break
  sleep 0.1
done
up=$(ip netns list | grep -c "^twan$pid-" || true)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
left=$(ip netns list | grep -c "^twan$pid-" || true)
if [[ $up == 3 && $rc == 130 && $left == 0 ]]; then
  echo "PASS Ctrl-C: exit 130, the 3 namespaces deleted"
else
  echo "FAIL Ctrl-C: $up namespaces up, exit $rc, $left left behind"
  failed=1
fi
exit "$failed"
