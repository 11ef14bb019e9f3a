#!/usr/bin/env bash
# End to end: the clean stop of `conveyor serve` (docs/semantics.md §13).
#  1. On SIGTERM a running command task gets node.stopGraceMs to finish: the
#     node stays up while it runs, starts no job queued meanwhile, and exits 0
#     once it completes; the job is completed and never runs again.
#  2. A second SIGTERM during the grace interrupts the task at once: the
#     node exits 0, and the next start runs the job again with no retry
#     consumed (interruptions 1, totalTried 1).
#
#   bash tests/e2e/stop_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

EFFECTS="$T/effects"
RELEASE="$T/release.fifo" # "gated" ends when the test writes to it
NEVER="$T/never.fifo"     # nobody writes to it: "stubborn" blocks on it
MARKER="$T/stubborn-first-attempt"
mkfifo "$RELEASE" "$NEVER"

# Every run appends "<jobID> <task> start|done". "gated" blocks until the
# test writes to the release FIFO; the first run of "stubborn" blocks on a
# FIFO nobody writes to, until it is killed. Both give up after 30 s
# (--foreground keeps the reader in the task's process group, which the
# node kills).
cat >"$T/step.sh" <<EOF
#!/bin/sh
cat >/dev/null
: >"$T/task-pids/\$\$"
echo "\$CONVEYOR_JOB_ID \$1 start" >>"$EFFECTS"
if [ "\$1" = gated ]; then
  timeout --foreground 30 cat "$RELEASE" >/dev/null || { echo "never released" >&2; exit 1; }
elif [ "\$1" = stubborn ] && ( set -C; : >"$MARKER" ) 2>/dev/null; then
  timeout --foreground 30 cat "$NEVER" >/dev/null
  echo "never interrupted" >&2
  exit 1
fi
echo "\$CONVEYOR_JOB_ID \$1 done" >>"$EFFECTS"
printf '{"ran": "%s"}\n' "\$1"
EOF
chmod +x "$T/step.sh"

# A grace far longer than the test: only the task's end (part 1) or a second
# signal (part 2) may end the stop early.
cat >"$T/conveyor.json" <<'EOF'
{
  "jobs": {
    "tasks": [
      { "slug": "gated", "run": ["./step.sh", "gated"], "retries": 1 },
      { "slug": "stubborn", "run": ["./step.sh", "stubborn"], "retries": 1 },
      { "slug": "quick", "run": ["./step.sh", "quick"] }
    ],
    "deleteJobOnComplete": false
  },
  "node": { "stopGraceMs": 120000 }
}
EOF
DATA="$T/data"

_serve_gone() { _gone "$SERVE_PID"; }

log "part 1: a running task finishes within the grace"
start_serve "$T/conveyor.json" "$DATA"
must cv queue --task gated
J_GATED=$(json_get "$OUT" 'd["id"]')
wait_line "$EFFECTS" "^$J_GATED gated start\$" 20
kill -TERM "$SERVE_PID"
wait_line "$SERVE_LOG" '"event":"stopping".*"graceMs":120000' 10
stays_false 0.5 "serve exited while its task still ran" _serve_gone
# Still answering while it drains: a new job is acknowledged (durable) but
# does not start on a stopping node.
must cv queue --task quick
J_QUICK=$(json_get "$OUT" 'd["id"]')
stays_false 0.5 "a job started on a stopping node" \
  _has_line "$EFFECTS" "^$J_QUICK "
# Opening a FIFO for writing waits for its reader: the blocked task.
timeout 10 sh -c "echo go >'$RELEASE'" || fail "the gated task never opened its FIFO"
wait_pid "$SERVE_PID" 20
assert_eq 0 "$RC" "exit code of serve after a clean stop"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_GATED gated done\$")" "the gated task finished before the exit"

start_serve "$T/conveyor.json" "$DATA"
must cv get "$J_GATED"
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "job that finished within the grace"
assert_eq 0 "$(json_get "$OUT" 'd.get("interruptions", 0)')" "interruptions of a job that finished within the grace"
wait_status "$J_QUICK" completed 20
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_GATED gated start\$")" "runs of the job that finished within the grace"

log "part 2: a second SIGTERM interrupts the task"
must cv queue --task stubborn
J_STUB=$(json_get "$OUT" 'd["id"]')
wait_line "$EFFECTS" "^$J_STUB stubborn start\$" 20
kill -TERM "$SERVE_PID"
wait_line "$SERVE_LOG" '"event":"stopping"' 10
stays_false 0.5 "serve exited while its task still ran" _serve_gone
kill -TERM "$SERVE_PID"
wait_line "$SERVE_LOG" '"event":"interrupting"' 10
wait_pid "$SERVE_PID" 20
assert_eq 0 "$RC" "exit code of serve after an interrupted stop"
assert_eq 0 "$(count_lines "$EFFECTS" "^$J_STUB stubborn done\$")" "the interrupted task reported done"

start_serve "$T/conveyor.json" "$DATA"
wait_status "$J_STUB" completed 20
must cv get "$J_STUB"
assert_eq 1 "$(json_get "$OUT" 'd["interruptions"]')" "interruptions of the interrupted job"
assert_eq 1 "$(json_get "$OUT" 'd["totalTried"]')" "totalTried of the interrupted job (no retry consumed)"
assert_eq false "$(json_get "$OUT" 'd["hasError"]')" "hasError of the interrupted job"
assert_eq 2 "$(count_lines "$EFFECTS" "^$J_STUB stubborn start\$")" "runs of the interrupted job"

stop_serve
log "ok"
