#!/usr/bin/env bash
# The README's commands, run as it writes them, and every command and flag
# it names checked against the program that should accept it (flags.py).
# Needs `cargo build --release` first. Ends with "readme: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh need cc c++ make pkg-config python3 || exit 1

rel="$PWD/target/release"
out="$PWD/target/readme"
rm -rf "$out" && mkdir -p "$out"
cargo build --release -q -p ternion-linux --examples
# "./program" in the README: the ring example, under the README's name.
cp "$rel/examples/ring" "$out/program"
export PATH="$rel:$PATH"
check_logs="$out" check_cwd="$out"
# shellcheck source=tests/check.sh
. tests/check.sh
# expect TEXT FILE: FILE contains TEXT.
expect() {
    grep -qF -- "$1" "$2" || {
        echo "expected \"$1\" in $2"
        return 1
    }
}

check named-commands-and-flags-exist python3 "$PWD/tests/readme/flags.py" "$PWD/README.md" "$rel/ternion"

first_setup_command() {
    (cd "$OLDPWD" && cargo run --release -q -p ternion-linux -- demo) | tee demo.out
    expect "all 4 computations correct" demo.out
}
check 'cargo run --release -p ternion-linux -- demo' first_setup_command

local_job() {
    ternion run "$1" 3 -- ./program 100 | tee job.out
    for rank in 0 1 2; do expect "[$rank] rank $rank: value" job.out; done
}
check 'ternion run -n 3 -- ./program args' local_job -n
check 'ternion run -np 3 -- ./program args' local_job -np

keygen() {
    for rank in 0 1 2; do
        rm -f "party$rank.key"
        ternion keygen --out "party$rank.key" >"party$rank.pub"
        grep -qE '^[0-9a-f]{64}$' "party$rank.pub"
        [ "$(stat -c %a "party$rank.key")" = 600 ]
    done
}
check 'ternion keygen --out party.key' keygen

# hosts: three loopback ports that were free a moment ago, rank 0 first.
python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print("\n".join("127.0.0.1:%d" % s.getsockname()[1] for s in socks))' >"$out/hosts"
public_keys="$(paste -d, "$out/party0.pub" "$out/party1.pub" "$out/party2.pub")"

# across_machines PROGRAM [FLAGS_OF_RANK_0]: each rank started as an operator
# would on its own machine, with its key file and the three public keys.
across_machines() {
    local program="$1" rank0_flags="${2:-}" pids=() status=0
    for rank in 2 1 0; do
        local flags=""
        [ "$rank" != 0 ] || flags="$rank0_flags"
        # shellcheck disable=SC2086
        TERNION_PRIVATE_KEY_FILE="party$rank.key" TERNION_PUBLIC_KEYS="$public_keys" \
            timeout 120 ternion run --hostfile hosts --rank "$rank" $flags -- $program \
            >"rank$rank.out" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    cat rank0.out rank1.out rank2.out
    return "$status"
}
hostfile_job() {
    across_machines "./program 100"
    for rank in 0 1 2; do expect "rank $rank: value" "rank$rank.out"; done
}
check 'ternion run --hostfile hosts --rank R -- ./program' hostfile_job

plaintext_job() {
    ternion run -n 3 -- ./program 10 2>secure.err
    if grep -q PLAINTEXT secure.err; then
        echo "a default job warned of plaintext"
        return 1
    fi
    ternion run --insecure-plaintext -n 3 -- ./program 10 2>plain.err
    for rank in 0 1 2; do expect "rank $rank runs PLAINTEXT links" plain.err; done
}
check 'ternion run --insecure-plaintext -n 3 -- ./program' plaintext_job

peer_timeout_job() {
    # Rank 1 stops itself half-way, silent with its connections open: only
    # the peer timeout can name it, after the 1500 ms asked for.
    if RING_SIGNAL_RANK=1 RING_SIGNAL=STOP timeout 120 \
        ternion run --peer-timeout-ms 1500 -n 3 -- ./program 200000 2>timeout.err; then
        echo "the job succeeded although rank 1 froze"
        return 1
    fi
    expect "link to rank 1: peer sent nothing for 1500 ms" timeout.err
}
check 'ternion run --peer-timeout-ms 1500 -n 3 -- ./program' peer_timeout_job

resume_buffer_job() {
    # All parties must agree on whether links resume: rank 0 alone without
    # a resume buffer is refused, and all three without one form a job.
    if across_machines "./program 10" "--resume-buffer-bytes 0 --connect-timeout-ms 3000"; then
        echo "rank 0 without a resume buffer joined peers that have one"
        return 1
    fi
    expect "different link capabilities" rank0.out
    local pids=() status=0
    for rank in 0 1 2; do
        TERNION_PRIVATE_KEY_FILE="party$rank.key" TERNION_PUBLIC_KEYS="$public_keys" \
            timeout 120 ternion run --hostfile hosts --rank "$rank" --resume-buffer-bytes 0 \
            -- ./program 10 >"rank$rank.out" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    return "$status"
}
check 'ternion run --resume-buffer-bytes 0 ...' resume_buffer_job

ring_bench_job() {
    ternion run -n 3 -- ternion ring-bench --quick | tee ring-bench.out
    for rank in 0 1 2; do expect "ternion-bench backend=hosted rank=$rank" ring-bench.out; done
}
check 'ternion run -n 3 -- ternion ring-bench' ring_bench_job

wrapper_show() {
    ternion-mpicc -show | tee show.out
    grep -q "libternion_mpi" show.out
}
check 'ternion-mpicc -show' wrapper_show

engine_by_make() {
    make -C "$OLDPWD/tests/readme" OUT="$out" CC="$rel/ternion-mpicc" CXX="$rel/ternion-mpicxx"
    ternion run -n 3 -- ./engine_c
    ternion run -n 3 -- ./engine_cxx
}
check 'make CC=/path/to/ternion-mpicc CXX=/path/to/ternion-mpicxx; ternion run -n 3 -- ./engine' engine_by_make

engine_by_pkg_config() {
    # shellcheck disable=SC2046
    cc -O2 -o engine_pkg "$OLDPWD/tests/c/cmake/ring.c" \
        $(PKG_CONFIG_PATH="$rel/pkgconfig" pkg-config --cflags --libs ternion_mpi) \
        -Wl,-rpath,"$rel"
    ternion run -n 3 -- ./engine_pkg
}
check 'PKG_CONFIG_PATH=target/release/pkgconfig pkg-config ternion_mpi' engine_by_pkg_config

echo "readme: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
