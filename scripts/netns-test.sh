#!/usr/bin/env bash
# "Three real hosts": the MPI conformance programs of tests/mpi with each rank
# in its own network namespace, as three machines on one switch.
#
#   scripts/netns-test.sh [--quick] [--keep]
#
#   --quick  fewer programs on the wide-area path (the rest is unchanged)
#   --keep   keep the work directory (logs, outputs, keys) even on success
#
# What it does (as root; it needs `ip` from iproute2):
#  1. A fourth namespace holds a Linux bridge (10.77.0.254/24); three rank
#     namespaces hang off it by veth pairs, rank R at 10.77.0.(R+1)/24.  The
#     host's own interfaces and routes are never touched, and every
#     namespace is deleted on exit, failure or Ctrl-C.
#  2. direct:   every conformance program (built by tests/mpi/run.sh's build
#     step with ternion-mpicc/-mpicxx), each rank started by
#     `ip netns exec` with the TERNION_* environment `ternion run` would give
#     it; rank files must be byte-identical to a loopback reference made by
#     `tests/mpi/run.sh run ... ternion run -n 3 --`, abort must end every
#     rank with 7, truncate must end every rank with the same non-zero code
#     and rank 0 must report the truncation.
#  3. link cut: ring_exchange on the direct path while rank 1's interface is
#     down for 2 s (TERNION_CUT_SECONDS) mid-exchange; the job must finish
#     with the same results.
#  4. wan:      the programs again across the wide-area emulator
#     (tests/wan, `ternion-wan run --profile cross-region`: 20 +-2 ms round
#     trip, 1 Gbit/s, 0.01% loss, below TCP), each rank in one of its three
#     namespaces at its address there; the emulator must have carried
#     packets on every path.
#
# One PASS/FAIL line per check; exits 1 if any check failed, 3 if it cannot
# run here (not root, no namespaces, drop-in not built).  TERNION_MPI_TIMEOUT
# sets the per-program limit in seconds (default 60).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
cd "$repo_root"

QUICK=0
KEEP=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --keep) KEEP=1 ;;
    -h | --help)
      awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown argument: $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

TERNION=target/release/ternion
WAN=target/release/ternion-wan
TERNION_CC=target/release/ternion-mpicc
TERNION_CXX=target/release/ternion-mpicxx
TIMEOUT_SECONDS=${TERNION_MPI_TIMEOUT:-60}

# Names carry this script's PID so concurrent runs cannot collide, and so a
# run killed too hard to clean up can be recognised later (see below).
NS_PREFIX=ternion-nt
RUN_ID=$$
NS_HUB=$NS_PREFIX-$RUN_ID-hub
NS_RANK=("$NS_PREFIX-$RUN_ID-r0" "$NS_PREFIX-$RUN_ID-r1" "$NS_PREFIX-$RUN_ID-r2")
SUBNET_PREFIX=10.77.0
HUB_ADDR=$SUBNET_PREFIX.254
RANK_ADDR=("$SUBNET_PREFIX.1" "$SUBNET_PREFIX.2" "$SUBNET_PREFIX.3")
RANK_PORT=7100
WAN_PROFILE=cross-region
CUT_PROGRAM=ring_exchange
CUT_RANK=1
# A party is presumed dead after 5 s of silence (the default
# TERNION_PEER_TIMEOUT_MS; heartbeats go every second).  TCP resends a lost
# segment at +0.2, 0.6, 1.4, 3.0 s (RTO 200 ms on this LAN), so after a 2 s
# outage data flows again about 3 s after the first loss and no peer is
# silent for more than about 4 s: the defaults must ride it out.  Longer
# cuts outlast TCP's own recovery: the dialling ranks then replace the
# silent connections and the links resume (4 s passes with the defaults).
CUT_SECONDS=${TERNION_CUT_SECONDS:-2}
# How long after every rank has opened its output file (right after
# MPI_Init, i.e. once all links are up) the link goes down.  ring_exchange
# takes 1.5-3 s here, so 0.3 s is well inside its exchanges (the check
# also requires traffic on the link both before the cut and after it).
CUT_AFTER_SECONDS=0.3
# Programs of the wide-area run under --quick: the bulk ring, the
# many-small-messages one, and the two that must fail.
QUICK_WAN_PROGRAMS=(ring_exchange async_exchange abort truncate)

script_start=$EPOCHREALTIME
now() { printf '%s\n' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
stamp() { date +%H:%M:%S.%3N; }
log() { printf '  [%s] %s\n' "$(stamp)" "$*"; }

# ---- preconditions -------------------------------------------------------------

skip() {
  echo "SKIP: $*"
  exit 3
}
((EUID == 0)) || skip "network namespaces need root"
scripts/deps.sh install build netns wan
scripts/deps.sh need ip sysctl cc c++ || exit 1
# The launcher, the drop-in's libraries, its compiler wrappers and the
# wide-area emulator.
cargo build --release -q

# ---- clean-up ----------------------------------------------------------------

STARTED_PIDS=()
CREATED_NS=()
work=""

# Removes namespaces left by earlier runs that died without cleaning up
# (SIGKILL): only ours (the prefix), and only if that run's PID is gone.
# What still runs inside them was started by that run.
remove_stale_namespaces() {
  local ns pid stray
  while read -r ns _; do
    [[ $ns =~ ^$NS_PREFIX-([0-9]+)- ]] || continue
    pid=${BASH_REMATCH[1]}
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "removing namespace $ns left by an earlier run (PID $pid)"
      for stray in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$stray" 2>/dev/null || true
      done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done < <(ip netns list)
}

cleanup() {
  local rc=$? pid ns _
  set +e
  trap - EXIT INT TERM
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  # Up to 3 s to exit (`timeout` passes the TERM on to its program).
  for _ in $(seq 30); do
    for pid in "${STARTED_PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null && break
      pid=""
    done
    [[ -z $pid ]] && break
    sleep 0.1
  done
  # Anything still inside our namespaces was started by this run: end it
  # by PID before the namespace goes, or it would keep the namespace alive.
  for ns in "${CREATED_NS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
  done
  for pid in "${STARTED_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${CREATED_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null || echo "warning: could not delete namespace $ns" >&2
  done
  if [[ -n $work && -d $work ]]; then
    if ((rc == 0 && KEEP == 0)); then
      rm -rf "$work"
    else
      echo "logs and outputs kept in $work"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT
trap 'echo "terminated"; exit 143' TERM

# ---- results --------------------------------------------------------------------

PASSED=0
FAILED=0
pass() {
  echo "PASS $*"
  PASSED=$((PASSED + 1))
}
fail() {
  echo "FAIL $*"
  FAILED=$((FAILED + 1))
}

# ---- network -------------------------------------------------------------------

add_namespace() {
  ip netns add "$1" || skip "cannot create network namespace $1"
  CREATED_NS+=("$1")
  ip -n "$1" link set lo up
}

make_network() {
  local r
  add_namespace "$NS_HUB"
  # No STP and no forwarding delay: a port that comes back up forwards at
  # once, like a switch port with portfast.
  ip -n "$NS_HUB" link add br0 type bridge stp_state 0 forward_delay 0
  ip -n "$NS_HUB" addr add "$HUB_ADDR/24" dev br0
  ip -n "$NS_HUB" link set br0 up
  for r in 0 1 2; do
    add_namespace "${NS_RANK[r]}"
    # Both ends are created inside the namespaces, never in the host's.
    ip -n "$NS_HUB" link add "v$r" type veth peer name eth0 netns "${NS_RANK[r]}"
    ip -n "$NS_HUB" link set "v$r" master br0 up
    ip -n "${NS_RANK[r]}" addr add "${RANK_ADDR[r]}/24" dev eth0
    ip -n "${NS_RANK[r]}" link set eth0 up
  done
}

# Reads one counter of a rank's interface (the namespace's own /sys).
iface_bytes() {
  ip netns exec "${NS_RANK[$1]}" cat "/sys/class/net/eth0/statistics/$2"
}

# Bytes through the cut rank's interface so far, both directions.
cut_link_bytes() {
  echo $(($(iface_bytes "$CUT_RANK" rx_bytes) + $(iface_bytes "$CUT_RANK" tx_bytes)))
}

# ---- jobs --------------------------------------------------------------------

random_session() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# Starts PROG as the three ranks, rank R in namespace JOB_NS[R] with peer
# list PEERS[R], as `ternion run` starts them (see
# platform-linux/src/bin/ternion/launch.rs: TERNION_RANK, TERNION_PEERS,
# TERNION_SESSION, TERNION_PRIVATE_KEY_FILE, TERNION_PUBLIC_KEYS).  The
# session is fresh for every job, as `ternion run`'s is, so that a rank
# never takes a connection from the ranks of an earlier job for its own.
#   start_job PROG OUTDIR PEERS0 PEERS1 PEERS2
RANK_PIDS=()
JOB_NS=("${NS_RANK[@]}")
start_job() {
  local prog=$1 outdir=$2 session r
  local -a peers=("$3" "$4" "$5")
  session=$(random_session)
  rm -rf "$outdir" "$outdir".rank*
  mkdir -p "$outdir"
  RANK_PIDS=()
  for r in 0 1 2; do
    ip netns exec "${JOB_NS[r]}" \
      timeout -k 10 "$TIMEOUT_SECONDS" \
      env TERNION_RANK="$r" TERNION_PEERS="${peers[r]}" TERNION_SESSION="$session" \
      TERNION_PRIVATE_KEY_FILE="$work/keys/rank$r.key" TERNION_PUBLIC_KEYS="$PUBLIC_KEYS" \
      "$work/bin/$prog" "$outdir" \
      </dev/null >"$outdir.rank$r.stdout" 2>"$outdir.rank$r.stderr" &
    RANK_PIDS[r]=$!
    STARTED_PIDS+=("$!")
  done
}

RANK_RC=()
wait_job() {
  local r
  RANK_RC=()
  for r in 0 1 2; do
    RANK_RC[r]=0
    wait "${RANK_PIDS[r]}" || RANK_RC[r]=$?
  done
}

all_running() {
  local pid
  for pid in "${RANK_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || return 1
  done
}

codes() { printf '%s/%s/%s' "${RANK_RC[0]}" "${RANK_RC[1]}" "${RANK_RC[2]}"; }

# Why a finished job is wrong, or nothing if it is right: the exit codes
# tests/mpi/run.sh expects (for every rank, since no launcher collects
# them here), then rank files byte-identical to the loopback reference.
judge_job() {
  local prog=$1 outdir=$2 r f failure ref_files files
  for r in 0 1 2; do
    if ((RANK_RC[r] == 124 || RANK_RC[r] == 137)); then
      echo "rank $r timed out after $TIMEOUT_SECONDS s (exit codes $(codes))"
      return
    fi
  done
  if failure=$(grep -ho -m1 "$prog rank [0-9]*: FAIL.*" "$outdir".rank*.stderr); then
    echo "self-check failed: ${failure%%$'\n'*}"
    return
  fi
  case $prog in
    abort)
      # abort.c: rank 1 calls MPI_Abort(MPI_COMM_WORLD, 7); every rank must
      # end with 7, the other two because the abort reached them.
      if [[ $(codes) != 7/7/7 ]]; then
        echo "exit codes $(codes), expected 7 on every rank"
        return
      fi
      ;;
    truncate)
      # truncate.c: rank 0's receive is too short; the job must end on
      # every rank (rank 0's error aborts the others) with one non-zero code.
      if ((RANK_RC[0] == 0)) || [[ $(codes) != "${RANK_RC[0]}/${RANK_RC[0]}/${RANK_RC[0]}" ]]; then
        echo "exit codes $(codes), expected the same non-zero code on every rank"
        return
      fi
      if ! grep -qi 'truncat' "$outdir.rank0.stderr"; then
        echo "rank 0's stderr does not mention the truncation"
        return
      fi
      if ! grep -Eqi 'rank[[:space:]:=#]*0([^0-9]|$)' "$outdir.rank0.stderr"; then
        echo "rank 0's stderr does not name rank 0"
        return
      fi
      ;;
    *)
      if [[ $(codes) != 0/0/0 ]]; then
        for r in 0 1 2; do
          if ((RANK_RC[r] != 0)); then
            echo "exit codes $(codes), expected 0 (rank $r: $(head -c 300 "$outdir.rank$r.stderr" | tr '\n' ' '))"
            return
          fi
        done
      fi
      ;;
  esac
  for r in 0 1 2; do
    if [[ ! -s $outdir/rank$r.txt ]]; then
      echo "exit codes $(codes) but $outdir/rank$r.txt is missing or empty"
      return
    fi
  done
  ref_files=$(cd "$work/ref/$prog" && ls)
  files=$(cd "$outdir" && ls)
  if [[ $files != "$ref_files" ]]; then
    echo "rank files [${files//$'\n'/ }] differ from the reference's [${ref_files//$'\n'/ }]"
    return
  fi
  for f in $files; do
    if ! cmp -s "$outdir/$f" "$work/ref/$prog/$f"; then
      echo "$f differs from the loopback reference ($(cmp "$outdir/$f" "$work/ref/$prog/$f" 2>&1 | head -1))"
      return
    fi
  done
}

# Runs PROG on every rank and reports PASS/FAIL as "LABEL PROG".
#   run_check LABEL PROG PEERS0 PEERS1 PEERS2
run_check() {
  local label=$1 prog=$2 outdir start reason
  outdir=$work/$label/$prog
  start=$(now)
  start_job "$prog" "$outdir" "$3" "$4" "$5"
  wait_job
  reason=$(judge_job "$prog" "$outdir")
  if [[ -z $reason ]]; then
    pass "$label $prog (exit $(codes), $(elapsed "$start" "$(now)") s)"
  else
    fail "$label $prog: $reason (logs: $outdir.rank*.stderr)"
  fi
}

# ---- the test ----------------------------------------------------------------

remove_stale_namespaces
work=$(mktemp -d "${TMPDIR:-/tmp}/ternion-netns.XXXXXX")
echo "== ternion across three network namespaces (run $RUN_ID, work directory $work)"

echo "== build the conformance programs (tests/mpi/run.sh build)"
if ! tests/mpi/run.sh build "$work/bin" "$TERNION_CC" "$TERNION_CXX" >"$work/build.log" 2>&1; then
  sed 's/^/    /' "$work/build.log"
  fail "build: tests/mpi/run.sh build failed"
  exit 1
fi
pass "build ($(grep -c '^  built ' "$work/build.log") programs)"

echo "== loopback reference (tests/mpi/run.sh run ... $TERNION run -n 3 --)"
if ! tests/mpi/run.sh run "$work/bin" "$work/ref" "$TERNION" run -n 3 -- >"$work/ref.log" 2>&1; then
  sed 's/^/    /' "$work/ref.log"
  fail "reference: the loopback run failed, nothing to compare with"
  exit 1
fi
pass "reference ($(grep -o 'suite took .*' "$work/ref.log"))"
# The programs are those run.sh ran (one output directory each).
PROGRAMS=()
for dir in "$work"/ref/*/; do
  prog=$(basename "$dir")
  if [[ -x $work/bin/$prog ]]; then PROGRAMS+=("$prog"); fi
done

echo "== network: bridge in $NS_HUB ($HUB_ADDR), ranks in ${NS_RANK[*]}"
make_network
for r in 0 1 2; do
  log "rank $r: $(ip -n "${NS_RANK[r]}" -br addr show dev eth0 | tr -s ' ')"
done

# Keys as each party would make them, once; `ternion keygen` prints the
# public key.
mkdir -p "$work/keys"
public=()
for r in 0 1 2; do
  public[r]=$("$TERNION" keygen --out "$work/keys/rank$r.key" 2>/dev/null)
done
PUBLIC_KEYS=$(
  IFS=,
  echo "${public[*]}"
)

DIRECT_PEERS="${RANK_ADDR[0]}:$RANK_PORT,${RANK_ADDR[1]}:$RANK_PORT,${RANK_ADDR[2]}:$RANK_PORT"

echo "== direct: every program, each rank in its own namespace"
for prog in "${PROGRAMS[@]}"; do
  run_check direct "$prog" "$DIRECT_PEERS" "$DIRECT_PEERS" "$DIRECT_PEERS"
done

echo "== link cut: $CUT_PROGRAM (direct path), rank $CUT_RANK's link down for $CUT_SECONDS s mid-run"
link_cut() {
  local outdir=$work/linkcut/$CUT_PROGRAM start deadline reason
  local down_at up_at moved_before moved_after bytes_marker bytes_down bytes_up bytes_end
  local running_at_down=0 running_at_up=0
  start=$(now)
  start_job "$CUT_PROGRAM" "$outdir" "$DIRECT_PEERS" "$DIRECT_PEERS" "$DIRECT_PEERS"
  # The marker: every rank has opened its rank file, which the programs do
  # right after MPI_Init returns, i.e. once all three links are up.
  deadline=$(awk -v t="$(now)" 'BEGIN { print t + 30 }')
  until [[ -e $outdir/rank0.txt && -e $outdir/rank1.txt && -e $outdir/rank2.txt ]]; do
    if ! all_running || awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
      break
    fi
    sleep 0.02
  done
  if [[ -e $outdir/rank0.txt && -e $outdir/rank1.txt && -e $outdir/rank2.txt ]]; then
    log "all ranks connected after $(elapsed "$start" "$(now)") s"
  else
    log "the ranks did not all connect (a rank ended, or 30 s passed); cutting anyway"
  fi
  bytes_marker=$(cut_link_bytes)
  sleep "$CUT_AFTER_SECONDS"
  if all_running; then running_at_down=1; fi
  bytes_down=$(cut_link_bytes)
  ip -n "${NS_RANK[CUT_RANK]}" link set eth0 down
  down_at=$(now)
  log "rank $CUT_RANK's eth0 DOWN at +$(elapsed "$start" "$down_at") s (job running: $running_at_down)"
  sleep "$CUT_SECONDS"
  if all_running; then running_at_up=1; fi
  ip -n "${NS_RANK[CUT_RANK]}" link set eth0 up
  up_at=$(now)
  bytes_up=$(cut_link_bytes)
  log "rank $CUT_RANK's eth0 UP   at +$(elapsed "$start" "$up_at") s, down for $(elapsed "$down_at" "$up_at") s (job running: $running_at_up)"
  wait_job
  bytes_end=$(cut_link_bytes)
  log "job ended at +$(elapsed "$start" "$(now)") s with exit codes $(codes)"
  moved_before=$((bytes_down - bytes_marker))
  moved_after=$((bytes_end - bytes_up))
  log "rank $CUT_RANK's link moved $moved_before bytes between connecting and the cut, $moved_after after it"
  reason=$(judge_job "$CUT_PROGRAM" "$outdir")
  if [[ -z $reason ]] && ((!running_at_down || !running_at_up)); then
    reason="the job was not running for the whole cut (at down: $running_at_down, at up: $running_at_up)"
  fi
  # Bytes both sides of the cut: the outage fell inside the exchange.
  if [[ -z $reason ]] && ((moved_before == 0 || moved_after == 0)); then
    reason="the exchange was not under way on both sides of the cut ($moved_before bytes before, $moved_after after)"
  fi
  if [[ -z $reason ]]; then
    pass "linkcut $CUT_PROGRAM (exit $(codes), $(elapsed "$start" "$(now)") s, link down $(elapsed "$down_at" "$up_at") s mid-exchange)"
  else
    fail "linkcut $CUT_PROGRAM: $reason (logs: $outdir.rank*.stderr)"
  fi
}
link_cut

wan_programs=("${PROGRAMS[@]}")
if ((QUICK)); then
  wan_programs=()
  for prog in "${PROGRAMS[@]}"; do
    if [[ " ${QUICK_WAN_PROGRAMS[*]} " == *" $prog "* ]]; then wan_programs+=("$prog"); fi
  done
fi

echo "== wan: across the wide-area emulator's $WAN_PROFILE profile (tests/wan), each rank in one of its namespaces"
# The emulator makes its three namespaces and runs a command with their
# names and addresses in TERNION_WAN_*; this one writes them down and
# waits. Ended by SIGTERM, the emulator deletes its namespaces and prints
# each path's counters.
mkdir -p "$work/wan"
"$WAN" run --profile "$WAN_PROFILE" -- bash -c \
  'env | grep "^TERNION_WAN_" >"$1.part" && mv "$1.part" "$1" && exec sleep infinity' _ "$work/wan/network" \
  2>"$work/wan/emulator.log" &
wan_pid=$!
STARTED_PIDS+=("$wan_pid")
for _ in $(seq 300); do
  [[ -e $work/wan/network ]] && break
  sleep 0.1
done
if [[ ! -e $work/wan/network ]]; then
  fail "wan: the emulator did not start (log: $work/wan/emulator.log)"
  exit 1
fi
declare -A wan_env
while IFS== read -r key value; do wan_env[$key]=$value; done <"$work/wan/network"
JOB_NS=("${wan_env[TERNION_WAN_NS_0]}" "${wan_env[TERNION_WAN_NS_1]}" "${wan_env[TERNION_WAN_NS_2]}")
WAN_PEERS="${wan_env[TERNION_WAN_ADDR_0]}:$RANK_PORT,${wan_env[TERNION_WAN_ADDR_1]}:$RANK_PORT,${wan_env[TERNION_WAN_ADDR_2]}:$RANK_PORT"
log "ranks in ${JOB_NS[*]}, TERNION_PEERS=$WAN_PEERS"
for prog in "${wan_programs[@]}"; do
  run_check wan "$prog" "$WAN_PEERS" "$WAN_PEERS" "$WAN_PEERS"
done
kill -TERM "$wan_pid"
wait "$wan_pid" || true
# The results only mean something if the traffic crossed the emulator:
# every one of its six paths must have delivered packets.
carried=$(grep -c -E '^ternion-wan: [0-2] -> [0-2]: [1-9][0-9]* delivered' "$work/wan/emulator.log" || true)
packets=$(awk '/^ternion-wan: [0-2] -> [0-2]: / { n += $5 } END { print n + 0 }' "$work/wan/emulator.log")
if ((carried == 6)); then
  pass "wan path ($packets packets through the emulator, on all 6 paths)"
else
  fail "wan path: $carried of the emulator's 6 paths carried packets (log: $work/wan/emulator.log)"
fi

echo
echo "$PASSED passed, $FAILED failed; total $(elapsed "$script_start" "$(now)") s"
if ((FAILED)); then
  echo "FAIL netns-test"
  exit 1
fi
echo "PASS netns-test"
