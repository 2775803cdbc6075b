#!/usr/bin/env bash
# Boots three QEMU guests of target/ukl/bzImage on a private virtual network
# and runs one ternion party in each, in kernel mode. No root, no tap
# devices: each guest's virtio-net is a QEMU `dgram` netdev on 127.0.0.1,
# joined by scripts/ukl/ethernet_hub.py on per-run ports; the guests'
# addresses are set on the kernel command line (ip=).
#
#   scripts/run-qemu.sh [--demo] [--programs] [--secrecy] [--module] [--bench] [--quick]
#
#   --demo      the MPC demo (secure links); all three must report correct results
#   --programs  the C conformance programs of tests/mpi, linked into the kernel;
#               their rank files must equal the hosted drop-in's, byte for byte
#   --secrecy   Secrecy's c_api tests that pass hosted (all but those
#               tests/secrecy/expectations names) and the experiments of
#               SECRECY_EXPERIMENTS below, linked into the kernel, in three
#               guests with secure links; each rank's stdout and stderr must
#               equal the hosted run's (`ternion run -n 3`) but for
#               Secrecy's timing figures (scripts/ukl/program_output.py),
#               with the same exit codes. TERNION_QEMU_SECRECY picks a subset
#   --module    the fast check of ternion.ko: one guest of Debian's stock kernel
#               loads it as rank 0 of the demo, next to two hosted parties
#   --secrecy-bench  the five experiments of SECRECY_EXPERIMENTS below, each
#               in kernel mode and as a hosted static program (under `ternion
#               run`) in the same guests, plaintext links, TERNION_BENCH_ROUNDS
#               alternating rounds (default 3); Secrecy's own elapsed times,
#               and each party's time blocked in ternion's waits
#               (TERNION_MPI_STATS); writes target/ukl/secrecy-bench.md and .json
#   --bench     the ring benchmark in kernel mode and as hosted processes in
#               the same guests (plaintext links in both, so the comparison is
#               of the communication path), TERNION_BENCH_ROUNDS alternating
#               rounds (default 3); writes target/ukl/bench.md and bench.json
#   --stack-guard  one guest whose program overflows its stack: the guard
#               page below the stack must stop it with a fault
#   --libc      one guest runs platform-ukl/tests/libc_check.c; its math,
#               random and time results must match the same program built
#               against glibc and libsodium
#   --quick     short benchmark (smoke test)
# Private keys reach the guests in their initramfs (/ternion-secrets), never on
# the kernel command line; every run ends by checking that no guest log
# holds one.
# With no selection, runs --demo --programs. Exits 0 only if every check
# passed. Logs are in target/ukl/runs/. Run scripts/build-ukl.sh first.
# RUST_LOG (a level name) sets the guests' console log level.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
ukl=target/ukl
runs=$ukl/runs
demo=0 programs=0 secrecy=0 secrecy_bench=0 module=0 bench=0 stack_guard=0 libc=0 quick=0
for arg in "$@"; do
  case $arg in
    --demo) demo=1 ;;
    --programs) programs=1 ;;
    --secrecy) secrecy=1 ;;
    --secrecy-bench) secrecy_bench=1 ;;
    --module) module=1 ;;
    --bench) bench=1 ;;
    --stack-guard) stack_guard=1 ;;
    --libc) libc=1 ;;
    --quick) quick=1 ;;
    *) sed -n '2,/^set -e/{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
if ((demo + programs + secrecy + secrecy_bench + module + bench + stack_guard + libc == 0)); then demo=1 programs=1; fi
scripts/deps.sh install build qemu
scripts/deps.sh need qemu-system-x86_64 python3 cpio
[ -f $ukl/bzImage ] || { echo "no $ukl/bzImage: run scripts/build-ukl.sh" >&2; exit 1; }
# The experiments --secrecy runs (their arguments are in tests/secrecy/experiments):
# five communication-bound ones, which --secrecy-bench measures too.
SECRECY_EXPERIMENTS=(exp_exchange exp_equality exp_group_by exp_q1 exp_tpch_q6)
# Each boot must finish within this many seconds: a guard against hangs,
# not a time limit. The slowest boot, Secrecy's test_batched_join, takes
# 110 s under TCG on an idle 2-core machine, and took more than 240 s on a loaded
# one (a CI run, 2026-12-03).
BOOT_TIMEOUT=${TERNION_QEMU_TIMEOUT:-600}
failures=0
rm -rf "$runs" && mkdir -p "$runs"

# KVM where it works, else TCG (these machines have no nested virtualisation).
# /dev/kvm can exist and still fail at the first vCPU, so boot the image
# once (no application, no user space: it ends at "No working init").
accel=(-accel tcg)
if [ -w /dev/kvm ] && timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 256M -nographic \
    -no-reboot -nodefaults -serial stdio -kernel $ukl/bzImage \
    -append "console=ttyS0 panic=-1 no_timer_check ternion.run=0" </dev/null 2>/dev/null | grep -aq 'No working init'; then
  accel=(-accel kvm -cpu host)
fi
echo "accelerator: ${accel[*]}"
# Under TCG the guest's TSC is the host's, but the guest calibrates it
# against the emulated PIT, and a loaded host can make that badly wrong: a
# guest measured 70 MHz for a 2,445 MHz TSC in a CI run on 2026-12-04, its
# clock ran 35 times fast and its peer timeouts fired. So every guest is
# told the host's frequency instead (the words go on each boot's line).
clock_words=""
if [ "${accel[1]}" = tcg ]; then
  tsc_khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
  [ -n "$tsc_khz" ] && clock_words="tsc_early_khz=$tsc_khz"
fi

# The launcher, and the drop-in (libraries and compiler wrappers) that the
# hosted reference runs of --programs are built with.
cargo build --release -q
keys=$runs/keys && mkdir -p "$keys"
public=()
for r in 0 1 2; do
  public+=("$(target/release/ternion keygen --out "$keys/party$r.key" 2>/dev/null)")
done
public_list=$(IFS=,; echo "${public[*]}")
session=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
addresses=(10.0.3.1 10.0.3.2 10.0.3.3)
peers="${addresses[0]}:7000,${addresses[1]}:7000,${addresses[2]}:7000"

# secrets_cpio FILE WORDS...: an initramfs holding only /ternion-secrets with
# WORDS (KEY=VALUE), mode 0600: how a guest gets its private key without
# the kernel command line, which the kernel prints at boot.
secrets_cpio() {
  local file=$1 tree
  shift
  tree=$(mktemp -d)
  (umask 077 && printf '%s\n' "$*" >"$tree/ternion-secrets")
  (cd "$tree" && echo ternion-secrets | cpio -o -H newc --quiet) >"$file"
  rm -rf "$tree"
}

# The hosted guests' initramfs and the program in it they start as init
# (/init is the static ternion program), and KEY=VALUE words every guest's
# environment gets besides its party's.
hosted_initrd=$ukl/hosted.cpio.gz hosted_init=/init
guest_env=""

# boot_three NAME MODE SECURITY WORDS...: boots the three guests of one job
# and waits for them. MODE is kernel (the in-kernel application) or hosted
# ($hosted_init in $hosted_initrd). SECURITY is keys or plaintext. WORDS
# are the program's arguments (no "--": the kernel ends init's arguments
# there). Each guest's console goes to $runs/NAME/guestR.log.
boot_three() {
  local name=$1 mode=$2 security=$3
  shift 3
  local dir=$runs/$name hub_port pids=() r
  mkdir -p "$dir"
  hub_port=$((20000 + RANDOM % 30000))
  python3 scripts/ukl/ethernet_hub.py "$hub_port" $((hub_port + 1)) $((hub_port + 2)) $((hub_port + 3)) &
  local hub=$!
  for r in 0 1 2; do
    local env="TERNION_RANK=$r TERNION_PEERS=$peers TERNION_SESSION=$session${RUST_LOG:+ RUST_LOG=$RUST_LOG}${guest_env:+ $guest_env}"
    local boot=(-kernel $ukl/bzImage)
    if [ "$security" = keys ]; then
      [ "$mode" = kernel ] || { echo "boot_three: hosted guests run plaintext only" >&2; return 1; }
      env+=" TERNION_PUBLIC_KEYS=$public_list TERNION_AEAD=chacha20-poly1305"
      secrets_cpio "$dir/secrets$r.cpio" "TERNION_PRIVATE_KEY=$(cat "$keys/party$r.key")"
      boot+=(-initrd "$dir/secrets$r.cpio")
    else
      env+=" TERNION_INSECURE_PLAINTEXT=1"
    fi
    # no_timer_check: on a loaded host, TCG's slow early boot can fail the
    # kernel's IO-APIC timer check and panic (seen once in CI).
    local cmdline="console=ttyS0 panic=-1 no_timer_check $clock_words ip=${addresses[$r]}::::party$r:eth0:off"
    if [ "$mode" = hosted ]; then
      boot+=(-initrd "$hosted_initrd")
      cmdline+=" ternion.run=0 rdinit=$hosted_init"
    fi
    timeout "$BOOT_TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 512M -nographic -no-reboot \
      -nodefaults -serial stdio "${boot[@]}" -append "$cmdline $env -- $*" \
      -netdev "dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=$((hub_port + 1 + r)),remote.type=inet,remote.host=127.0.0.1,remote.port=$hub_port" \
      -device "virtio-net-pci,netdev=net0,mac=52:54:00:00:03:0$r" \
      >"$dir/guest$r.log" 2>&1 </dev/null &
    pids+=($!)
  done
  local rc=0
  for r in 0 1 2; do wait "${pids[$r]}" || rc=1; done
  kill "$hub" 2>/dev/null; wait "$hub" 2>/dev/null || true
  return $rc
}

# boot_alone LOG WORDS: boots one guest of the image, with no network and
# no peers, for the kernel's own checks; WORDS end its command line.
boot_alone() {
  timeout "$BOOT_TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 256M -nographic -no-reboot \
    -nodefaults -serial stdio -kernel $ukl/bzImage \
    -append "console=ttyS0 panic=-1 no_timer_check $clock_words $2" </dev/null >"$1" 2>&1 || true
}

# The exit code a guest's application reported, or "none". A program that
# is the guest's init itself, with no ternion around it, exits with the
# kernel's "Attempted to kill init! exitcode=0x..." (the wait status).
exit_code() {
  local code
  code=$(grep -ao 'ternion: \(application\|init\) exited with code -\?[0-9]*' "$1" | tail -1 | awk '{print $NF}')
  if [ -z "$code" ]; then
    code=$(grep -ao 'Attempted to kill init! exitcode=0x[0-9a-f]*' "$1" | tail -1 | sed 's/.*=//')
    [ -z "$code" ] || code=$((code >> 8))
  fi
  echo "${code:-none}"
}

fail() { echo "  FAIL $*"; failures=$((failures + 1)); }

# Rebuilds the files the C programs wrote (framed on the console by fclose).
extract_files() {
  local log=$1 dest=$2
  python3 - "$log" "$dest" <<'PY'
import re, sys, os, hashlib
log, dest = sys.argv[1], sys.argv[2]
text = open(log, 'rb').read().decode('utf-8', 'replace')
lines = [re.sub(r'^\[\s*\d+\.\d+\] (ternion: )?', '', l) for l in text.splitlines()]
current = None
for line in lines:
    m = re.match(r'^ternion-file-begin (\S+) (\d+) ([0-9a-f]{16})$', line)
    if m:
        current, length, digest, body = m.group(1), int(m.group(2)), m.group(3), []
        continue
    if current is None:
        continue
    if line.startswith('ternion-file| '):
        body.append(line[len('ternion-file| '):])
    elif line == 'ternion-file-end ' + current:
        data = '\n'.join(body).encode()
        if len(data) + 1 == length:
            data += b'\n'
        h = 0xcbf29ce484222325
        for b in data:
            h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
        if len(data) != length or '%016x' % h != digest:
            sys.exit('file %s arrived damaged' % current)
        out = os.path.join(dest, os.path.basename(current))
        os.makedirs(dest, exist_ok=True)
        open(out, 'wb').write(data)
        current = None
PY
}

# secrecy_make [MAKE ARGUMENTS]: builds Secrecy for Linux in $hosted_bin, or
# exits saying why it could not.
secrecy_make() {
  TERNION_CXX=clang++ make -f tests/secrecy/Makefile -j"$(nproc)" -s SECRECY="$secrecy_src" \
    SQL_PARSER="$secrecy_deps/sql-parser" MPICXX="$repo/target/release/ternion-mpicxx" \
    CXXFLAGS="-std=c++11 -O2 -w" OUT="$hosted_bin" "$@" >>"$runs/secrecy-build.log" 2>&1 ||
    { echo "building Secrecy for Linux failed:" >&2; tail -n 20 "$runs/secrecy-build.log" >&2; exit 1; }
}

# build_secrecy_hosted: Secrecy built for Linux in $hosted_bin (once), and
# the experiments' arguments in ${arguments[NAME]}.
hosted_bin=$ukl/secrecy-hosted
declare -A arguments
build_secrecy_hosted() {
  [ -z "${secrecy_src:-}" ] || return 0
  # Plain paths, as scripts/build-ukl.sh uses: __FILE__ appears in output.
  secrecy_src=$(cd "${TERNION_SECRECY_DIR:-$repo/../shared/secrecy}" && pwd)
  secrecy_deps=$(cd "${TERNION_SECRECY_DEPS_DIR:-$repo/../shared/secrecy-deps}" && pwd)
  # The hosted reference is the same sources built for Linux by the same
  # compiler at the same optimisation (clang++ -O2), so that the two runs
  # differ only in where the program runs: Secrecy has undefined behaviour
  # that g++ and clang++ compile differently (see tests/secrecy/expectations).
  secrecy_make
  while read -r name args; do arguments[$name]=$args; done < <(grep -Ev '^[[:space:]]*(#|$)' tests/secrecy/experiments)
}

if [ "$demo" = 1 ]; then
  echo "== demo: three in-kernel parties, secure links"
  boot_three demo kernel keys demo || true
  for r in 0 1 2; do
    log=$runs/demo/guest$r.log
    if [ "$(exit_code "$log")" != 0 ] || ! grep -aq 'all results correct' "$log"; then
      fail "demo party $r (see $log)"
    fi
  done
  grep -a -A12 'ternion: .*demo' "$runs/demo/guest0.log" | grep -a 'sum\|product\|and\|greater' | sed 's/^/  /' | head -5 || true
  echo "  demo done"
fi

if [ "$programs" = 1 ]; then
  echo "== the C conformance programs, in kernel mode (secure links)"
  reference=$runs/reference
  tests/mpi/run.sh build "$reference/bin" target/release/ternion-mpicc target/release/ternion-mpicxx >"$runs/reference.log" 2>&1 &&
    tests/mpi/run.sh run "$reference/bin" "$reference/out" target/release/ternion run -n 3 -- >>"$runs/reference.log" 2>&1 ||
    { echo "the hosted reference run of the C programs failed:" >&2; tail -n 20 "$runs/reference.log" >&2; exit 1; }
  # Every C program of tests/mpi (cxx_ring is C++, which the kernel has no
  # runtime for). TERNION_QEMU_PROGRAMS picks a subset.
  for prog in ${TERNION_QEMU_PROGRAMS:-misc ring_exchange async_exchange open_reveal share_inputs abort truncate long_compute}; do
    boot_three "$prog" kernel keys "$prog" /out || true
    codes=""
    for r in 0 1 2; do
      log=$runs/$prog/guest$r.log
      codes+="$(exit_code "$log") "
      extract_files "$log" "$runs/$prog/out" || fail "$prog party $r: $(tail -1 "$log")"
    done
    case $prog in
      abort) [[ $codes == "7 7 7 " ]] || fail "$prog: exit codes $codes, expected 7 7 7" ;;
      truncate) [[ $codes != *"0 "* && $codes != *none* ]] || fail "$prog: exit codes $codes, expected failures" ;;
      *) [[ $codes == "0 0 0 " ]] || fail "$prog: exit codes $codes" ;;
    esac
    for file in "$reference/out/$prog"/rank*.txt; do
      [ -e "$file" ] || continue
      cmp -s "$file" "$runs/$prog/out/$(basename "$file")" \
        || fail "$prog: $(basename "$file") differs from the hosted drop-in's"
    done
    echo "  $prog: exit codes $codes"
  done
fi

if [ "$secrecy" = 1 ]; then
  echo "== Secrecy in three in-kernel guests (secure links), against its hosted run"
  build_secrecy_hosted
  declare -A expectation
  while read -r name what _; do expectation[$name]=$what; done < <(grep -Ev '^[[:space:]]*(#|$)' tests/secrecy/expectations)
  selection=()
  for src in "$secrecy_src"/src/tests/c_api/test_*.cpp; do
    name=$(basename "$src" .cpp)
    case ${expectation[$name]:-} in fails | not-run) ;; *) selection+=("$name") ;; esac
  done
  selection+=("${SECRECY_EXPERIMENTS[@]}")
  for name in ${TERNION_QEMU_SECRECY:-${selection[@]}}; do
    dir=$runs/secrecy-$name && mkdir -p "$dir"
    # shellcheck disable=SC2086 # the arguments are words of the list
    set -- ${arguments[$name]:-}
    hosted_code=0
    timeout "$BOOT_TIMEOUT" target/release/ternion run -n 3 -- "$hosted_bin/bin/$name" "$@" \
      >"$dir/hosted.out" 2>"$dir/hosted.err" </dev/null || hosted_code=$?
    boot_three "secrecy-$name" kernel keys "$name" "$@" || true
    codes=""
    for r in 0 1 2; do codes+="$(exit_code "$runs/secrecy-$name/guest$r.log") "; done
    # Passing means three zeros on both; a program that fails hosted must
    # fail in the kernel too (and the same way: the output check below).
    if [ "$hosted_code" = 0 ]; then
      [[ $codes == "0 0 0 " ]] || fail "$name: kernel exit codes $codes, hosted 0"
    else
      [[ $codes != "0 0 0 " && $codes != *none* ]] ||
        fail "$name: kernel exit codes $codes, but it fails hosted ($hosted_code)"
    fi
    scripts/ukl/program_output.py "$dir/hosted.out" "$dir/hosted.err" \
      "$runs/secrecy-$name"/guest{0,1,2}.log >"$dir/compare.txt" ||
      { fail "$name: the output differs from the hosted run's"; cat "$dir/compare.txt"; }
    echo "  $name ${arguments[$name]:-}: exit codes $codes(hosted $hosted_code), $(tail -1 "$dir/compare.txt" | sed 's/^ *//')"
  done
fi

if [ "$secrecy_bench" = 1 ]; then
  rounds=${TERNION_BENCH_ROUNDS:-3}
  [ "$quick" = 1 ] && rounds=1
  echo "== Secrecy's experiments in the kernel and hosted, in identical guests (plaintext links)"
  build_secrecy_hosted
  # The hosted side: the same objects linked static, as /secrecy/NAME in an
  # archive appended to the hosted initramfs (an uncompressed archive must
  # start at a multiple of 4 bytes); the experiment is the guest's init, as
  # the in-kernel one is the kernel's application.
  # (Relinked every time: the rule cannot see that ternion's library changed.)
  static=$hosted_bin/static
  rm -rf "$static"
  secrecy_make BIN="$static" LDFLAGS=-static "${SECRECY_EXPERIMENTS[@]/#/$static/}"
  tree=$runs/secrecy-bench-tree && mkdir -p "$tree/secrecy"
  cp "${SECRECY_EXPERIMENTS[@]/#/$static/}" "$tree/secrecy/"
  hosted_initrd=$runs/secrecy-bench-hosted.cpio
  cp $ukl/hosted.cpio.gz "$hosted_initrd"
  truncate -s %4 "$hosted_initrd"
  (cd "$tree" && find secrecy | cpio -o -H newc --quiet) >>"$hosted_initrd"
  guest_env="TERNION_MPI_STATS=1"
  # Alternating rounds, so that the machine's noise falls on both alike.
  for ((round = 1; round <= rounds; round++)); do
    for name in "${SECRECY_EXPERIMENTS[@]}"; do
      # shellcheck disable=SC2086 # the arguments are words of the list
      boot_three "secbench-kernel-$name-$round" kernel plaintext "$name" ${arguments[$name]} || true
      # shellcheck disable=SC2086
      hosted_init=/secrecy/$name boot_three "secbench-hosted-$name-$round" hosted plaintext \
        ${arguments[$name]} || true
      for mode in kernel hosted; do
        for r in 0 1 2; do
          code=$(exit_code "$runs/secbench-$mode-$name-$round/guest$r.log")
          [ "$code" = 0 ] || fail "$name ($mode, round $round): rank $r exit code $code"
        done
      done
    done
  done
  guest_env="" hosted_initrd=$ukl/hosted.cpio.gz
  python3 scripts/ukl/secrecy_bench.py "$runs" "$rounds" "$ukl/secrecy-bench.md" "${accel[*]}" \
    "${SECRECY_EXPERIMENTS[@]}" || fail "the Secrecy benchmark's figures"
fi

if [ "$module" = 1 ]; then
  echo "== module: ternion.ko in Debian's stock kernel, two hosted parties beside it"
  kver=$(cat $ukl/module.kver)
  dir=$runs/module && mkdir -p "$dir"
  words="TERNION_SESSION=$session TERNION_PUBLIC_KEYS=$public_list"
  secret_words=()
  for r in 0 1 2; do secret_words+=("TERNION_KEY$r=$(cat "$keys/party$r.key")"); done
  # The kernel unpacks concatenated archives in turn: the init, then the
  # keys. An uncompressed archive must start at a multiple of 4 bytes.
  secrets_cpio "$dir/secrets.cpio" "${secret_words[@]}"
  cp $ukl/module.cpio.gz "$dir/initrd"
  truncate -s %4 "$dir/initrd"
  cat "$dir/secrets.cpio" >>"$dir/initrd"
  timeout "$BOOT_TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 1G -nographic -no-reboot \
    -nodefaults -serial stdio -kernel "/boot/vmlinuz-$kver" -initrd "$dir/initrd" \
    -append "console=ttyS0 panic=-1 no_timer_check $clock_words quiet loglevel=7 rdinit=/init $words" \
    </dev/null 2>&1 | tr -d '\r' >"$dir/guest.log" || true
  log=$dir/guest.log
  [ "$(exit_code "$log")" = 0 ] || fail "module: the in-kernel party's exit code is $(exit_code "$log") (see $log)"
  grep -aq 'ternion: all results correct' "$log" || fail "module: the in-kernel party did not report correct results"
  for r in 1 2; do
    grep -aq "ternion-module-check: rank $r: .*all results correct" "$log" \
      || fail "module: hosted rank $r did not report correct results"
  done
  grep -aq 'ternion-module-check: hosted exit codes 0 0$' "$log" || fail "module: hosted exit codes: $(grep -a 'hosted exit codes' "$log")"
  echo "  module done"
fi

if [ "$bench" = 1 ]; then
  flag=() rounds=${TERNION_BENCH_ROUNDS:-3}
  [ "$quick" = 1 ] && flag=(--quick) rounds=1
  echo "== ring benchmark: in-kernel and hosted parties in identical guests (plaintext links)"
  # Alternating rounds, so that the machine's noise falls on both alike.
  for ((round = 1; round <= rounds; round++)); do
    boot_three "bench-kernel-$round" kernel plaintext ring-bench "${flag[@]}" || true
    boot_three "bench-hosted-$round" hosted plaintext ring-bench "${flag[@]}" || true
  done
  python3 - "$runs" "$rounds" "$ukl/bench.md" "${accel[*]}" <<'PY' || failures=$((failures + 1))
import json, re, sys
runs, rounds, out, accelerator = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]
# Per backend and round: the median over the three parties of each party's median.
figures = {'kernel': [], 'hosted': []}
elements = None
for backend in figures:
    for round in range(1, rounds + 1):
        parties = []
        for r in range(3):
            path = '%s/bench-%s-%d/guest%d.log' % (runs, backend, round, r)
            text = open(path, 'rb').read().decode('utf-8', 'replace')
            m = re.search(r'ternion-bench backend=%s rank=%d latency_8b_us=([\d.]+) exchange_(\d+)_ms=([\d.]+)' % (backend, r), text)
            if not m:
                sys.exit('no benchmark line in %s' % path)
            parties.append((float(m.group(1)), float(m.group(3))))
            elements = int(m.group(2))
        figures[backend].append((median([p[0] for p in parties]), median([p[1] for p in parties])))
k_lat, h_lat = median([f[0] for f in figures['kernel']]), median([f[0] for f in figures['hosted']])
k_big, h_big = median([f[1] for f in figures['kernel']]), median([f[1] for f in figures['hosted']])
rows = [
    '| QEMU guests (%s), plaintext links | 8 B ring exchange | %d-element exchange |' % (accelerator.split()[-1].upper(), elements),
    '|---|---:|---:|',
    '| in-kernel (UKL backend) | %.1f µs | %.2f ms |' % (k_lat, k_big),
    '| hosted (Linux backend, user space) | %.1f µs | %.2f ms |' % (h_lat, h_big),
    '| in-kernel / hosted | %.2f | %.2f |' % (k_lat / h_lat, k_big / h_big),
]
per_round = ', '.join('%.2f' % (k[0] / h[0]) for k, h in zip(figures['kernel'], figures['hosted']))
note = ('Medians over %d alternating rounds; each round\'s figure is the median over the three '
        'parties of each party\'s median. 8-byte ratio per round: %s.' % (rounds, per_round))
open(out, 'w').write('\n'.join(rows) + '\n\n' + note + '\n')
json.dump({
    'accelerator': accelerator, 'rounds': rounds, 'elements': elements,
    'kernel': {'latency_8b_us': k_lat, 'exchange_ms': k_big},
    'hosted': {'latency_8b_us': h_lat, 'exchange_ms': h_big},
    'ratio': {'latency_8b': k_lat / h_lat, 'exchange': k_big / h_big},
    'latency_8b_ratio_per_round': [k[0] / h[0] for k, h in zip(figures['kernel'], figures['hosted'])],
}, open(out.replace('.md', '.json'), 'w'), indent=2)
print('\n'.join(rows))
print(note)
PY
fi

if [ "$stack_guard" = 1 ]; then
  echo "== stack guard: a program that overflows its stack in the kernel"
  dir=$runs/stack-guard && mkdir -p "$dir"
  log=$dir/guest.log
  boot_alone "$log" "oops=panic -- stack_overflow"
  deepest=$(grep -ao 'stack_overflow: [0-9]* KiB deep' "$log" | tail -1 | awk '{print $2}')
  if grep -aq 'no fault: the stack is not guarded' "$log"; then
    fail "stack guard: the program ran past its stack (see $log)"
  elif ! grep -aqE 'double fault|unable to handle page fault|stack guard page' "$log"; then
    fail "stack guard: no fault reported (see $log)"
  elif [ -z "$deepest" ] || [ "$deepest" -lt 512 ]; then
    fail "stack guard: faulted at ${deepest:-0} KiB, before using half the 1 MiB stack (see $log)"
  else
    echo "  the overflow faulted after ${deepest} KiB: $(grep -aoE 'double fault|unable to handle page fault|stack guard page' "$log" | head -1)"
  fi
fi

if [ "$libc" = 1 ]; then
  echo "== libc: the in-kernel C library against glibc and libsodium"
  dir=$runs/libc && mkdir -p "$dir"
  scripts/deps.sh need cc || exit 1
  cc -std=c11 -O2 -Wall -Wextra -Werror platform-ukl/tests/libc_check.c -lm -lsodium -o "$dir/hosted"
  "$dir/hosted" >"$dir/glibc.out"
  boot_alone "$dir/guest.log" "-- libc_check"
  python3 - "$dir/glibc.out" "$dir/guest.log" <<'PY' || fail "libc: the kernel's results differ (see $dir)"
import re, struct, sys
want = open(sys.argv[1]).read().splitlines()
log = open(sys.argv[2], 'rb').read().decode('utf-8', 'replace')
got = [re.sub(r'^\[\s*\d+\.\d+\] (ternion: )?(stdout\| )?', '', l).rstrip('\r') for l in log.splitlines()]
got = [l for l in got if re.match(r'^(ceil|floor|fabs|round|exp|sqrt|log2|log|pow|random|interleaved|check|libc_check:) ', l)]
# Where IEEE 754 fixes the result it must be equal; elsewhere within one ulp.
exact = {'ceil', 'floor', 'fabs', 'round', 'sqrt'}
def ordered(bits):  # doubles as integers that are adjacent for adjacent doubles
    b = int(bits, 16)
    return -(b & (2**63 - 1)) if b >> 63 else b
bad = 0
if len(got) != len(want):
    print('  the kernel printed %d lines, glibc %d' % (len(got), len(want)))
    bad += 1
ulps = 0
for w, g in zip(want, got):
    if w == g:
        continue
    wf, gf = w.split(), g.split()
    if wf[0] in exact or wf[0] not in {'exp', 'log2', 'log', 'pow'} or wf[:-1] != gf[:-1] \
            or abs(ordered(wf[-1]) - ordered(gf[-1])) > 1:
        print('  glibc:  %s\n  kernel: %s' % (w, g))
        bad += 1
    else:
        ulps += 1
print('  %d lines compared, %d within one ulp of glibc, %d differ' % (len(want), ulps, bad))
sys.exit(1 if bad else 0)
PY
fi

# No private key may appear in any guest's console.
for r in 0 1 2; do
  key=$(cat "$keys/party$r.key")
  leaked=$(grep -alr --include='*.log' -e "$key" "$runs" || true)
  [ -z "$leaked" ] || fail "the private key of rank $r appears in: $leaked"
done
echo "== no private key in any guest log ($(find "$runs" -name '*.log' | wc -l) logs)"

if ((failures > 0)); then
  echo "run-qemu: $failures check(s) failed"
  exit 1
fi
echo "run-qemu: all checks passed"
