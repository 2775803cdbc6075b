#!/usr/bin/env bash
# Benchmarks ternion (its Rust API encrypted and, to show the cost of
# encryption, in plaintext; and its MPI drop-in running the OpenMPI
# benchmark program unchanged) against OpenMPI (TCP), raw TCP sockets and
# OpenSSL TLS 1.3 (AES-256-GCM) sockets, three parties on this machine
# over loopback.
#
#   scripts/bench.sh [--quick] [--runs N] [--ukl]
#   scripts/bench.sh --wan PROFILE[,PROFILE...] [--quick] [--runs N]
#
# Builds `target/release/ternion` and the C baselines (bench/*.c, into
# target/bench/), runs the six systems N times interleaved (default 3;
# --quick runs the short workloads once unless --runs is given), then
# writes target/bench/report.json and target/bench/report.md, draws
# throughput.svg, latency.svg and cpu.svg beside them, and prints the
# report.  Each run's JSON and stderr are kept in target/bench/runs/.
# Secrecy's communication-heavy experiments (bench/secrecy.py) and the AEAD
# alone on one core (bench/aead) are part of the report.
# --ukl adds the in-kernel vs hosted comparisons in QEMU guests: the ring
# benchmark and five Secrecy experiments (scripts/run-qemu.sh --bench
# --secrecy-bench, N rounds; needs scripts/build-ukl.sh first).
#
# --wan runs the wide-area benchmark instead, on each named profile of the
# emulator (region, cross-region, intercontinental, or all): every party
# in its own network namespace behind `ternion-wan run` (tests/wan), the
# workloads of bench/wan.h on ternion encrypted and plaintext (the MPI
# program on its drop-in), ternion on the host's CUBIC instead of BBR,
# OpenMPI-TCP, raw TCP and TLS, then four of Secrecy's experiments, N
# times interleaved (bench/wan.py). It replaces the results of the named
# profiles only, and writes target/bench/wan.json and wan.md from every
# profile's latest results (bench/wan_report.py: each workload against the
# path's physical floor, and the ratios, under ratios[PROFILE]) and
# wan-rounds-PROFILE.svg (time per round against message size).
#
# Environment: BENCH_TIMEOUT overrides the per-run time limit in seconds
# (default 600, quick 180).  What it needs (OpenMPI among it) is installed
# first by scripts/deps.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; }
log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

quick=0
runs=""
ukl=0
wan=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --ukl) ukl=1 ;;
        --wan)
            [ $# -ge 2 ] || die "--wan needs a profile (region, cross-region, intercontinental or all)"
            wan="$2"
            shift
            ;;
        --wan=*) wan="${1#--wan=}" ;;
        --runs)
            [ $# -ge 2 ] || die "--runs needs a number"
            runs="$2"
            shift
            ;;
        --runs=*) runs="${1#--runs=}" ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done
if [ -z "$runs" ]; then
    if [ "$quick" = 1 ]; then runs=1; else runs=3; fi
fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$runs'"

qflag=()
if [ "$quick" = 1 ]; then
    qflag=(--quick)
    run_timeout="${BENCH_TIMEOUT:-180}"
else
    run_timeout="${BENCH_TIMEOUT:-600}"
fi
[[ "$run_timeout" =~ ^[1-9][0-9]*$ ]] || die "BENCH_TIMEOUT must be a positive integer"
if [ "$wan" = all ]; then wan=region,cross-region,intercontinental; fi
[ -z "$wan" ] || [ "$ukl" = 0 ] || die "--wan and --ukl are separate benchmarks: run them one after the other"

scripts/deps.sh install build bench ${wan:+wan} >&2
scripts/deps.sh need python3 timeout cargo cc mpicc mpirun || exit 1

# --- OpenMPI ---------------------------------------------------------------
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# ob1 + the TCP BTL on lo only: no shared memory (vader) and no UCX, so the
# baseline really is MPI over TCP.  No binding: the scheduler places all
# three ranks, as it does for the other systems.
mpirun_cmd=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3
    --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include lo)

# --- Builds ----------------------------------------------------------------
out="$root/target/bench"
mkdir -p "$out"

log "building ternion and its MPI drop-in (cargo build --release)"
cargo build --release >&2 ||
    die "cargo build --release failed; the ternion side of the benchmark cannot run"
ternion="${CARGO_TARGET_DIR:-$root/target}/release/ternion"
[ -x "$ternion" ] || die "$ternion was not built; the ternion side of the benchmark cannot run"

log "building C baselines into $out"
mpicc -O2 -Wall -Wextra -o "$out/mpi_bench" bench/mpi_bench.c
# The same MPI program, rebuilt against ternion's MPI drop-in.
"${ternion}-mpicc" -O2 -Wall -Wextra -o "$out/mpi_bench_ternion" bench/mpi_bench.c
cc -O2 -pthread -Wall -Wextra -o "$out/raw_tcp_bench" bench/raw_tcp_bench.c
cc -O2 -pthread -Wall -Wextra -o "$out/tls_bench" bench/tls_bench.c -lssl -lcrypto
log "building the AEAD benchmark (bench/aead: ring, aws-lc-rs, RustCrypto)"
cargo build --release --manifest-path bench/aead/Cargo.toml >&2 ||
    die "cargo build of bench/aead failed"

secrecy_dir="${TERNION_SECRECY_DIR:-$root/../shared/secrecy}"
have_secrecy=0
if [ -f "$secrecy_dir/src/core/comm.cpp" ]; then
    have_secrecy=1
    log "Secrecy's experiments: building (tests/secrecy/run.sh --build-only)"
    tests/secrecy/run.sh --build-only >&2 || die "Secrecy's build failed"
else
    log "no Secrecy sources at $secrecy_dir (set TERNION_SECRECY_DIR): no Secrecy rows"
fi

# --- Across clouds (--wan) ---------------------------------------------------
if [ -n "$wan" ]; then
    wan_tool="${CARGO_TARGET_DIR:-$root/target}/release/ternion-wan"
    [ -x "$wan_tool" ] || die "$wan_tool was not built"
    wan_out="$out/wan"
    rm -f "$out/wan.json" "$out/wan.md" "$out"/wan-rounds-*.svg
    IFS=, read -ra profiles <<<"$wan"
    for profile in "${profiles[@]}"; do
        rm -rf "${wan_out:?}/$profile"
        mkdir -p "$wan_out/$profile"
        "$wan_tool" show --profile "$profile" >"$wan_out/$profile/profile.json" ||
            die "unknown profile '$profile' (region, cross-region, intercontinental or all)"
        log "across $profile: $runs interleaved run(s) of every system, then Secrecy's experiments"
        secrecy_args=()
        if [ "$have_secrecy" = 1 ]; then secrecy_args=(--secrecy-builds "$root/target/secrecy"); fi
        "$wan_tool" run --profile "$profile" -- python3 bench/wan.py run --profile "$profile" \
            --runs "$runs" --out "$wan_out/$profile" --ternion "$ternion" --bench-dir "$out" \
            --timeout "$run_timeout" ${secrecy_args[@]+"${secrecy_args[@]}"} \
            ${qflag[@]+"${qflag[@]}"} 2>"$wan_out/$profile/wan.log" ||
            { tail -n 20 "$wan_out/$profile/wan.log" >&2; die "the run across $profile failed (log: $wan_out/$profile/wan.log)"; }
    done
    python3 bench/wan_report.py --dir "$wan_out" || die "could not build the wide-area report"
    python3 bench/plots.py --wan "$out/wan.json" || die "could not draw the wide-area plots"
    log "wrote $out/wan.json and $out/wan.md"
    cat "$out/wan.md"
    exit 0
fi

# --- Runs ------------------------------------------------------------------
rm -rf "$out/runs"
mkdir -p "$out/runs"
rm -f "$out/report.json" "$out/report.md"

# CPU time (ticks) the whole machine spent busy (user, nice, system, irq,
# softirq, steal), and the CPU time of this shell's finished children
# (cutime + cstime, which include the softirq time of loopback delivery).
# Their difference over a run is work that was not the benchmark's.
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
children_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
clk_tck="$(getconf CLK_TCK)"
ncores="$(nproc)"

# run_one SYSTEM INDEX COMMAND...: stdout must be that system's JSON.
run_one() {
    local system="$1" i="$2"
    shift 2
    local json="$out/runs/$system-$i.json" errlog="$out/runs/$system-$i.log"
    log "run $i/$runs: $system"
    local rc=0 m0 c0 t0 m1 c1 t1
    m0="$(machine_ticks)" c0="$(children_ticks)" t0="$(date +%s.%N)"
    timeout --kill-after=10 "$run_timeout" "$@" >"$json" 2>"$errlog" || rc=$?
    m1="$(machine_ticks)" c1="$(children_ticks)" t1="$(date +%s.%N)"
    awk -v m="$((m1 - m0))" -v c="$((c1 - c0))" -v tck="$clk_tck" -v n="$ncores" \
        -v t0="$t0" -v t1="$t1" 'BEGIN {
            wall = t1 - t0; other = 100 * (m - c) / tck / (wall * n)
            if (other < 0) other = 0
            printf "{\"wall_s\": %.3f, \"other_cpu_pct\": %.1f}\n", wall, other
        }' >"$out/runs/$system-$i.cpu.json"
    if [ "$rc" -ne 0 ]; then
        tail -n 20 "$errlog" >&2 || true
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            die "$system run $i timed out after ${run_timeout}s (log: $errlog)"
        fi
        die "$system run $i failed with exit status $rc (log: $errlog)"
    fi
    python3 -m json.tool "$json" >/dev/null 2>&1 ||
        die "$system run $i did not print a single JSON object on stdout (see $json)"
}

for i in $(seq 1 "$runs"); do
    # Interleaved so that machine noise hits all three systems alike.
    run_one ternion "$i" "$ternion" bench --json ${qflag[@]+"${qflag[@]}"}
    run_one ternion_plain "$i" env BENCH_SYSTEM=ternion_plain TERNION_INSECURE_PLAINTEXT=1 \
        "$ternion" bench --json ${qflag[@]+"${qflag[@]}"}
    run_one ternion_mpi "$i" env BENCH_SYSTEM=ternion_mpi "$ternion" run -n 3 --raw-output -- \
        "$out/mpi_bench_ternion" ${qflag[@]+"${qflag[@]}"}
    run_one openmpi_tcp "$i" "${mpirun_cmd[@]}" "$out/mpi_bench" ${qflag[@]+"${qflag[@]}"}
    run_one raw_tcp "$i" "$out/raw_tcp_bench" ${qflag[@]+"${qflag[@]}"}
    run_one openssl_tls "$i" "$out/tls_bench" ${qflag[@]+"${qflag[@]}"}
done

# The AEAD's own speed on one core: the floor under encrypted CPU per GiB.
log "AEAD per core: ring, aws-lc-rs, RustCrypto"
aead_bench="${CARGO_TARGET_DIR:-$root/bench/aead/target}/release/ternion-aead-bench"
timeout --kill-after=10 "$run_timeout" "$aead_bench" \
    ${qflag[@]+"${qflag[@]}"} >"$out/aead.json" || die "the AEAD benchmark failed"

# Secrecy's communication-heavy experiments on ternion (encrypted and
# plaintext) and OpenMPI, interleaved: skipped, with a note, only where
# Secrecy's sources are not beside the repository.
if [ "$have_secrecy" = 1 ]; then
    log "Secrecy's experiments: $runs interleaved round(s) on ternion, ternion plaintext, OpenMPI"
    python3 bench/secrecy.py --ternion "$ternion" --builds "$root/target/secrecy" \
        --out "$out/secrecy.json" --rounds "$runs" ${qflag[@]+"${qflag[@]}"} ||
        die "the Secrecy experiments failed"
fi

# --- Report ----------------------------------------------------------------
report_args=(--dir "$out" --runs "$runs")
if [ "$quick" = 1 ]; then report_args+=(--quick); fi
python3 bench/report.py "${report_args[@]}" || die "could not build the report"
python3 bench/plots.py "$out/report.json" || die "could not draw the report's plots"
if [ "$ukl" = 1 ]; then
    log "the in-kernel (UKL) comparison in QEMU guests"
    TERNION_BENCH_ROUNDS="$runs" scripts/run-qemu.sh --bench --secrecy-bench ${qflag[@]+"${qflag[@]}"} >&2 ||
        die "the QEMU benchmark failed (logs in target/ukl/runs/)"
    {
        printf '\n## In kernel mode (UKL) vs hosted, in QEMU guests\n\n'
        cat target/ukl/bench.md
        printf '\n### Secrecy experiments, in kernel mode vs hosted\n\n'
        cat target/ukl/secrecy-bench.md
    } >>"$out/report.md"
    python3 - "$out/report.json" target/ukl/bench.json target/ukl/secrecy-bench.json <<'PY' || die "could not merge the QEMU figures"
import json, sys
report = json.load(open(sys.argv[1]))
report["ukl"] = json.load(open(sys.argv[2]))
report["ukl_secrecy"] = json.load(open(sys.argv[3]))
json.dump(report, open(sys.argv[1], "w"), indent=2)
PY
fi
log "wrote $out/report.json and $out/report.md"
cat "$out/report.md"
