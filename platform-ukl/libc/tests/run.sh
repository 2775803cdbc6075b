#!/usr/bin/env bash
# Tests of the libc shim (platform-ukl/libc):
#
#  1. host: the shim built with gcc, every symbol prefixed shim_ (see
#     src/shim_names.h), linked next to glibc and compared with it
#     (tests/format_test.c; random_test.c, time_test.c and sodium_test.c
#     against glibc's generator and clock and against libsodium);
#  2. soft-float: the shim built with clang's soft-float x86_64 flags as a
#     user program; its printf of doubles must match glibc's line for line
#     (tests/softfloat_test.c against `format_test --doubles`);
#  3. kernel: every source file and header compiled with the kernel flags
#     (-Wall -Wextra -Werror), and the shim's undefined symbols limited to
#     what the Rust side, the kernel and compiler_builtins provide;
#  4. the MPI test programs (tests/mpi/*.c) compiled with the kernel flags
#     against the shim's headers, needing nothing beyond the shim, MPI_* and
#     that same list.
#
# Needs gcc, clang and nm.  Exits non-zero on any failure; the last line is
# "libc shim: N passed, M failed".
set -euo pipefail

libc_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_root=$(cd "$libc_dir/../.." && pwd)
"$repo_root/scripts/deps.sh" need gcc clang nm || exit 1
[ -e /usr/include/sodium.h ] || { echo "missing: sodium.h, from the Debian package libsodium-dev (scripts/deps.sh install brings it)" >&2; exit 1; }
work=$(mktemp -d /tmp/ternion-libc.XXXXXX)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + $1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*"
}

SOURCES=(stdio string stdlib random time sodium)
WARNINGS=(-std=c11 -Wall -Wextra -Werror -pedantic)
clang_include=$(clang -print-resource-dir)/include
# clang accepts -msoft-float for x86_64 but only turns off implicit float use;
# the LLVM target feature +soft-float is what makes doubles legal without SSE
# (as software calls, passed in integer registers).
SOFT_FLOAT=(-mno-sse -mno-mmx -msoft-float -Xclang -target-feature -Xclang +soft-float)
KERNEL_FLAGS=(--target=x86_64-unknown-none-elf -ffreestanding -nostdinc
  -isystem "$libc_dir/include" -isystem "$clang_include"
  -mcmodel=kernel -mno-red-zone -fno-pic -fno-pie "${SOFT_FLOAT[@]}"
  -fno-stack-protector -ffunction-sections -fdata-sections -O2)

# What the shim and the programs may leave undefined: the Rust side's
# functions, the kernel's mem* and compiler_builtins' soft-float helpers.
ALLOWED_UNDEFINED=(malloc realloc free getenv exit abort __errno_location
  clock_gettime time nanosleep sleep usleep getrandom ternion_ukl_console_write
  memcpy memset memcmp)
SOFT_FLOAT_HELPER='^__((add|sub|mul|div|neg)[sd]f3|(fix|fixuns)[sd]f[sd]i|float(un)?[sd]i[sd]f|(eq|ne|lt|le|gt|ge|unord|cmp)[sd]f2|extendsfdf2|truncdfsf2)$'

is_allowed() {
  local sym=$1 a
  for a in "${ALLOWED_UNDEFINED[@]}"; do
    [[ $sym == "$a" ]] && return 0
  done
  [[ $sym =~ $SOFT_FLOAT_HELPER ]]
}

# ---- 1. host ---------------------------------------------------------------
echo "== host: the shim (prefixed) against glibc"
host_objs=()
for src in "${SOURCES[@]}"; do
  gcc "${WARNINGS[@]}" -O2 -DTERNION_SHIM_PREFIX -ffreestanding -nostdinc \
    -isystem "$libc_dir/include" -isystem "$(gcc -print-file-name=include)" \
    -c "$libc_dir/src/$src.c" -o "$work/host_$src.o"
  host_objs+=("$work/host_$src.o")
done
gcc -std=c11 -Wall -Wextra -Werror -O2 -c "$libc_dir/tests/format_test.c" \
  -o "$work/format_test.o"
gcc "$work/format_test.o" "${host_objs[@]}" -o "$work/format_test"
if "$work/format_test" > "$work/format_test.out"; then :; fi
cat "$work/format_test.out"
summary=$(tail -n 1 "$work/format_test.out")
if [[ $summary =~ ^format_test:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  pass "${BASH_REMATCH[1]}"
  failed=$((failed + BASH_REMATCH[2]))
else
  fail "format_test did not finish"
fi

# host_test NAME SHIM_SOURCE [LIBRARY...]: tests/NAME.c against the
# prefixed shim source; its last line is "NAME: N passed, M failed".
host_test() {
  local name=$1 source=$2 summary
  shift 2
  gcc -std=c11 -Wall -Wextra -Werror -O2 -c "$libc_dir/tests/$name.c" -o "$work/$name.o"
  gcc "$work/$name.o" "$work/host_$source.o" "$@" -o "$work/$name"
  "$work/$name" > "$work/$name.out" || true
  tail -n 11 "$work/$name.out"
  summary=$(tail -n 1 "$work/$name.out")
  if [[ $summary =~ ^$name:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    pass "${BASH_REMATCH[1]}"
    failed=$((failed + BASH_REMATCH[2]))
  else
    fail "$name did not finish"
  fi
}
echo "== host: random, srandom, initstate and setstate against glibc's"
host_test random_test random
echo "== host: gettimeofday against glibc's"
host_test time_test time
echo "== host: sodium_init and randombytes_buf against libsodium's"
host_test sodium_test sodium -lsodium

# ---- 2. soft-float -----------------------------------------------------------
echo "== soft-float: the shim's doubles under the kernel's ABI"
soft_objs=()
for src in "${SOURCES[@]}"; do
  clang --target=x86_64-linux-gnu "${WARNINGS[@]}" -O2 -DTERNION_SHIM_PREFIX \
    -ffreestanding -nostdinc -isystem "$libc_dir/include" -isystem "$clang_include" \
    -fno-pic "${SOFT_FLOAT[@]}" -c "$libc_dir/src/$src.c" -o "$work/soft_$src.o"
  soft_objs+=("$work/soft_$src.o")
done
clang --target=x86_64-linux-gnu -std=c11 -Wall -Wextra -Werror -O2 -fno-pic "${SOFT_FLOAT[@]}" \
  -c "$libc_dir/tests/softfloat_test.c" -o "$work/softfloat_test.o"
clang --target=x86_64-linux-gnu -no-pie "$work/softfloat_test.o" "${soft_objs[@]}" \
  -o "$work/softfloat_test"
if ! "$work/softfloat_test" > "$work/soft.out"; then
  fail "softfloat_test crashed"
fi
"$work/format_test" --doubles > "$work/glibc.out"
lines=$(wc -l < "$work/glibc.out")
if cmp -s "$work/soft.out" "$work/glibc.out"; then
  echo "$lines results identical to glibc's"
  pass "$lines"
else
  diff "$work/glibc.out" "$work/soft.out" | head -n 20 || true
  mismatches=$(diff "$work/glibc.out" "$work/soft.out" | grep -c '^<' || true)
  pass $((lines - mismatches))
  fail "$mismatches soft-float results differ from glibc's (first ones above, < glibc, > shim)"
fi

# ---- 3. kernel flags -----------------------------------------------------------
echo "== kernel: clang ${KERNEL_FLAGS[*]} ${WARNINGS[*]}"
kernel_objs=()
for src in "${SOURCES[@]}"; do
  if clang "${KERNEL_FLAGS[@]}" "${WARNINGS[@]}" -c "$libc_dir/src/$src.c" \
    -o "$work/kernel_$src.o"; then
    pass 1
    kernel_objs+=("$work/kernel_$src.o")
  else
    fail "src/$src.c does not compile with the kernel flags"
  fi
done
# Every header on its own and all together, for C11 -pedantic.
headers=()
for h in "$libc_dir"/include/*.h "$libc_dir"/include/sys/*.h; do
  h=${h#"$libc_dir"/include/}
  headers+=("$h")
  if printf '#include <%s>\n' "$h" |
    clang "${KERNEL_FLAGS[@]}" "${WARNINGS[@]}" -x c -c - -o /dev/null; then
    pass 1
  else
    fail "include/$h does not compile on its own"
  fi
done
if printf '#include <%s>\n' "${headers[@]}" "${headers[@]}" |
  clang "${KERNEL_FLAGS[@]}" "${WARNINGS[@]}" -x c -c - -o /dev/null; then
  pass 1
else
  fail "the headers do not compile together (twice)"
fi

# Symbols the shim defines, and what it needs from outside.
nm --defined-only -g "${kernel_objs[@]}" | awk 'NF == 3 {print $3}' | sort -u > "$work/defined"
nm -u "${kernel_objs[@]}" | awk 'NF == 2 {print $2}' | sort -u > "$work/undefined"
comm -23 "$work/undefined" "$work/defined" > "$work/external"
echo "undefined symbols of the shim: $(tr '\n' ' ' < "$work/external")"
while read -r sym; do
  if is_allowed "$sym"; then pass 1; else fail "the shim needs $sym"; fi
done < "$work/external"

# ---- 4. the MPI test programs ------------------------------------------------------
echo "== tests/mpi/*.c with the kernel flags and the shim's headers"
mpi_external=()
for prog in "$repo_root"/tests/mpi/*.c; do
  name=$(basename "$prog" .c)
  if ! clang "${KERNEL_FLAGS[@]}" -std=c11 -Wall -Wextra -Werror -I "$repo_root/include" \
    -c "$prog" -o "$work/mpi_$name.o"; then
    fail "tests/mpi/$name.c does not compile against the shim"
    continue
  fi
  pass 1
  while read -r sym; do
    if [[ $sym == MPI_* ]] || grep -qx -- "$sym" "$work/defined" || is_allowed "$sym"; then
      pass 1
      mpi_external+=("$sym")
    else
      fail "tests/mpi/$name.c needs $sym, which the shim does not provide"
    fi
  done < <(nm -u "$work/mpi_$name.o" | awk 'NF == 2 {print $2}')
done
echo "symbols the MPI programs use: $(printf '%s\n' "${mpi_external[@]}" | sort -u | tr '\n' ' ')"

echo "libc shim: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
