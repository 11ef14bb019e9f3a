#!/usr/bin/env bash
# Installs dependencies, builds and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
cd build && ctest --output-on-failure --timeout 600
