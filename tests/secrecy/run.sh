#!/usr/bin/env bash
# Secrecy's own test suite on ternion, against OpenMPI as the reference.
#
#   tests/secrecy/run.sh [--tests-only | --experiments-only | --build-only] [NAME...]
#
#  1. builds Secrecy (../shared/secrecy, never changed) out of tree twice
#     with tests/secrecy/Makefile: with OpenMPI's mpicxx into
#     target/secrecy/openmpi/ and with ternion-mpicxx into
#     target/secrecy/ternion/, every c_api test and every experiment;
#  2. runs every c_api test (tests/secrecy/expectations names the one that
#     cannot run here) under `ternion run -n 3` (encrypted, the default) and
#     under OpenMPI (`mpirun -np 3 --mca pml ob1 --mca btl tcp,self`),
#     interleaved; a test passes when all three ranks exit 0;
#  3. runs every experiment of tests/secrecy/experiments once on each
#     system, at the small size given there;
#  4. writes target/secrecy/report.md: each program's outcome and time on
#     both systems.
#
# --build-only stops after step 1 (scripts/bench.sh times the experiments
# from these builds). It fails if a program's outcome differs between the systems, if a test
# fails that tests/secrecy/expectations does not expect to, if an
# experiment fails, or if Secrecy's tree changed. An expected failure that
# passes on both is reported as such. NAME limits the run to those
# programs. TERNION_SECRECY_DIR and TERNION_SECRECY_DEPS_DIR locate
# Secrecy and its sql-parser headers (default ../shared/secrecy and
# ../shared/secrecy-deps beside the repository); TERNION_SECRECY_TIMEOUT is
# the limit per run in seconds (default 300). The last line is
# "secrecy: N passed, M failed".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

run_tests=1 run_experiments=1
selected=()
for arg in "$@"; do
  case $arg in
    --tests-only) run_experiments=0 ;;
    --experiments-only) run_tests=0 ;;
    --build-only) run_tests=0 run_experiments=0 ;;
    -*) sed -n '2,31s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    *) selected+=("$arg") ;;
  esac
done

secrecy=${TERNION_SECRECY_DIR:-$repo/../shared/secrecy}
secrecy_deps=${TERNION_SECRECY_DEPS_DIR:-$repo/../shared/secrecy-deps}
timeout_seconds=${TERNION_SECRECY_TIMEOUT:-300}
out=target/secrecy
jobs=$(nproc)

die() { echo "secrecy: $*" >&2; exit 1; }
[ -f "$secrecy/src/core/comm.cpp" ] || die "no Secrecy sources at $secrecy (set TERNION_SECRECY_DIR)"
[ -f "$secrecy_deps/sql-parser/src/SQLParser.h" ] ||
  die "no sql-parser headers at $secrecy_deps/sql-parser (set TERNION_SECRECY_DEPS_DIR)"
scripts/deps.sh need mpicxx mpirun make c++ ar timeout || exit 1
[ -f /usr/include/sodium.h ] || die "missing header: sodium.h, from the Debian package libsodium-dev"

# Secrecy's tree is an input only: fingerprint it now, compare at the end.
fingerprint() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
secrecy_before=$(fingerprint "$secrecy")

# ---- build ------------------------------------------------------------------

echo "== ternion (cargo build --release)"
cargo build --release -q
ternion=$repo/target/release/ternion

build() { # build NAME MPICXX
  local name=$1 mpicxx=$2 log=$out/$1/build.log
  mkdir -p "$out/$name"
  echo "== Secrecy with $mpicxx into $out/$name/ (log: $log)"
  local start=$SECONDS
  if ! make -f "$here/Makefile" -j"$jobs" -k SECRECY="$secrecy" \
      SQL_PARSER="$secrecy_deps/sql-parser" MPICXX="$mpicxx" OUT="$out/$name" >"$log" 2>&1; then
    grep -E 'error|Error' "$log" | head -n 20 >&2
    die "the build with $mpicxx failed (log: $log)"
  fi
  echo "   $(find "$out/$name/bin" -type f | wc -l) programs in $((SECONDS - start)) s"
}
build openmpi mpicxx
build ternion "$repo/target/release/ternion-mpicxx"
((run_tests + run_experiments)) || exit 0

# ---- what to run ------------------------------------------------------------

declare -A expect reason
while read -r name what why; do
  expect[$name]=$what reason[$name]=$why
done < <(grep -Ev '^[[:space:]]*(#|$)' "$here/expectations")

declare -A arguments
experiments=()
while read -r name args; do
  [ -f "$secrecy/src/experiments/$name.cpp" ] || die "tests/secrecy/experiments names $name, which Secrecy does not have"
  arguments[$name]=$args
  experiments+=("$name")
done < <(grep -Ev '^[[:space:]]*(#|$)' "$here/experiments")
for src in "$secrecy"/src/experiments/exp_*.cpp; do
  name=$(basename "$src" .cpp)
  [ -n "${arguments[$name]+set}" ] || die "the experiment $name has no line in tests/secrecy/experiments"
done

tests=()
for src in "$secrecy"/src/tests/c_api/test_*.cpp; do
  name=$(basename "$src" .cpp)
  [ "${expect[$name]:-}" = not-run ] || tests+=("$name")
done

is_selected() {
  ((${#selected[@]} == 0)) && return 0
  local s
  for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

# ---- running ----------------------------------------------------------------

openmpi_launcher=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpirun -np 3 --mca pml ob1 --mca btl tcp,self
  --oversubscribe --bind-to none --mca btl_tcp_if_include lo)
ternion_launcher=("$ternion" run -n 3 --)
systems=(ternion openmpi)

declare -A status seconds
# run_on SYSTEM NAME ARGS...: records the exit status and wall time.
run_on() {
  local system=$1 name=$2 log start end code
  shift 2
  log=$out/runs/$system/$name.log
  mkdir -p "$(dirname "$log")"
  local -a launcher
  if [ "$system" = ternion ]; then launcher=("${ternion_launcher[@]}"); else launcher=("${openmpi_launcher[@]}"); fi
  start=$(date +%s.%N)
  code=0
  timeout --kill-after=10 "$timeout_seconds" "${launcher[@]}" "$out/$system/bin/$name" "$@" >"$log" 2>&1 </dev/null || code=$?
  end=$(date +%s.%N)
  status[$system/$name]=$code
  seconds[$system/$name]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
}

passed=0 failed=0
verdicts=()
verdict() { # verdict NAME KIND OK TEXT
  verdicts+=("$1|$2|$4")
  if [ "$3" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  printf '%-6s %-28s %s\n' "$([ "$3" = 1 ] && echo PASS || echo FAIL)" "$1" "$4"
}
outcome() { [ "${status[$1/$2]}" = 0 ] && echo pass || echo "fail (exit ${status[$1/$2]})"; }

judge_test() {
  local name=$1 t o
  t=$(outcome ternion "$name") o=$(outcome openmpi "$name")
  if [ "$t" != pass ] && [ "$o" != pass ] && [ "${expect[$name]:-}" = fails ]; then
    verdict "$name" test 1 "fails on both, as expected (${reason[$name]%%:*})"
  elif [ "$t" = pass ] && [ "$o" = pass ] && [ "${expect[$name]:-}" = fails ]; then
    verdict "$name" test 1 "EXPECTED TO FAIL, NOW PASSES on both: update tests/secrecy/expectations"
  elif [ "$t" = pass ] && [ "$o" = pass ]; then
    verdict "$name" test 1 "passes on both"
  elif [ "$t" != pass ] && [ "$o" != pass ]; then
    verdict "$name" test 0 "fails on both, unexpectedly: ternion $t, OpenMPI $o (logs: $out/runs/)"
  else
    verdict "$name" test 0 "outcomes differ: ternion $t, OpenMPI $o (logs: $out/runs/)"
  fi
}

judge_experiment() {
  local name=$1 t o
  t=$(outcome ternion "$name") o=$(outcome openmpi "$name")
  if [ "$t" = pass ] && [ "$o" = pass ]; then
    verdict "$name" experiment 1 "passes on both"
  else
    verdict "$name" experiment 0 "ternion $t, OpenMPI $o (logs: $out/runs/)"
  fi
}

rm -rf "$out/runs"
ran=()
if [ "$run_tests" = 1 ]; then
  echo "== the c_api tests, each on ternion (encrypted) then on OpenMPI-TCP"
  for name in "${tests[@]}"; do
    is_selected "$name" || continue
    for system in "${systems[@]}"; do run_on "$system" "$name"; done
    ran+=("$name")
    judge_test "$name"
  done
fi
if [ "$run_experiments" = 1 ]; then
  echo "== the experiments at small sizes (tests/secrecy/experiments), each on ternion then on OpenMPI-TCP"
  for name in "${experiments[@]}"; do
    is_selected "$name" || continue
    # shellcheck disable=SC2086 # the arguments are words of the list
    for system in "${systems[@]}"; do run_on "$system" "$name" ${arguments[$name]}; done
    ran+=("$name")
    judge_experiment "$name"
  done
fi
((${#ran[@]})) || die "nothing matched: ${selected[*]}"

secrecy_after=$(fingerprint "$secrecy")
if [ "$secrecy_before" != "$secrecy_after" ]; then
  verdict "secrecy-tree" check 0 "Secrecy's tree at $secrecy changed during the run"
fi

# ---- report -----------------------------------------------------------------

report=$out/report.md
{
  echo "# Secrecy on ternion and on OpenMPI"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), ternion $(git rev-parse --short HEAD 2>/dev/null || echo '?'), Secrecy from $secrecy."
  echo "Each program ran once per system, three ranks on this machine ($(nproc) cores), ternion first:"
  echo "ternion as \`ternion run -n 3\` (encrypted links, the default), OpenMPI as"
  echo "\`mpirun -np 3 --mca pml ob1 --mca btl tcp,self\` on loopback. Times are wall"
  echo "seconds of the whole job (start-up included), from tests/secrecy/run.sh."
  echo
  echo "Result: $passed passed, $failed failed."
  echo
  echo "| program | kind | arguments | ternion | OpenMPI | ternion / OpenMPI | verdict |"
  echo "|---|---|---|---:|---:|---:|---|"
  for line in "${verdicts[@]}"; do
    IFS='|' read -r name kind text <<<"$line"
    [ "$kind" = check ] && { echo "| $name | check | | | | | $text |"; continue; }
    t=${seconds[ternion/$name]} o=${seconds[openmpi/$name]}
    ratio=$(awk -v a="$t" -v b="$o" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
    echo "| $name | $kind | ${arguments[$name]:-} | $t s ($(outcome ternion "$name")) | $o s ($(outcome openmpi "$name")) | $ratio | $text |"
  done
  awk_total() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s }'; }
  t_all=() o_all=()
  for name in "${ran[@]}"; do t_all+=("${seconds[ternion/$name]}"); o_all+=("${seconds[openmpi/$name]}"); done
  echo
  echo "Total: ternion $(awk_total "${t_all[@]}") s, OpenMPI $(awk_total "${o_all[@]}") s."
} >"$report"
echo "report: $report"
echo "secrecy: $passed passed, $failed failed"
((failed == 0))
