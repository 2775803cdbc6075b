#!/usr/bin/env bash
# Installs everything any step uses on a fresh machine, first and from the
# one list in scripts/dependencies (so the steps can run in any order), then
# runs them all: formatting, lints, the no_std build, every crate's tests,
# the core on a simulated lossy network (1,000 seeds), a minute of fuzzing
# per target, the C and MPI suites, the README's commands, Secrecy's own
# tests on ternion and on OpenMPI, three network namespaces, the wide-area
# emulator's own checks, a soak and the benchmarks' smoke runs, on
# loopback and across the emulated clouds (no thresholds: they only prove
# the tools still work), and the UKL build and its QEMU runs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==== %s\n' "$*"; }

step "dependencies: every Debian package, Rust toolchain, component, target and cargo tool of scripts/dependencies"
# Installs them, then fails naming any command the list promises that is
# still missing (clang, ld.lld, mpicc, cmake, busybox, qemu-system-x86_64,
# cargo-fuzz, ...): later steps can rely on all of them.
scripts/deps.sh install

step "format"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo fmt --manifest-path bench/aead/Cargo.toml -- --check

step "lints"
cargo clippy --workspace --exclude ternion-ukl --all-targets -- -D warnings
cargo clippy -p ternion-core --features sim --all-targets -- -D warnings
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
cargo clippy --manifest-path bench/aead/Cargo.toml --all-targets -- -D warnings
cargo clippy -p ternion-core -p ternion-mpc -p ternion-ukl --target x86_64-unknown-none -- -D warnings

step "the core and the MPC layer build for x86_64-unknown-none"
cargo build -p ternion-core -p ternion-mpc --target x86_64-unknown-none

step "tests"
cargo test --workspace

step "the core over smoltcp's TCP on a simulated lossy network (feature sim), then 1,000 seeds of it"
cargo test --release -p ternion-core --features sim
TERNION_SIM_SEEDS=1000 cargo test --release -p ternion-core --features sim --test sim -- --ignored many_seeds --nocapture

step "fuzzing: every target for a minute, and the saved regressions (scripts/fuzz.sh)"
scripts/fuzz.sh --seconds 60

step "C libraries, headers, compiler wrappers (tests/c)"
cargo build --release
tests/c/run.sh

step "the README's commands as written, and every command and flag it names (tests/readme)"
tests/readme/run.sh

step "MPI conformance: the same programs on OpenMPI and on ternion, byte-identical results (tests/mpi)"
tests/mpi/run.sh differential

step "Secrecy's own suite: its c_api tests and experiments on ternion (encrypted) and on OpenMPI-TCP (tests/secrecy)"
tests/secrecy/run.sh

step "three hosts: the conformance programs in three network namespaces, on a switch, through a link cut and across the emulated cross-region path"
scripts/netns-test.sh --quick

step "wide-area emulator: round trip and rate through the cross-region profile within 10%, and no namespace left after Ctrl-C (tests/wan)"
tests/wan/run.sh cross-region 3

step "faults across the clouds: a 10 s outage of rank 1 on the cross-region profile, survived with a 30 s peer timeout, named with the default (tests/wan/faults.sh)"
tests/wan/faults.sh

step "soak smoke run: checked traffic while random links are cut (scripts/soak.sh; the real run is 10 minutes or more)"
scripts/soak.sh --seconds 20 --report-seconds 10

step "benchmark smoke run (quick mode, no thresholds)"
scripts/bench.sh --quick

step "wide-area benchmark smoke run: every system and Secrecy's four experiments across the cross-region profile (quick mode, no thresholds)"
scripts/bench.sh --quick --wan cross-region

step "the libc shim of the in-kernel C programs, against glibc (platform-ukl/libc)"
platform-ukl/libc/tests/run.sh

step "the in-kernel C++ runtime: kernel flags, and its red-black tree under std::map on the host (platform-ukl/cxx)"
platform-ukl/cxx/tests/run.sh

step "UKL: the kernel image, UKL.a and the module for Debian's kernel (scripts/build-ukl.sh)"
scripts/build-ukl.sh

step "UKL under QEMU: three in-kernel parties (demo, C conformance programs, Secrecy's c_api tests and five experiments against their hosted runs), ternion.ko in the stock kernel, quick benchmarks (the ring, and the five experiments in kernel mode vs hosted), the stack guard, the C library against glibc; no key in any guest log"
scripts/run-qemu.sh --demo --programs --secrecy --secrecy-bench --module --bench --quick --stack-guard --libc
