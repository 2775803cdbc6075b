#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine, then runs them all:
# formatting, lints, the no_std build, every crate's tests, the core on a
# simulated lossy network (1,000 seeds), a minute of fuzzing per target, and
# a quick benchmark smoke run (no thresholds: it only proves the benchmarks
# still work).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s\n' "$*"; }

step "system packages"
missing=()
command -v mpicc >/dev/null 2>&1 || missing+=(openmpi-bin libopenmpi-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi

step "Rust targets and components"
rustup target add x86_64-unknown-none
rustup component add clippy rustfmt

step "format"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "lints"
cargo clippy --workspace --exclude ternion-ukl --all-targets -- -D warnings
cargo clippy -p ternion-core --features sim --all-targets -- -D warnings
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
cargo clippy -p ternion-core -p ternion-ukl --target x86_64-unknown-none -- -D warnings

step "the core builds for x86_64-unknown-none"
cargo build -p ternion-core --target x86_64-unknown-none

step "tests"
cargo test --workspace

step "the core over smoltcp's TCP on a simulated lossy network (feature sim), then 1,000 seeds of it"
cargo test --release -p ternion-core --features sim
TERNION_SIM_SEEDS=1000 cargo test --release -p ternion-core --features sim --test sim -- --ignored many_seeds --nocapture

step "fuzzing: every target for a minute, and the saved regressions (scripts/fuzz.sh)"
scripts/fuzz.sh --seconds 60

step "the README's first set-up command runs the demo"
cargo run --release -q -p ternion-linux -- demo --elements 100 | tee target/demo.log
grep -q "all 4 computations correct" target/demo.log

step "C libraries, headers, compiler wrappers (tests/c)"
cargo build --release
tests/c/run.sh

step "MPI conformance: the same programs on OpenMPI and on ternion, byte-identical results (tests/mpi)"
tests/mpi/run.sh differential

step "three hosts: the conformance programs in three network namespaces, through a link cut and over a 20 ms path"
scripts/netns-test.sh --quick

step "soak smoke run: checked traffic while random links are cut (scripts/soak.sh; the real run is 10 minutes or more)"
scripts/soak.sh --seconds 20 --report-seconds 10

step "benchmark smoke run (quick mode, no thresholds)"
scripts/bench.sh --quick

step "the libc shim of the in-kernel C programs, against glibc (platform-ukl/libc)"
platform-ukl/libc/tests/run.sh

step "UKL: the kernel image, UKL.a and the module for Debian's kernel (scripts/build-ukl.sh)"
scripts/build-ukl.sh

step "UKL under QEMU: three in-kernel parties (demo, C conformance programs), ternion.ko in the stock kernel, a quick benchmark"
scripts/run-qemu.sh --demo --programs --module --bench --quick
