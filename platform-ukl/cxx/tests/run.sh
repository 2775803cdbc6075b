#!/usr/bin/env bash
# Tests of the in-kernel C++ runtime (platform-ukl/cxx):
#
#  1. every source compiled with the kernel's C++ flags (as
#     scripts/build-ukl.sh compiles it), warnings as errors;
#  2. host: rb_tree_test.cpp runs libstdc++'s std::set and std::map on the
#     red-black tree steps of src/rb_tree.cpp, against a sorted model.
#
# Needs clang++ and g++. The last line is "cxx runtime: N passed, M failed".
set -euo pipefail

cxx_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_root=$(cd "$cxx_dir/../.." && pwd)
"$repo_root/scripts/deps.sh" need clang++ g++ timeout || exit 1
work=$(mktemp -d /tmp/ternion-cxx.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

echo "== the runtime with the kernel's C++ flags"
for src in "$cxx_dir"/src/*.cpp; do
  if clang++ --target=x86_64-linux-gnu -std=c++11 -O2 -mcmodel=kernel -mno-red-zone -fno-pic \
      -fno-pie -mno-sse -mno-mmx -Xclang -target-feature -Xclang +soft-float -fno-stack-protector \
      -fno-exceptions -Wall -Wextra -Werror -c "$src" -o "$work/$(basename "$src").o"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $src does not compile with the kernel flags"
    failed=$((failed + 1))
  fi
done

echo "== host: std::set and std::map on src/rb_tree.cpp"
g++ -std=c++11 -O2 -Wall -Wextra -Werror "$cxx_dir/tests/rb_tree_test.cpp" "$cxx_dir/src/rb_tree.cpp" \
  -o "$work/rb_tree_test"
# A broken rebalance can loop forever; that is a failure too.
if timeout 120 "$work/rb_tree_test" >"$work/rb_tree_test.out"; then :; fi
cat "$work/rb_tree_test.out"
summary=$(tail -n 1 "$work/rb_tree_test.out")
if [[ $summary =~ ^rb_tree_test:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
else
  echo "FAIL: rb_tree_test ended without its summary (crashed or timed out)"
  failed=$((failed + 1))
fi

echo "cxx runtime: $passed passed, $failed failed"
((failed == 0))
