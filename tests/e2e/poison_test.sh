#!/usr/bin/env bash
# End to end: poison pills. Step 2 of a workflow, then a task job, kill the
# serve node that runs them (kill -9 of their parent), every time. Each restart counts one
# interruption without consuming a retry; at jobs.maxInterruptions (2 here)
# the job fails with JobInterrupted on start-up instead of taking the node
# down again, and the node goes on serving other jobs.
#
#   bash tests/e2e/poison_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

EFFECTS="$T/effects"

# Every run appends "<jobID> <taskID> start". "bomb" kills its serve node.
cat >"$T/step.sh" <<EOF
#!/bin/sh
cat >/dev/null
echo "\$CONVEYOR_JOB_ID \$CONVEYOR_TASK_ID start" >>"$EFFECTS"
if [ "\$1" = bomb ]; then
  kill -9 \$(cut -d' ' -f4 /proc/\$PPID/stat) # the node (our parent is its reaper)
  exit 1
fi
printf '{"done": "%s"}\n' "\$CONVEYOR_TASK_ID"
EOF
chmod +x "$T/step.sh"

cat >"$T/conveyor.json" <<'EOF'
{
  "jobs": {
    "tasks": [
      { "slug": "ok", "run": ["./step.sh", "ok"], "retries": 5, "timeout": 30000 },
      { "slug": "bomb", "run": ["./step.sh", "bomb"], "retries": 5, "timeout": 30000 }
    ],
    "workflows": [
      { "slug": "poisoned", "retries": 5,
        "steps": [
          { "id": "1", "task": "ok" },
          { "id": "2", "task": "bomb", "input": { "after": "${steps.1.output.done}" } }
        ] }
    ],
    "deleteJobOnComplete": false,
    "maxInterruptions": 2
  },
  "node": { "durability": "sync" }
}
EOF

DATA="$T/data"

# A restart whose recovered poisoned job kills the node again, possibly
# before it printed its listening line: wait for it to die, nothing more.
restart_doomed_serve() {
  "$CONVEYOR_BIN" serve --config "$T/conveyor.json" --data "$DATA" \
    --listen 127.0.0.1:0 --http off >"$T/doomed.out" 2>"$T/doomed.err" &
  local pid=$!
  STARTED_PIDS+=("$pid")
  wait_pid "$pid" 20
  log "serve $pid killed by the recovered job"
}

# A clean stop and restart first: the crashes below are still told apart.
start_serve "$T/conveyor.json" "$DATA"
must cv queue --task ok --input '{}' --wait
stop_serve

start_serve "$T/conveyor.json" "$DATA"
NODE=$SERVE_PID
must cv queue --workflow poisoned --input '{}'
J_WF=$(json_get "$OUT" 'd["id"]')
wait_pid "$NODE" 20
log "serve $NODE killed by the job's step 2"

# The first restart: one interruption, the job runs again (step 1 restored
# from the journal) and kills this node too.
restart_doomed_serve

# The second restart: the limit is reached before anything runs.
start_serve "$T/conveyor.json" "$DATA"
must cv get "$J_WF"
assert_eq failed "$(json_get "$OUT" 'd["status"]')" "status of the poisoned job"
assert_eq JobInterrupted "$(json_get "$OUT" 'd["error"]["name"]')" "error of the poisoned job"
assert_eq 2 "$(json_get "$OUT" 'd["interruptions"]')" "interruptions of the poisoned job"
# The interrupted runs consumed nothing; the final failure ends one attempt.
assert_eq 1 "$(json_get "$OUT" 'd["totalTried"]')" "attempts of the poisoned job"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 1 start\$")" "runs of step 1 (restored after each crash)"
assert_eq 2 "$(count_lines "$EFFECTS" "^$J_WF 2 start\$")" "runs of step 2"

# The node stays up and serves other work.
must cv queue --task ok --input '{}' --wait
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "a job after the poisoned one"

# A task job that kills its node: nothing of it is journaled before the
# crash (claims are not), yet each crash is counted (the node keeps the ids
# of its running jobs in a memory-mapped file that outlives it).
NODE=$SERVE_PID
must cv queue --task bomb --input '{}'
J_TASK=$(json_get "$OUT" 'd["id"]')
wait_pid "$NODE" 20
restart_doomed_serve
start_serve "$T/conveyor.json" "$DATA"
must cv get "$J_TASK"
assert_eq failed "$(json_get "$OUT" 'd["status"]')" "status of the poisoned task job"
assert_eq 2 "$(json_get "$OUT" 'd["interruptions"]')" "interruptions of the poisoned task job"
assert_eq 2 "$(count_lines "$EFFECTS" "^$J_TASK 1 start\$")" "runs of the poisoned task job"
stop_serve
log "ok"
