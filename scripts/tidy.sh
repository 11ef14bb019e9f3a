#!/usr/bin/env bash
# Runs clang-tidy-14 with .clang-tidy on every source file outside tests/,
# using the compile commands of a build directory it configures (default
# build-tidy/); headers of ours are checked through the files that include them.
# Fails on any finding.
#   scripts/tidy.sh [BUILD_DIR] [-fix]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=${1:-build-tidy}
shift || true
# Its own tree, configured without unity builds so every source has its own
# entry in compile_commands.json (nothing is compiled).
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVEYOR_UNITY=OFF >/dev/null
layers='(model|persistence|tasks|actors|net|http|config|apps|include)'
status=0
run-clang-tidy-14 -p "$dir" -j "$(nproc)" -quiet \
  -header-filter="^$root/$layers/" "$@" "^$root/$layers/" \
  >"$dir/tidy.log" 2>&1 || status=$?
grep -v 'warnings generated' "$dir/tidy.log" || true
if ((status)) || grep -q 'error:' "$dir/tidy.log"; then
  echo "clang-tidy: findings above (log: $dir/tidy.log)" >&2
  exit 1
fi
echo "clang-tidy: clean"
