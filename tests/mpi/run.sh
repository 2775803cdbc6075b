#!/usr/bin/env bash
# The MPI conformance suite: builds the programs in tests/mpi/, runs them with
# an MPI launcher, and compares their rank output files between two runs.
#
#   tests/mpi/run.sh build DIR CC CXX
#       compile every program into DIR with the given compiler wrappers
#   tests/mpi/run.sh run DIR OUTROOT LAUNCHER...
#       run every program as `LAUNCHER... DIR/PROG OUTROOT/PROG` and check its
#       exit code (and, for abort and truncate, how the job ended)
#   tests/mpi/run.sh compare OUTROOT_A OUTROOT_B
#       require byte-identical OUTROOT_*/PROG/rank*.txt for every program
#   tests/mpi/run.sh differential
#       all of the above for Open MPI and for ternion's drop-in (built
#       first with cargo build --release), then compare
#
# Relative DIR/OUTROOT paths are taken from the caller's directory; a relative
# compiler or launcher path (one with a '/') from the caller's directory if it
# exists there, else from the repository root.  Commands run from the
# repository root.  TERNION_MPI_TIMEOUT sets the per-program limit (seconds).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
caller_dir=$PWD
cd "$repo_root"

C_PROGRAMS=(misc ring_exchange async_exchange open_reveal share_inputs abort truncate long_compute)
CXX_PROGRAMS=(cxx_ring)
PROGRAMS=("${C_PROGRAMS[@]}" "${CXX_PROGRAMS[@]}")
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Werror)
CXXFLAGS=(-std=c++17 -O2 -Wall -Wextra -Werror)
TIMEOUT_SECONDS=${TERNION_MPI_TIMEOUT:-120}
# abort.c calls MPI_Abort(MPI_COMM_WORLD, 7); Open MPI's mpirun exits with 7.
ABORT_EXIT_CODE=7

# Open MPI as the reference.  Beyond the plain loopback TCP set-up:
#  - btl_tcp_eager_limit 16 MiB: by default Open MPI sends
#    messages over 64 KiB by rendezvous, so a blocking MPI_Send waits for the
#    matching receive and Secrecy's send-before-receive ring deadlocks (the
#    standard allows that; the drop-in must not).  Eager up to 16 MiB covers
#    the largest message of the suite (1,000,000 x 8 bytes).
#  - op ^avx: Open MPI's AVX reduction kernels saturate 8- and 16-bit sums
#    instead of wrapping (open-mpi/ompi#8045); the base kernels wrap like C.
OPENMPI_LAUNCHER=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3
  --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include lo
  --mca btl_tcp_eager_limit 16777216 --mca op ^avx)
TERNION_CC=target/release/ternion-mpicc
TERNION_CXX=target/release/ternion-mpicxx
TERNION_LAUNCHER=(target/release/ternion run -n 3 --)

usage() {
  sed -n '2,19p' "$script_dir/run.sh" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# An output or build directory, absolute, relative to the caller.
abs_dir() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$caller_dir/$1" ;;
  esac
}

# A command: unchanged if it has no '/', else made absolute.
resolve_command() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    */*)
      if [[ -e "$caller_dir/$1" ]]; then
        printf '%s\n' "$caller_dir/$1"
      else
        printf '%s\n' "$repo_root/$1"
      fi
      ;;
    *) printf '%s\n' "$1" ;;
  esac
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Results of the last build/run/compare, keyed by program.
declare -A STEP_OK STEP_REASON

# ---- build ----------------------------------------------------------------

build_all() {
  local dir=$1 cc=$2 cxx=$3 prog src log compiler
  local -a flags
  mkdir -p "$dir"
  for prog in "${PROGRAMS[@]}"; do
    if [[ " ${CXX_PROGRAMS[*]} " == *" $prog "* ]]; then
      src="tests/mpi/$prog.cpp" compiler=$cxx flags=("${CXXFLAGS[@]}")
    else
      src="tests/mpi/$prog.c" compiler=$cc flags=("${CFLAGS[@]}")
    fi
    log="$dir/$prog.build.log"
    rm -f "$dir/$prog"
    if "$compiler" "${flags[@]}" -o "$dir/$prog" "$src" >"$log" 2>&1; then
      STEP_OK[$prog]=1 STEP_REASON[$prog]=""
      echo "  built $prog"
    else
      STEP_OK[$prog]=0 STEP_REASON[$prog]="does not compile with $compiler (see $log)"
      echo "  FAIL build $prog: $compiler failed; first lines of $log:"
      head -n 5 "$log" | sed 's/^/      /'
    fi
  done
}

# ---- run --------------------------------------------------------------------

# Why a finished run is wrong, or nothing if it is right.
judge_run() {
  local prog=$1 rc=$2 outdir=$3 err=$4 rank
  if ((rc == 124 || rc == 137)); then
    echo "timed out after $TIMEOUT_SECONDS s"
    return
  fi
  # A program's own failure message (launchers may prefix lines with a rank).
  if grep -q "$prog rank [0-9]*: FAIL" "$err"; then
    echo "self-check failed: $(grep -m1 -o "$prog rank [0-9]*: FAIL.*" "$err")"
    return
  fi
  case $prog in
    abort)
      if ((rc != ABORT_EXIT_CODE)); then
        echo "exit code $rc, expected $ABORT_EXIT_CODE (the code given to MPI_Abort)"
        return
      fi
      ;;
    truncate)
      if ((rc == 0)); then
        echo "exit code 0, expected the job to fail on the truncated receive"
        return
      fi
      if ! grep -qi 'truncat' "$err"; then
        echo "exit code $rc but stderr does not mention the truncation"
        return
      fi
      # "rank 0" (or Open MPI's "process [JOBID,0]")
      if ! grep -Eqi 'rank[[:space:]:=#]*0([^0-9]|$)|process \[[0-9]+,0\]' "$err"; then
        echo "exit code $rc but stderr does not name rank 0, where the receive failed"
        return
      fi
      ;;
    *)
      if ((rc != 0)); then
        echo "exit code $rc, expected 0 (stderr: $(head -c 300 "$err" | tr '\n' ' '))"
        return
      fi
      ;;
  esac
  for rank in 0 1 2; do
    if [[ ! -s "$outdir/rank$rank.txt" ]]; then
      echo "exit code $rc but $outdir/rank$rank.txt is missing or empty"
      return
    fi
  done
}

run_all() {
  local dir=$1 outroot=$2 prog outdir rc start reason attempt
  shift 2
  local -a launcher=("$@")
  mkdir -p "$outroot"
  for prog in "${PROGRAMS[@]}"; do
    outdir="$outroot/$prog"
    rm -rf "$outdir" "$outroot/$prog.stdout" "$outroot/$prog.stderr"
    mkdir -p "$outdir"
    if [[ ! -x "$dir/$prog" ]]; then
      STEP_OK[$prog]=0 STEP_REASON[$prog]="$dir/$prog is not built"
      echo "  FAIL $prog: ${STEP_REASON[$prog]}"
      continue
    fi
    start=$(now)
    for attempt in 1 2 3 4 5; do
      rc=0
      timeout -k 10 "$TIMEOUT_SECONDS" "${launcher[@]}" "$dir/$prog" "$outdir" \
        </dev/null >"$outroot/$prog.stdout" 2>"$outroot/$prog.stderr" || rc=$?
      reason=$(judge_run "$prog" "$rc" "$outdir" "$outroot/$prog.stderr")
      # Open MPI 4.x's mpirun sometimes loses the error message a dying rank
      # relays to it and logs an ORTE error in show_help.c instead ("Data
      # unpack would read past end of buffer", "Out of resource";
      # open-mpi/ompi#8356).  Only then, run again: the message check itself
      # is never waived.
      if [[ -n $reason && $prog == truncate ]] &&
        grep -q 'ORTE_ERROR_LOG: .*show_help\.c' "$outroot/$prog.stderr"; then
        echo "  rerun $prog: mpirun lost the rank's error message (ORTE show_help relay)"
        continue
      fi
      break
    done
    if [[ -z $reason ]]; then
      STEP_OK[$prog]=1 STEP_REASON[$prog]=""
      echo "  ok $prog (exit $rc, $(elapsed "$start" "$(now)") s)"
    else
      STEP_OK[$prog]=0 STEP_REASON[$prog]=$reason
      echo "  FAIL $prog: $reason (logs: $outroot/$prog.stderr)"
    fi
  done
}

# ---- compare ----------------------------------------------------------------

compare_all() {
  local a=$1 b=$2 prog files_a files_b f diff
  for prog in "${PROGRAMS[@]}"; do
    files_a=$(cd "$a/$prog" 2>/dev/null && ls rank*.txt 2>/dev/null || true)
    files_b=$(cd "$b/$prog" 2>/dev/null && ls rank*.txt 2>/dev/null || true)
    STEP_OK[$prog]=1 STEP_REASON[$prog]=""
    if [[ -z $files_a || -z $files_b ]]; then
      STEP_OK[$prog]=0 STEP_REASON[$prog]="no rank files in $a/$prog or $b/$prog"
    elif [[ $files_a != "$files_b" ]]; then
      STEP_OK[$prog]=0
      STEP_REASON[$prog]="different rank files: [$(echo $files_a)] vs [$(echo $files_b)]"
    else
      for f in $files_a; do
        if ! diff=$(cmp "$a/$prog/$f" "$b/$prog/$f" 2>&1); then
          STEP_OK[$prog]=0 STEP_REASON[$prog]="$f differs (${diff##*: })"
          break
        fi
      done
    fi
    if ((STEP_OK[$prog])); then
      echo "  same $prog ($(echo $files_a))"
    else
      echo "  FAIL compare $prog: ${STEP_REASON[$prog]}"
    fi
  done
}

# ---- summaries ----------------------------------------------------------------

# Prints PASS/FAIL per program from STEP_OK/STEP_REASON and the totals; fails
# if any program failed.
summarize() {
  local passed=0 failed=0 prog
  echo
  for prog in "${PROGRAMS[@]}"; do
    if ((STEP_OK[$prog])); then
      echo "PASS $prog"
      passed=$((passed + 1))
    else
      echo "FAIL $prog: ${STEP_REASON[$prog]}"
      failed=$((failed + 1))
    fi
  done
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

cmd_build() {
  (($# == 3)) || usage
  echo "== build into $1 with $2 / $3"
  build_all "$(abs_dir "$1")" "$(resolve_command "$2")" "$(resolve_command "$3")"
  summarize
}

cmd_run() {
  (($# >= 3)) || usage
  local dir outroot start
  dir=$(abs_dir "$1") outroot=$(abs_dir "$2")
  shift 2
  local -a launcher=("$(resolve_command "$1")" "${@:2}")
  echo "== run with: ${launcher[*]}"
  start=$(now)
  run_all "$dir" "$outroot" "${launcher[@]}"
  echo "  suite took $(elapsed "$start" "$(now)") s"
  summarize
}

cmd_compare() {
  (($# == 2)) || usage
  echo "== compare $1 with $2"
  compare_all "$(abs_dir "$1")" "$(abs_dir "$2")"
  summarize
}

cmd_differential() {
  (($# == 0)) || usage
  local prog work start
  scripts/deps.sh need mpicc mpicxx mpirun || exit 1
  echo "== ternion's launcher and MPI drop-in (cargo build --release)"
  cargo build --release -q
  work=${TERNION_MPI_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/ternion-mpi-conformance.XXXXXX")}
  echo "== differential run in $work"
  declare -A verdict_ok verdict_reason
  for prog in "${PROGRAMS[@]}"; do
    verdict_ok[$prog]=1 verdict_reason[$prog]=""
  done
  # Folds the last step's results into the verdicts, prefixing reasons.
  fold() {
    local label=$1 p
    for p in "${PROGRAMS[@]}"; do
      if ! ((STEP_OK[$p])); then
        verdict_ok[$p]=0
        verdict_reason[$p]+="${verdict_reason[$p]:+; }$label: ${STEP_REASON[$p]}"
      fi
    done
  }

  echo "== build with Open MPI (mpicc / mpicxx)"
  build_all "$work/openmpi/bin" mpicc mpicxx
  fold "openmpi build"
  echo "== build with ternion ($TERNION_CC / $TERNION_CXX)"
  build_all "$work/ternion/bin" "$repo_root/$TERNION_CC" "$repo_root/$TERNION_CXX"
  fold "ternion build"

  echo "== run with Open MPI"
  start=$(now)
  run_all "$work/openmpi/bin" "$work/openmpi/out" "${OPENMPI_LAUNCHER[@]}"
  echo "  Open MPI suite took $(elapsed "$start" "$(now)") s"
  fold "openmpi run"
  echo "== run with ternion (${TERNION_LAUNCHER[*]})"
  start=$(now)
  run_all "$work/ternion/bin" "$work/ternion/out" "$repo_root/${TERNION_LAUNCHER[0]}" \
    "${TERNION_LAUNCHER[@]:1}"
  echo "  ternion suite took $(elapsed "$start" "$(now)") s"
  fold "ternion run"

  echo "== compare rank outputs (Open MPI vs ternion)"
  compare_all "$work/openmpi/out" "$work/ternion/out"
  fold "outputs"

  for prog in "${PROGRAMS[@]}"; do
    STEP_OK[$prog]=${verdict_ok[$prog]} STEP_REASON[$prog]=${verdict_reason[$prog]}
  done
  summarize
}

(($# >= 1)) || usage
command=$1
shift
case $command in
  build) cmd_build "$@" ;;
  run) cmd_run "$@" ;;
  compare) cmd_compare "$@" ;;
  differential) cmd_differential "$@" ;;
  *) usage ;;
esac
