#!/usr/bin/env bash
# Installs everything Conveyor needs to build, test and run on Debian
# bookworm (as root, non-interactive). Used by the README commands and CI.
#   scripts/install-deps.sh          build, test and run
#   scripts/install-deps.sh --fuzz   also clang-15 + libFuzzer (scripts/fuzz.sh)
#                                    and clang-format-14 / clang-tidy-14
#                                    (scripts/format.sh, scripts/tidy.sh)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev librocksdb-dev nlohmann-json3-dev libboost-test-dev libssl-dev
  libboost-dev prometheus-cpp-dev
  python3 procps openssl git
)
if [[ ${1:-} == --fuzz ]]; then
  packages+=(clang-15 libfuzzer-15-dev clang-format-14 clang-tidy-14)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
