#!/usr/bin/env bash
# Browser test of the dashboard (docs/http.md, "Dashboard"): a real
# `conveyor serve` and headless Chromium driven by Selenium. Screenshots go
# to ARTIFACT_DIR (default: tests/browser-artifacts beside the binary).
# Skipped (exit 77) where Chromium, its driver or Selenium are missing
# (scripts/install-deps.sh --tests installs them).
#
#   bash tests/browser/dashboard_test.sh build/conveyor [ARTIFACT_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3-selenium belongs to Debian's interpreter, which another
# python3 earlier in PATH (pyenv, a venv) would not see.
PY=/usr/bin/python3
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
  || ! "$PY" -c 'import selenium' 2>/dev/null; then
  echo "SKIP: chromium, chromedriver or python3-selenium missing"
  exit 77
fi
ARTIFACTS=${2:-$(dirname "$1")/tests/browser-artifacts}
source "$here/../e2e/lib.sh" "${1:-}"
mkdir -p "$ARTIFACTS"

# slow: a running job to watch, moving on each time the test writes to the
# gate FIFO (write_gated_task); echo: answers its input; fail: always fails.
write_gated_task slow
write_echo_task
cat >"$T/fail.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "disk on fire" >&2
exit 3
EOF
chmod +x "$T"/*.sh
ADMIN=admin-token-0123456789abcdef
READER=reader-token-0123456789abcdef
cat >"$T/conveyor.json" <<EOF
{
  "jobs": {
    "tasks": [
      { "slug": "echo", "run": ["./echo.sh"], "timeout": 10000 },
      { "slug": "slow", "run": ["./slow.sh"], "timeout": 70000 },
      { "slug": "fail", "run": ["./fail.sh"], "timeout": 10000 }
    ],
    "deleteJobOnComplete": false,
    "access": {
      "tokens": {
        "$ADMIN": { "principal": "ada", "roles": ["admin"] },
        "$READER": { "principal": "rita", "roles": ["reader"] }
      },
      "queue": [ { "roles": ["admin"] } ],
      "cancel": [ { "roles": ["admin"] } ],
      "run": [ { "roles": ["admin"] } ]
    }
  }
}
EOF
start_serve "$T/conveyor.json" "$T/data"
log "dashboard at http://$SERVE_HTTP/ (screenshots in $ARTIFACTS)"
"$PY" "$here/dashboard_test.py" "http://$SERVE_HTTP" "$ADMIN" "$READER" \
  "$T/gate" "$ARTIFACTS"
stop_serve
log "ok"
