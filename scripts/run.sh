#!/usr/bin/env bash
# Installs dependencies, builds, and runs the main job: a runtime node with
# the default configuration (config/conveyor.json) that queues and runs real
# work. Extra arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec build/conveyor-demo "$@"
