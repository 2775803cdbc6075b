#!/usr/bin/env bash
# Fuzzes ternion-core with cargo fuzz (libFuzzer): builds every target in
# fuzz/, runs each for --seconds N (default 60) from the kept seeds in
# fuzz/corpus/<target>/ and the inputs that once found a bug in
# fuzz/regressions/<target>/, and fails if any target finds a crash (a
# regression that fails again counts). Installs the pinned nightly toolchain
# and cargo-fuzz first if they are missing (scripts/deps.sh install fuzz).
#
# New inputs a run discovers go to a temporary corpus that is deleted
# afterwards, so the kept seeds never change. A crashing input is left in
# fuzz/artifacts/<target>/; fuzz/README.md says how to reproduce and
# minimise it.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/fuzz.sh [--seconds N]   (N seconds per target, default 60)"
}

seconds=60
while (($#)); do
  case $1 in
    --seconds) seconds=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "--seconds needs a positive whole number, not '$seconds'" >&2
  exit 2
fi

step() { printf '\n==== %s\n' "$*"; }

step "nightly toolchain and cargo-fuzz"
scripts/deps.sh install fuzz
nightly=$(scripts/deps.sh nightly)

# Without a sanitizer: ternion-core forbids unsafe code, so AddressSanitizer
# would find nothing in it, and it slows the `link` target several times
# over. Debug assertions and overflow checks stay on (cargo fuzz's default),
# and the targets cap every single allocation themselves (what ASan's malloc
# limit would catch: fuzz/src/allocation_limit.rs).
fuzz() { cargo "+$nightly" fuzz "$@"; }
build_flags=(--sanitizer none)

step "build"
fuzz build "${build_flags[@]}"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

mapfile -t targets < <(fuzz list)
summary=()
failed=0
for target in "${targets[@]}"; do
  step "fuzz $target for ${seconds}s"
  mkdir -p "$workdir/$target"
  log="$workdir/$target.log"
  # The first corpus directory receives new inputs; the others are only
  # read, and libFuzzer runs every input in them before it starts mutating.
  corpora=("$workdir/$target" "fuzz/corpus/$target")
  [[ -d fuzz/regressions/$target ]] && corpora+=("fuzz/regressions/$target")
  if fuzz run "${build_flags[@]}" "$target" "${corpora[@]}" -- \
    -max_total_time="$seconds" -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
    failed=1
    tail -n 60 "$log"
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  line=$(printf '%-14s %-7s %12s executions in %ss' "$target" "$verdict" "${executions:-?}" "$seconds")
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  [[ -n $crash ]] && line+="; crashing input: $crash"
  echo "$line"
  summary+=("$line")
done

step "summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
