# Helpers for the end-to-end tests of the `conveyor` binary.
#
#   source "$(dirname "$0")/lib.sh" "$1"     # $1: path of the conveyor binary
#
# Provides: $T (a private temp dir, removed on exit), start_serve / stop_serve
# (a serve node on 127.0.0.1, port 0), start_worker, `conveyor` (the binary
# under a timeout) and `cv` (the same, connected to the current serve node),
# `capture` (stdout/stderr/exit code of a command into OUT/ERR/RC), JSON
# access through python3, polling helpers and assertions that say what failed
# and exit 1.
#
# Cleanup (trap EXIT) kills only processes this script started (their PIDs
# are recorded when they start) plus task programs that recorded their own
# PID under $T/task-pids (checked against /proc/PID/cmdline so an unrelated
# process that got the PID later is never touched). Nothing is killed by name.

if [[ $# -lt 1 || -z "$1" ]]; then
  echo "usage: $0 PATH/TO/conveyor" >&2
  exit 2
fi
CONVEYOR_BIN=$(realpath "$1")
if [[ ! -x "$CONVEYOR_BIN" ]]; then
  echo "not an executable: $CONVEYOR_BIN" >&2
  exit 2
fi
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/conveyor-e2e-${TEST_NAME}.XXXXXX")
mkdir -p "$T/task-pids"
# Never pick up a token from the caller's environment.
unset CONVEYOR_TOKEN
# Seconds a single CLI call may take before it counts as hung (exit 124).
CLI_TIMEOUT=${CLI_TIMEOUT:-20}
STARTED_PIDS=()
CLEANUP_HOOKS=()
SOFT_FAILURES=()
SERVE_PID=""
SERVE_ADDR=""
SERVE_DATA=""
SERVE_LOG=""
_serve_count=0
_test_started=$SECONDS

log() { printf '[%s +%ss] %s\n' "$TEST_NAME" "$((SECONDS - _test_started))" "$*" >&2; }

# Whether PID is (still) a child of this shell: a PID we started that has
# exited and been reaped may belong to someone else by now.
_is_our_child() {
  [[ "$(cut -d' ' -f4 "/proc/$1/stat" 2>/dev/null)" == "$$" ]]
}

_kill_pid() { # pid: SIGKILL it and reap it if it is our child
  local pid=$1
  if _is_our_child "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

_cleanup() {
  local rc=$?
  set +e
  if ((rc == 0 && ${#SOFT_FAILURES[@]} > 0)); then
    rc=1
  fi
  if ((${#SOFT_FAILURES[@]} > 0)); then
    echo "---- $TEST_NAME: ${#SOFT_FAILURES[@]} check(s) failed:" >&2
    printf '  %s\n' "${SOFT_FAILURES[@]}" >&2
  fi
  trap - EXIT INT TERM
  # Serve and worker processes: ask nicely first, then insist.
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    _is_our_child "$pid" && kill -TERM "$pid" 2>/dev/null
  done
  poll_until 5 _started_all_gone || true
  for pid in "${STARTED_PIDS[@]}"; do
    _kill_pid "$pid"
  done
  # Task programs orphaned by a kill -9 of their node (they stop on their own
  # once orphaned; this is the safety net). Only if it still is our script.
  local f
  for f in "$T"/task-pids/*; do
    [[ -e "$f" ]] || continue
    pid=$(basename "$f")
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF "$T/"; then
      kill -9 "$pid" 2>/dev/null
    fi
  done
  # Test-specific cleanup (e.g. unmounting a file system under $T), once
  # the processes are gone.
  local hook
  for hook in "${CLEANUP_HOOKS[@]}"; do
    "$hook"
  done
  if ((rc != 0)); then
    echo "---- $TEST_NAME failed (exit $rc); node logs from $T ----" >&2
    for f in "$T"/*.out "$T"/*.err "$T"/effects*; do
      [[ -s "$f" ]] || continue
      echo "== $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    done
  fi
  if [[ -n "${KEEP_E2E_TMP:-}" ]]; then
    echo "kept $T" >&2
  else
    rm -rf "$T"
  fi
  log "finished with exit code $rc after $((SECONDS - _test_started)) s"
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- assertions

fail() {
  echo "FAIL [$TEST_NAME]: $*" >&2
  exit 1
}

assert_eq() { # expected actual message
  if [[ "$1" != "$2" ]]; then
    fail "$3: expected '$1', got '$2'"
  fi
}

assert_ne() { # unexpected actual message
  if [[ "$1" == "$2" ]]; then
    fail "$3: did not expect '$2'"
  fi
}

assert_contains() { # haystack needle message
  if [[ "$1" != *"$2"* ]]; then
    fail "$3: '$2' not found in: $1"
  fi
}

assert_not_contains() { # haystack needle message
  if [[ "$1" == *"$2"* ]]; then
    fail "$3: '$2' unexpectedly found in: $1"
  fi
}

# After capture: the exit code must be $1.
assert_rc() { # expected-rc message
  if [[ "$RC" != "$1" ]]; then
    fail "$2: expected exit code $1, got $RC
  stdout: ${OUT:0:2000}
  stderr: ${ERR:0:2000}"
  fi
}

# Checks: like the assertions, but the test goes on; it still fails at the
# end. Used where the rest of the test is worth running after a failure.
check_failed() {
  echo "FAIL [$TEST_NAME] (continuing): $*" >&2
  SOFT_FAILURES+=("$*")
}

check_eq() { # expected actual message
  if [[ "$1" != "$2" ]]; then
    check_failed "$3: expected '$1', got '$2'"
  fi
}

check_rc() { # expected-rc message
  if [[ "$RC" != "$1" ]]; then
    check_failed "$2: expected exit code $1, got $RC (stderr: ${ERR:0:300})"
  fi
}

# ------------------------------------------------------------- running things

# The binary, bounded in time so a hung request fails the test instead of
# hanging it (exit code 124 then).
conveyor() {
  timeout -k 2 "$CLI_TIMEOUT" "$CONVEYOR_BIN" "$@"
}

# A client command against the current serve node with its admin token.
cv() {
  conveyor "$@" --connect "$SERVE_ADDR" --data "$SERVE_DATA"
}

# capture CMD...: runs it; OUT, ERR and RC hold its stdout, stderr and exit
# code. Never fails by itself.
capture() {
  local o="$T/.capture.out" e="$T/.capture.err"
  RC=0
  "$@" >"$o" 2>"$e" || RC=$?
  OUT=$(cat "$o")
  ERR=$(cat "$e")
}

# must CMD...: capture, and fail unless it exited 0. OUT holds stdout.
must() {
  capture "$@"
  if [[ "$RC" != 0 ]]; then
    fail "command failed (exit $RC): $*
  stdout: ${OUT:0:2000}
  stderr: ${ERR:0:2000}"
  fi
}

# ---------------------------------------------------------------------- JSON

# json_get JSON EXPR: evaluates the python expression EXPR with d = the
# parsed JSON; prints strings raw and everything else as compact JSON.
json_get() {
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))
' "$1" "$2" || fail "cannot evaluate $2 on: ${1:0:2000}"
}

# json_field JSON a.b.0.c: a dotted path (list indices as numbers).
json_field() {
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d if isinstance(d, str) else json.dumps(d, sort_keys=True, separators=(",", ":")))
' "$1" "$2" || fail "no field $2 in: ${1:0:2000}"
}

# ------------------------------------------------------------------- polling

source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

_started_all_gone() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    if _is_our_child "$pid" && ! _gone "$pid"; then
      return 1
    fi
  done
}

# _effects_changed N: $EFFECTS no longer has N lines.
# write_echo_task: $T/echo.sh, a command task that answers {"echo": INPUT}.
write_echo_task() {
  cat >"$T/echo.sh" <<'EOF'
#!/bin/sh
input=$(cat)
printf '{"echo": %s}\n' "$input"
EOF
  chmod +x "$T/echo.sh"
}

# write_gated_task NAME: $T/NAME.sh, a command task that reports progress
# 0.25 ("first quarter") on fd 3 and "starting the slow part" on stderr,
# waits at the FIFO $T/gate (made here) until the test writes to it, reports
# 0.75 ("nearly there") and "slow part done", waits again, then answers
# {"done": true}. At most 60 s per wait.
write_gated_task() {
  [[ -p "$T/gate" ]] || mkfifo "$T/gate"
  cat >"$T/$1.sh" <<EOF
#!/bin/sh
cat >/dev/null
echo "0.25 first quarter" >&3
echo "starting the slow part" >&2
timeout 60 cat "$T/gate" >/dev/null
echo "0.75 nearly there" >&3
echo "slow part done" >&2
timeout 60 cat "$T/gate" >/dev/null
echo '{"done": true}'
EOF
  chmod +x "$T/$1.sh"
}

_effects_changed() {
  [[ "$(wc -l <"$EFFECTS")" != "$1" ]]
}

# job_status ID: the job's status on the current node ("" if get fails).
job_status() {
  local out
  out=$(cv get "$1" 2>/dev/null) || { echo ""; return 0; }
  json_get "$out" 'd.get("status", "")'
}

_status_is() { [[ "$(job_status "$1")" == "$2" ]]; }

# wait_status ID STATUS [SECONDS]
wait_status() {
  wait_until "${3:-15}" "job $1 to be $2 (is '$(job_status "$1")')" _status_is "$1" "$2"
}

# count_lines FILE REGEX: number of lines matching (0 if the file is missing).
count_lines() {
  if [[ -e "$1" ]]; then
    grep -cE "$2" "$1" || true
  else
    echo 0
  fi
}

_has_line() { [[ -e "$1" ]] && grep -qE "$2" "$1"; }

# wait_line FILE REGEX [SECONDS]
wait_line() {
  wait_until "${3:-15}" "a line matching '$2' in $(basename "$1")" _has_line "$1" "$2"
}

# free_port: a loopback port nobody listens on right now.
free_port() {
  python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ------------------------------------------------------------ serve/workers

_serve_ready() { [[ -s "$SERVE_LOG" ]] && grep -q '"event":"listening"' "$SERVE_LOG"; }

# The node listens; fails the test at once if it exited instead.
_serve_up() {
  _serve_ready && return 0
  kill -0 "$SERVE_PID" 2>/dev/null ||
    fail "serve exited before listening: $(cat "${SERVE_LOG%.out}.err")"
  return 1
}

# _worker_up OUT: the worker registered; fails the test if it exited.
_worker_up() {
  [[ -s "$1" ]] && grep -q '"event":"worker"' "$1" && return 0
  kill -0 "$WORKER_PID" 2>/dev/null ||
    fail "worker exited before registering: $(cat "${1%.out}.err")"
  return 1
}

# start_serve CONFIG DATA_DIR: starts `conveyor serve` on 127.0.0.1:0 in the
# background and waits for its listening line. Sets SERVE_PID, SERVE_ADDR,
# SERVE_HTTP (its HTTP door, also on a free port), SERVE_DATA and SERVE_LOG (stdout: JSON lines; stderr in ${SERVE_LOG%.out}.err).
start_serve() {
  local config=$1 data=$2
  _serve_count=$((_serve_count + 1))
  SERVE_LOG="$T/serve$_serve_count.out"
  SERVE_DATA=$data
  "$CONVEYOR_BIN" serve --config "$config" --data "$data" --listen 127.0.0.1:0 \
    --http 127.0.0.1:0 \
    >"$SERVE_LOG" 2>"${SERVE_LOG%.out}.err" &
  SERVE_PID=$!
  STARTED_PIDS+=("$SERVE_PID")
  wait_until 15 "serve to print its listening line" _serve_up
  local line
  line=$(grep -m1 '"event":"listening"' "$SERVE_LOG")
  SERVE_ADDR=$(json_get "$line" 'd["address"]')
  SERVE_HTTP=$(json_get "$line" 'd.get("http") or ""')
  [[ "$SERVE_ADDR" == 127.0.0.1:* && "${SERVE_ADDR##*:}" != 0 ]] ||
    fail "unexpected listening address '$SERVE_ADDR'"
  log "serve pid $SERVE_PID listening on $SERVE_ADDR (data $data)"
}

# stop_serve: SIGTERM, and the node must exit 0 within 10 s.
stop_serve() {
  kill -TERM "$SERVE_PID"
  wait_until 10 "serve $SERVE_PID to stop on SIGTERM" _gone "$SERVE_PID"
  local rc=0
  wait "$SERVE_PID" || rc=$?
  assert_eq 0 "$rc" "exit code of serve after SIGTERM"
}

# wait_pid PID SECONDS: waits for a background child to exit; RC = its exit
# code. Fails the test if it is still running after SECONDS.
wait_pid() {
  local pid=$1
  wait_until "$2" "process $pid to exit" _gone "$pid"
  RC=0
  wait "$pid" || RC=$?
}

# kill9 PID: SIGKILL a process we started and reap it.
kill9() {
  kill -9 "$1"
  wait "$1" 2>/dev/null || true
}

_worker_count=0
# start_worker QUEUE CONFIG: a worker node for the current serve node, with
# the serve node's admin token; waits for its registration line. Sets
# WORKER_PID (and appends to STARTED_PIDS).
start_worker() {
  local queue=$1 config=$2
  _worker_count=$((_worker_count + 1))
  local out="$T/worker$_worker_count.out"
  "$CONVEYOR_BIN" worker --queue "$queue" --concurrency 2 --config "$config" \
    --connect "$SERVE_ADDR" --data "$SERVE_DATA" >"$out" 2>"${out%.out}.err" &
  WORKER_PID=$!
  STARTED_PIDS+=("$WORKER_PID")
  wait_until 15 "worker $WORKER_PID to register" _worker_up "$out"
  log "worker pid $WORKER_PID registered for queue $queue"
}

# iso_in SECONDS: an ISO 8601 UTC time SECONDS from now.
iso_in() {
  date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%S.000Z
}
