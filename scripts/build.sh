#!/usr/bin/env bash
# Configures and builds into build/ (or $1 with extra cmake args after it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# CAF translation units need ~1 GB of compiler memory each: two at a time.
cmake --build "$dir" -j 2
