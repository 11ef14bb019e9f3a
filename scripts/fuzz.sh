#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-15 into build-fuzz/
# and runs each for N seconds (default 60), starting from its corpus in
# tests/fuzz/corpus/<target>. Fails on the first crash, leak or failed
# property; the reproducer is left in build-fuzz/artifacts/.
# Needs: apt-get install clang-15 libfuzzer-15-dev
#   scripts/fuzz.sh [seconds] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(json_guard where cron progress config job_record messages)
fi
dir=build-fuzz
CC=clang-15 CXX=clang++-15 cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVEYOR_FUZZ=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCONVEYOR_WERROR=OFF >/dev/null
cmake --build "$dir" -j 2 --target "${targets[@]/#/fuzz_}"
mkdir -p "$dir/artifacts"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  # New inputs go to a scratch copy; the checked-in corpus stays small.
  work="$dir/corpus/$t"
  mkdir -p "$work"
  echo "== fuzz_$t for ${seconds}s"
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$t-" "$work" "tests/fuzz/corpus/$t"
done
echo "fuzz: no crash in ${#targets[@]} targets x ${seconds}s"
