#!/usr/bin/env bash
# C-level tests of what `cargo build --release` produces for C users:
# the headers (as C and C++), libternion static and shared (found through
# its pkg-config file), and the compiler wrappers, by hand and through
# CMake's FindMPI. Ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh need cc c++ cmake pkg-config || exit 1

rel=target/release
out=target/c-tests
mkdir -p "$out"
export PKG_CONFIG_PATH="$rel/pkgconfig"
check_logs="$out"
# shellcheck source=tests/check.sh
. tests/check.sh

for hdr in mpi.h ternion.h; do
    printf '#include <%s>\nint main(void) { return 0; }\n' "$hdr" >"$out/include-$hdr.c"
    check "$hdr-as-c" cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c "$out/include-$hdr.c" -o "$out/include.o"
    check "$hdr-as-c++" c++ -std=c++17 -x c++ -Wall -Wextra -Werror -pedantic -Iinclude -c "$out/include-$hdr.c" -o "$out/include.o"
done

native_libs="$(pkg-config --static --libs-only-l ternion | sed 's/-lternion //')"
# shellcheck disable=SC2046,SC2086
check native-api-build-static cc -std=c11 -Wall -Wextra -Werror -O2 $(pkg-config --cflags ternion) \
    -o "$out/native_api_static" tests/c/native_api.c "$rel/libternion.a" $native_libs
# shellcheck disable=SC2046
check native-api-build-shared cc -std=c11 -Wall -Wextra -Werror -O2 $(pkg-config --cflags ternion) \
    -o "$out/native_api_shared" tests/c/native_api.c $(pkg-config --libs ternion) \
    -Wl,-rpath,"$(pkg-config --variable=libdir ternion)"
check native-api-run-static timeout 120 "$rel/ternion" run -n 3 -- "$out/native_api_static"
check native-api-run-shared timeout 120 "$rel/ternion" run -n 3 -- "$out/native_api_shared"

# shellcheck disable=SC2086
check native-explicit-build cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude \
    -o "$out/native_explicit" tests/c/native_explicit.c "$rel/libternion.a" $native_libs
# explicit_job [cut]: three parties started by hand. With "cut", rank 1
# reaches rank 0 through tests/c/cutting_proxy.py, which resets their first
# connection mid-run; both must resume and count it in their link statistics.
explicit_job() {
    local mode="${1:-}" ports
    ports="$(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join("127.0.0.1:%d" % s.getsockname()[1] for s in socks))')"
    # Keys as an operator makes them; the C call takes them from the environment.
    local keys="$out/explicit-keys" public=()
    rm -rf "$keys" && mkdir -p "$keys"
    for rank in 0 1 2; do
        public+=("$("$rel/ternion" keygen --out "$keys/rank$rank.key" 2>/dev/null)")
    done
    # shellcheck disable=SC2206
    local addr=($ports) proxy_pid="" rounds=1
    local -a seen_by=("${addr[@]}" "${addr[@]}" "${addr[@]}") resumed=(-1 -1 -1)
    if [ "$mode" = cut ]; then
        rounds=3000
        coproc proxy { exec python3 tests/c/cutting_proxy.py "${addr[0]}" 20000; }
        proxy_pid=$!
        local via
        read -r via <&"${proxy[0]}"
        seen_by[3]="$via" # rank 1's view of rank 0's address
        resumed=(1 0 -1)
    fi
    local pids=()
    for rank in 2 1 0; do
        TERNION_PRIVATE_KEY_FILE="$keys/rank$rank.key" TERNION_PUBLIC_KEYS="$(IFS=,; echo "${public[*]}")" \
            timeout 60 "$out/native_explicit" "$rank" "${seen_by[@]:$((rank * 3)):3}" \
            "$rounds" "${resumed[$rank]}" &
        pids+=($!)
    done
    local status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    [ -z "$proxy_pid" ] || kill "$proxy_pid"
    return "$status"
}
check native-explicit-run explicit_job
check native-explicit-resume-counted explicit_job cut

show_is_usable() {
    local cmd
    cmd="$("$rel/ternion-mpicc" -show -O2 prog.c -o prog)"
    [[ "$cmd" == *"-I"*"include"* && "$cmd" == *"prog.c"* && "$cmd" == *"libternion_mpi.a"* ]] || {
        echo "unexpected -show output: $cmd"
        return 1
    }
    cmd="$("$rel/ternion-mpicxx" -show -c prog.cpp)"
    [[ "$cmd" == c++* && "$cmd" != *"libternion_mpi.a"* ]] || {
        echo "compile-only -show should not link: $cmd"
        return 1
    }
    # There is no static libgcc_s: a -static link takes the unwinder from libgcc_eh.
    cmd="$("$rel/ternion-mpicxx" -show -static prog.cpp -o prog)"
    [[ "$cmd" == *"-lgcc_eh"* && "$cmd" != *"-lgcc_s"* ]] || {
        echo "a -static link should use libgcc_eh, not libgcc_s: $cmd"
        return 1
    }
}
check wrapper-show show_is_usable

# TERNION_MPI_STATS=1: each rank reports at MPI_Finalize how long it sat
# blocked. In long_compute, rank 1 computes for 7 s without MPI calls while
# rank 0 waits for its message: rank 0 must be blocked for most of that,
# rank 1 for little of its span, and each must count its link traffic.
usage_report() {
    local dir="$out/usage"
    rm -rf "$dir" && mkdir -p "$dir/out"
    "$rel/ternion-mpicc" -std=c11 -O2 -Wall -Wextra -Werror -Itests/mpi \
        tests/mpi/long_compute.c -o "$dir/long_compute"
    TERNION_MPI_STATS=1 timeout 120 "$rel/ternion" run -n 3 -- "$dir/long_compute" "$dir/out" \
        2>"$dir/stderr"
    python3 - "$dir/stderr" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
usage = {}
for m in re.finditer(r'^\[(\d)\] ternion MPI: rank (\d) usage: ([\d.]+) s from MPI_Init to '
                     r'MPI_Finalize, ([\d.]+) s \([\d.]+%\) blocked waiting for messages(.*)$', text, re.M):
    assert m.group(1) == m.group(2), m.group(0)
    sent = [int(n) for n in re.findall(r'to/from rank \d: (\d+)/\d+ messages', m.group(5))]
    assert len(sent) == 2 and sum(sent) >= 2, 'link traffic of rank %s: %s' % (m.group(2), m.group(5))
    usage[int(m.group(2))] = (float(m.group(3)), float(m.group(4)))
assert sorted(usage) == [0, 1, 2], 'usage lines for ranks %s in:\n%s' % (sorted(usage), text)
span0, blocked0 = usage[0]
span1, blocked1 = usage[1]
assert blocked0 >= 6.0 and blocked0 <= span0, 'rank 0 blocked %.3f of %.3f s' % (blocked0, span0)
assert span1 - blocked1 >= 6.0, 'rank 1 computed only %.3f of %.3f s' % (span1 - blocked1, span1)
print('rank 0 blocked %.3f of %.3f s; rank 1 blocked %.3f of %.3f s' % (blocked0, span0, blocked1, span1))
PY
}
check mpi-usage-report usage_report

cmake_findmpi() {
    rm -rf target/cmake-findmpi
    cmake -S tests/c/cmake -B target/cmake-findmpi \
        -DMPI_C_COMPILER="$PWD/$rel/ternion-mpicc" -DMPI_CXX_COMPILER="$PWD/$rel/ternion-mpicxx"
    grep -q "libternion_mpi" target/cmake-findmpi/CMakeCache.txt
    cmake --build target/cmake-findmpi
    timeout 60 "$rel/ternion" run -n 3 -- target/cmake-findmpi/ring_c
    timeout 60 "$rel/ternion" run -n 3 -- target/cmake-findmpi/ring_cxx
}
check cmake-findmpi cmake_findmpi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
