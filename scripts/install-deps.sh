#!/usr/bin/env bash
# Installs everything Conveyor needs to build, test and run on Debian
# bookworm (as root, non-interactive). Used by the README commands and CI.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --tests  also what the test suite drives: headless
#                                    Chromium, its driver and Selenium (the
#                                    dashboard's browser tests)
#   scripts/install-deps.sh --fuzz   also clang-15 + libFuzzer (scripts/fuzz.sh)
#                                    and clang-format-14 / clang-tidy-14
#                                    (scripts/format.sh, scripts/tidy.sh)
# Options combine.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev librocksdb-dev nlohmann-json3-dev libboost-test-dev libssl-dev
  libboost-dev prometheus-cpp-dev libjs-chart.js
  python3 procps openssl git
)
browser=()
for option in "$@"; do
  case $option in
  --tests) browser=(chromium chromium-driver python3-selenium fonts-liberation) ;;
  --fuzz) packages+=(clang-15 libfuzzer-15-dev clang-format-14 clang-tidy-14) ;;
  *)
    echo "install-deps: unknown option $option" >&2
    exit 2
    ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
browser_missing=()
for p in "${browser[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || browser_missing+=("$p")
done
if ((${#missing[@]} + ${#browser_missing[@]})); then
  apt-get update -qq
fi
if ((${#missing[@]})); then
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Chromium with what Debian recommends beside it (fonts, GL drivers): the
# headless browser the dashboard's tests drive is then the one a desktop
# user gets.
if ((${#browser_missing[@]})); then
  apt-get install -y -qq "${browser_missing[@]}"
fi
