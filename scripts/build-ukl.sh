#!/usr/bin/env bash
# Builds ternion's in-kernel (UKL) backend and the images that run it.
#
#   scripts/build-ukl.sh [--no-install] [--skip-module]
#
# Produces, under target/ukl/:
#   app.o       the application as one relocatable object: the Rust library
#               (platform-ukl), the C conformance programs of tests/mpi,
#               Secrecy (../shared/secrecy, unchanged: its library, c_api
#               tests and experiments), the libc shim and the C++ runtime
#               (platform-ukl/cxx), partially linked with platform-ukl/
#               linker/app.lds, with ternion_ukl_main its only global symbol;
#   UKL.a       app.o plus the kernel glue in the archive form UKL's own
#               kernel link takes (symbols prefixed ukl_, the kernel's own
#               symbols redefined back), see docs/ukl.md;
#   bzImage     Debian's linux-source-6.1, tinyconfig plus
#               platform-ukl/kernel/ukl.config, with the application linked
#               in and started from an initcall (no user space needed);
#   ternion.ko  the same object as a module for Debian's stock kernel
#               (linux-image-amd64 / linux-headers-amd64);
#   hosted.cpio.gz  an initramfs whose /init is the statically linked
#               hosted `ternion` program, for the hosted comparison guests;
#   module.cpio.gz  an initramfs for Debian's stock kernel that loads
#               ternion.ko next to two hosted parties (scripts/ukl/module-init.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=target/ukl
install=1
module=1
for arg in "$@"; do
  case $arg in
    --no-install) install=0 ;;
    --skip-module) module=0 ;;
    *) echo "usage: $0 [--no-install] [--skip-module]" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)

step() { printf '\n== %s\n' "$*"; }

if [ "$install" = 1 ]; then
  step "build dependencies (scripts/deps.sh install build ukl)"
  scripts/deps.sh install build ukl
fi
scripts/deps.sh need clang ld.lld objcopy readelf ld make bc bison flex cpio xz
secrecy=${TERNION_SECRECY_DIR:-$repo/../shared/secrecy}
secrecy_deps=${TERNION_SECRECY_DEPS_DIR:-$repo/../shared/secrecy-deps}
[ -f "$secrecy/src/core/comm.cpp" ] ||
  { echo "no Secrecy sources at $secrecy (set TERNION_SECRECY_DIR)" >&2; exit 1; }
[ -f "$secrecy_deps/sql-parser/src/SQLParser.h" ] ||
  { echo "no sql-parser headers at $secrecy_deps/sql-parser (set TERNION_SECRECY_DEPS_DIR)" >&2; exit 1; }
# Plain paths: __FILE__ in Secrecy's assertion messages must read as in the
# hosted build (scripts/run-qemu.sh --secrecy compares them).
secrecy=$(cd "$secrecy" && pwd) secrecy_deps=$(cd "$secrecy_deps" && pwd)
[ -f /usr/src/linux-source-6.1.tar.xz ] ||
  { echo "missing: /usr/src/linux-source-6.1.tar.xz, from the Debian package linux-source-6.1" >&2; exit 1; }
nightly=$(scripts/deps.sh nightly)
mkdir -p "$out/obj"

step "the Rust library (x86_64-unknown-none, kernel code model, static relocation)"
# The target's prebuilt core and alloc are position-independent (their calls
# to one another go through the GOT, which the kernel link refuses), so the
# standard library is rebuilt with the workspace's static relocation model.
# That needs nightly's -Z build-std; the code itself is stable Rust.
# -Z plt=yes: without it rustc asks LLVM to call compiler-generated helpers
# (memcpy, the soft-float routines) through the GOT as well.
cargo "+$nightly" build --release -p ternion-ukl --target x86_64-unknown-none \
  -Z build-std=core,alloc -Z build-std-features=compiler-builtins-mem \
  --config 'target.x86_64-unknown-none.rustflags=["-Z","plt=yes"]'
rustlib=target/x86_64-unknown-none/release/libternion_ukl.a

step "the C programs and the libc shim (clang, soft-float: the Rust target's ABI)"
# The kernel saves no FPU state for kernel threads, so in-kernel code must
# not touch SSE or x87 registers; doubles are soft-float, exactly as in the
# Rust target, so MPI_Wtime's double crosses the boundary in the same register.
CFLAGS=(--target=x86_64-unknown-none-elf -std=c11 -O2 -Wall -Wextra -Werror
        -ffreestanding -nostdinc -isystem platform-ukl/libc/include
        -isystem "$(clang -print-resource-dir)/include" -Iinclude
        -mcmodel=kernel -mno-red-zone -fno-pic -fno-pie -mno-sse -mno-mmx
        -Xclang -target-feature -Xclang +soft-float
        -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables
        -ffunction-sections -fdata-sections)
objects=()
for src in platform-ukl/libc/src/*.c; do
  obj=$out/obj/libc_$(basename "${src%.c}").o
  clang "${CFLAGS[@]}" -c "$src" -o "$obj"
  objects+=("$obj")
done
# The C programs of the MPI conformance suite, unchanged; each main becomes
# ternion_program_<name>, found through the generated table below.
# platform-ukl/tests holds programs for the kernel image alone (its own checks).
programs=(misc ring_exchange async_exchange open_reveal share_inputs abort truncate long_compute)
kernel_checks=(stack_overflow libc_check)
for src in "${programs[@]/#/tests/mpi/}" "${kernel_checks[@]/#/platform-ukl/tests/}"; do
  p=$(basename "$src")
  obj=$out/obj/prog_$p.o
  clang "${CFLAGS[@]}" -c "$src.c" -o "$obj"
  objcopy --redefine-sym "main=ternion_program_$p" "$obj"
  objects+=("$obj")
done

step "the C++ runtime (platform-ukl/cxx) and Secrecy, unchanged (clang++, the same kernel flags)"
# C++ is compiled for the Linux target so that it parses against glibc's
# and libstdc++'s headers (libstdc++'s templates need a full C library's
# declarations); the code itself is kernel code like the C above: no red
# zone, soft-float, no exceptions. What it calls of the C library, the
# shim and the Rust side define (build checks below: nothing else is left
# undefined). Secrecy includes <sodium.h>: the shim's, not libsodium's.
CXXFLAGS=(--target=x86_64-linux-gnu -std=c++11 -O2
          -mcmodel=kernel -mno-red-zone -fno-pic -fno-pie -mno-sse -mno-mmx
          -Xclang -target-feature -Xclang +soft-float
          -fno-stack-protector -fno-exceptions -fno-asynchronous-unwind-tables -fno-unwind-tables
          -ffunction-sections -fdata-sections)
for src in platform-ukl/cxx/src/*.cpp; do
  obj=$out/obj/cxx_$(basename "${src%.cpp}").o
  clang++ "${CXXFLAGS[@]}" -Wall -Wextra -Werror -c "$src" -o "$obj"
  objects+=("$obj")
done
overlay=$out/obj/secrecy-include
mkdir -p "$overlay"
ln -sfn "$repo/platform-ukl/libc/include/sodium.h" "$overlay/sodium.h"
# Programs tests/secrecy/expectations marks not-run are not built (the one
# there, test_join_sail, fetches its inputs from S3 and throws).
not_run=$(awk '$2 == "not-run" {print $1}' tests/secrecy/expectations | tr '\n' ' ')
# The benchmarking helpers throw (their file readers); only timeTest, which
# does not, is reached, and the partial link's --gc-sections drops the rest.
make -f tests/secrecy/Makefile -j"$jobs" -s objects SECRECY="$secrecy" \
  SQL_PARSER="$secrecy_deps/sql-parser" OUT="$out/secrecy" MPICXX=clang++ \
  CXXFLAGS="${CXXFLAGS[*]} -w" BENCHMARKING_CXXFLAGS=-fexceptions \
  EXTRA_INCLUDES="-I$repo/$overlay -I$repo/include" EXCLUDE="$not_run"
# Each program's main becomes ternion_program_<name>, and its other
# globals local: the tests and experiments each define helpers under the
# same names, which in separate processes never meet.
secrecy_programs=()
for obj in "$out"/secrecy/obj/tests_c_api_test_*.o "$out"/secrecy/obj/experiments_exp_*.o; do
  p=$(basename "$obj" .o)
  p=${p#tests_c_api_}
  p=${p#experiments_}
  localize=()
  for sym in $(readelf -sW "$obj" | awk '$5 == "GLOBAL" && $7 != "UND" && $8 != "main" {print $8}'); do
    localize+=(--localize-symbol="$sym")
  done
  objcopy --redefine-sym "main=ternion_program_$p" "${localize[@]}" "$obj" "$out/obj/secrecy_$p.o"
  objects+=("$out/obj/secrecy_$p.o")
  secrecy_programs+=("$p")
done
echo "Secrecy: ${#secrecy_programs[@]} programs"
programs+=("${secrecy_programs[@]}")

table=$out/obj/programs.c
{
  echo "/* Generated by scripts/build-ukl.sh: the programs linked into the kernel. */"
  echo "#include <stddef.h>"
  echo "struct ternion_program { const char *name; int (*main)(int, char **); };"
  for p in "${programs[@]}" "${kernel_checks[@]}"; do echo "int ternion_program_$p(int, char **);"; done
  echo "const struct ternion_program ternion_programs[] = {"
  for p in "${programs[@]}" "${kernel_checks[@]}"; do echo "    {\"$p\", ternion_program_$p},"; done
  echo "    {NULL, NULL},"
  echo "};"
} >"$table"
clang "${CFLAGS[@]}" -c "$table" -o "$out/obj/programs.o"
objects+=("$out/obj/programs.o")

step "partial link: $out/app.o"
# --gc-sections from ternion_ukl_main keeps what some program reaches;
# --force-group-allocation merges C++ COMDAT groups (inline functions and
# templates, deduplicated) into the four sections like any other code.
ld -r --gc-sections --force-group-allocation -T platform-ukl/linker/app.lds -u ternion_ukl_main -o "$out/app.o" \
  "${objects[@]}" "$out/secrecy/libsecrecy.a" "$rustlib"
grep -v '^#' platform-ukl/linker/exports.txt >"$out/obj/exports.txt"
# The collected sections' undefined symbols stay in the symbol table;
# those no relocation uses go (a module's loader would refuse them).
readelf -sW "$out/app.o" | awk '$7=="UND" && $8!="" {print $8}' | sort -u >"$out/obj/undefined.txt"
objcopy --keep-global-symbols="$out/obj/exports.txt" \
  --strip-unneeded-symbols="$out/obj/undefined.txt" "$out/app.o"
# The object must be kernel-linkable: four sections, one global, no GOT,
# and nothing needed from the kernel but the glue.
# (readelf rather than nm: nm hands objects to the LLVM linker plugin, which
# cannot read a newer LLVM's debug information.)
defined_globals() { readelf -sW "$1" | awk '($5=="GLOBAL"||$5=="WEAK") && $7!="UND" {print $8}'; }
undefined() { readelf -sW "$1" | awk '$7=="UND" && $8!="" {print $8}' | sort -u; }
globals=$(defined_globals "$out/app.o")
if [ "$globals" != "ternion_ukl_main" ]; then
  echo "app.o exports more than ternion_ukl_main:" $globals >&2; exit 1
fi
unexpected=$(undefined "$out/app.o" | grep -v '^ternion_k_' || true)
if [ -n "$unexpected" ]; then
  echo "app.o needs kernel symbols other than the glue's:" $unexpected >&2; exit 1
fi
got=$(readelf -rW "$out/app.o" | grep -c 'GOTPC\|GOT64\|GOTOFF' || true)
if [ "$got" != 0 ]; then
  echo "app.o has GOT relocations (position-independent code slipped in)" >&2; exit 1
fi
orphans=$(readelf -SW "$out/app.o" | awk '$2 ~ /^\./ {print $2}' \
  | grep -Ev '^\.(text|rodata|data|bss|symtab|strtab|shstrtab|rela\..*|debug_.*|note\..*|llvm_addrsig)$' || true)
if [ -n "$orphans" ]; then
  echo "app.o has sections the kernel link would orphan:" $orphans >&2; exit 1
fi
echo "app.o: $(stat -c %s "$out/app.o") bytes, exports ternion_ukl_main, imports only ternion_k_*"

step "the kernel: linux-source-6.1, tinyconfig + platform-ukl/kernel/ukl.config"
ksrc=$out/linux-6.1
if [ ! -f "$ksrc/Makefile" ]; then
  rm -rf "$ksrc" && mkdir -p "$ksrc"
  tar -xf /usr/src/linux-source-6.1.tar.xz -C "$ksrc" --strip-components=1
fi
mkdir -p "$ksrc/ternion"
cp platform-ukl/kernel/ternion_glue.c platform-ukl/kernel/ternion_glue.h "$ksrc/ternion/"
cp "$out/app.o" "$ksrc/ternion/ternion_app.o_shipped"
cp platform-ukl/kernel/Kbuild "$ksrc/ternion/Kbuild"
grep -q '^obj-y += ternion/$' "$ksrc/Kbuild" || echo 'obj-y += ternion/' >>"$ksrc/Kbuild"
if ! cmp -s platform-ukl/kernel/ukl.config "$ksrc/.ternion-fragment"; then
  make -C "$ksrc" -s tinyconfig
  "$ksrc/scripts/kconfig/merge_config.sh" -m -O "$ksrc" "$ksrc/.config" platform-ukl/kernel/ukl.config >/dev/null
  make -C "$ksrc" -s olddefconfig
  # Every option the fragment asks for must have survived olddefconfig.
  while IFS='=' read -r key value; do
    case $key in CONFIG_*) ;; *) continue ;; esac
    if [ "$value" = y ] && ! grep -q "^$key=y$" "$ksrc/.config"; then
      echo "the kernel configuration dropped $key=y (a dependency is missing)" >&2; exit 1
    fi
  done < platform-ukl/kernel/ukl.config
  cp platform-ukl/kernel/ukl.config "$ksrc/.ternion-fragment"
fi
make -C "$ksrc" -j"$jobs" -s bzImage
cp "$ksrc/arch/x86/boot/bzImage" "$out/bzImage"
echo "bzImage: $(stat -c %s "$out/bzImage") bytes"

step "UKL.a: the application and its glue, in UKL's archive convention"
ld -r -o "$out/obj/ternion.ukl" "$out/app.o" "$ksrc/ternion/ternion_glue.o"
rm -f "$out/UKL.a"
ar cr "$out/UKL.a" "$out/obj/ternion.ukl"
objcopy --prefix-symbols=ukl_ "$out/UKL.a"
# The kernel's own functions the glue calls keep their names.
undefined "$out/obj/ternion.ukl" | awk '{print "ukl_" $1 " " $1}' >"$out/obj/redef_sym_names"
objcopy --redefine-syms="$out/obj/redef_sym_names" "$out/UKL.a"
echo "UKL.a: $(stat -c %s "$out/UKL.a") bytes"

if [ "$module" = 1 ]; then
  step "ternion.ko for Debian's stock kernel"
  kver=$(ls /usr/src | sed -n 's/^linux-headers-\(.*-amd64\)$/\1/p' | sort -V | tail -1)
  mdir=$out/module
  rm -rf "$mdir" && mkdir -p "$mdir"
  cp platform-ukl/kernel/ternion_glue.c platform-ukl/kernel/ternion_glue.h platform-ukl/kernel/Kbuild "$mdir/"
  cp "$out/app.o" "$mdir/ternion_app.o_shipped"
  # modpost reads every object's .cmd file; a shipped object has none.
  echo "cmd_$PWD/$mdir/ternion_app.o := cp ternion_app.o_shipped ternion_app.o" >"$mdir/.ternion_app.o.cmd"
  make -C "/usr/src/linux-headers-$kver" M="$PWD/$mdir" -s modules
  cp "$mdir/ternion.ko" "$out/ternion.ko"
  echo "$kver" >"$out/module.kver"
  echo "ternion.ko for $kver: $(stat -c %s "$out/ternion.ko") bytes"
fi

step "the hosted comparison: a static ternion as /init"
cargo build --release -p ternion-linux --bin ternion --target x86_64-unknown-linux-gnu \
  --config 'target.x86_64-unknown-linux-gnu.rustflags=["-C","target-feature=+crt-static"]'
hosted_bin=target/x86_64-unknown-linux-gnu/release/ternion
cat >"$out/obj/hosted.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
file /init $PWD/$hosted_bin 0755 0 0
EOF
"$ksrc/usr/gen_init_cpio" "$out/obj/hosted.list" | gzip -1 >"$out/hosted.cpio.gz"
echo "hosted.cpio.gz: $(stat -c %s "$out/hosted.cpio.gz") bytes"

if [ "$module" = 1 ]; then
  step "the module check's initramfs: busybox, ternion.ko and the hosted ternion"
  cat >"$out/obj/module.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /bin 0755 0 0
file /bin/busybox /bin/busybox 0755 0 0
file /init $PWD/scripts/ukl/module-init.sh 0755 0 0
file /ternion $PWD/$hosted_bin 0755 0 0
file /ternion.ko $PWD/$out/ternion.ko 0644 0 0
LIST
  "$ksrc/usr/gen_init_cpio" "$out/obj/module.list" | gzip -1 >"$out/module.cpio.gz"
  echo "module.cpio.gz: $(stat -c %s "$out/module.cpio.gz") bytes"
fi
