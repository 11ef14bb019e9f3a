#!/usr/bin/env bash
# Installs dependencies, builds and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
scripts/build.sh build
# Two suites at a time: most of their time is spent waiting on processes,
# sockets and fsync, not on a core.
cd build && ctest --output-on-failure --timeout 600 -j 2
