#!/usr/bin/env bash
# Formats every C++ file of the repository with clang-format-14 and the
# house style in .clang-format.
#   scripts/format.sh           rewrite files in place
#   scripts/format.sh --check   change nothing; fail listing unformatted files
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
if [[ ${1:-} == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'not formatted (run scripts/format.sh):\n' >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files clean"
else
  clang-format-14 -i "${files[@]}"
fi
