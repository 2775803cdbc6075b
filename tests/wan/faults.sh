#!/usr/bin/env bash
# Faults across the clouds (as root): the ring example, encrypted, with each
# party in its own namespace of `ternion-wan run --profile cross-region`,
# while every path to and from rank 1 is down for 10 s from 2 s in:
#  1. with TERNION_PEER_TIMEOUT_MS=30000 the job resumes and every rank
#     ends with the right value;
#  2. with the default peer timeout (5 s) it fails, ranks 0 and 2 naming
#     rank 1 as silent.
#
#   tests/wan/faults.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh install build wan
scripts/deps.sh need ip sysctl || exit 1
cargo build --release -q -p ternion-wan
cargo build --release -q -p ternion-linux --examples
rounds=${1:-1000}
work=target/wan-faults
failed=0

# The command ternion-wan runs: the three ranks, started as `ternion run`
# would start them, each in its namespace. Extra environment in $EXTRA_ENV.
job() {
  rm -rf "$work/keys" && mkdir -p "$work/keys"
  local r pub=() pids=() rc=0 session peers keys
  for r in 0 1 2; do
    pub[r]=$(target/release/ternion keygen --out "$work/keys/rank$r.key" 2>/dev/null)
  done
  keys=$(IFS=,; echo "${pub[*]}")
  peers="$TERNION_WAN_ADDR_0:7700,$TERNION_WAN_ADDR_1:7700,$TERNION_WAN_ADDR_2:7700"
  session=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  for r in 0 1 2; do
    local ns_var="TERNION_WAN_NS_$r"
    ip netns exec "${!ns_var}" timeout -k 5 120 env TERNION_RANK="$r" TERNION_PEERS="$peers" \
      TERNION_SESSION="$session" TERNION_PRIVATE_KEY_FILE="$work/keys/rank$r.key" \
      TERNION_PUBLIC_KEYS="$keys" ${EXTRA_ENV:-} target/release/examples/ring "$rounds" \
      >"$work/rank$r.out" 2>&1 &
    pids[r]=$!
  done
  for r in 0 1 2; do wait "${pids[r]}" || rc=1; done
  return "$rc"
}

if [[ ${1:-} == --job ]]; then
  rounds=$2
  job
  exit
fi

mkdir -p "$work"
wan() { target/release/ternion-wan run --profile cross-region --outage 1:2:10 -- "$0" --job "$rounds" 2>/dev/null; }

rc=0
EXTRA_ENV="TERNION_PEER_TIMEOUT_MS=30000" wan || rc=$?
right=0
for r in 0 1 2; do
  expected=$(((r + rounds) % 3 + rounds))
  grep -q "value $expected after $rounds rounds (expected $expected)" "$work/rank$r.out" && right=$((right + 1))
done
if [[ $rc == 0 && $right == 3 ]]; then
  echo "PASS a 10 s outage with a 30 s peer timeout: the job resumed, 3 ranks right"
else
  echo "FAIL a 10 s outage with a 30 s peer timeout: exit $rc, $right ranks right (logs in $work)"
  failed=1
fi

rc=0
wan || rc=$?
named=0
for r in 0 2; do
  grep -q "link to rank 1 failed: peer sent nothing for 5000 ms" "$work/rank$r.out" && named=$((named + 1))
done
if [[ $rc != 0 && $named == 2 ]]; then
  echo "PASS the same outage with the default timeout: the job failed, ranks 0 and 2 name rank 1"
else
  echo "FAIL the same outage with the default timeout: exit $rc, $named of ranks 0 and 2 name rank 1 (logs in $work)"
  failed=1
fi
exit "$failed"
