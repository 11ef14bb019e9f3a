#!/usr/bin/env bash
# End to end: a worker node dies (kill -9) in the middle of a step.
#
# A serve node runs a 3-step declarative workflow whose task is `remote`;
# two `conveyor worker` processes implement it. The step program appends
# "<taskID> <worker pid> start|done" to an effects file; the first attempt of
# step 2 blocks (marker file) until its worker is killed. The job must
# complete exactly once: step 1 and step 3 ran once, step 2 started twice and
# finished once, and no retry was consumed (totalTried == 1). Step 3 runs
# longer than the serve node's lease (node.leaseMs 3000): its worker's
# heartbeats (node.heartbeatMs 100) keep it, so it too runs once.
#
#   bash tests/e2e/worker_kill_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

EFFECTS="$T/effects"
MARKER="$T/step2-first-attempt"

mkdir -p "$T/worker"
cat >"$T/worker/step.sh" <<EOF
#!/bin/sh
cat >/dev/null
: >"$T/task-pids/\$\$"
reaper=\$PPID # our parent is the reaper; its parent is the node
worker=\$(cut -d' ' -f4 /proc/\$PPID/stat)
echo "\$CONVEYOR_TASK_ID \$worker start" >>"$EFFECTS"
if [ "\$CONVEYOR_TASK_ID" = 2 ] && ( set -C; : >"$MARKER" ) 2>/dev/null; then
  # First attempt of step 2: hang until the worker running us is killed,
  # then stop without a word (an orphan must not report anything).
  i=0
  while [ \$i -lt 400 ]; do
    [ "\$(cut -d' ' -f4 /proc/\$\$/stat)" = "\$reaper" ] || exit 1
    sleep 0.05
    i=\$((i + 1))
  done
  echo "step 2 was never interrupted" >&2
  exit 1
fi
if [ "\$CONVEYOR_TASK_ID" = 3 ]; then
  # Outlive the lease: nothing ever writes to this FIFO, so the read
  # blocks until timeout ends it.
  mkfifo "$T/never-written" 2>/dev/null || true
  timeout 4.5 cat "$T/never-written" >/dev/null || true
fi
echo "\$CONVEYOR_TASK_ID \$worker done" >>"$EFFECTS"
printf '{"done": "%s"}\n' "\$CONVEYOR_TASK_ID"
EOF
chmod +x "$T/worker/step.sh"

# The workers' own config: the command behind the slug.
cat >"$T/worker/worker.json" <<'EOF'
{ "jobs": { "tasks": [ { "slug": "step", "run": ["./step.sh"], "timeout": 30000 } ] },
  "node": { "heartbeatMs": 100 } }
EOF

# The serve node only declares the slug as remote. One retry is allowed, so
# a lost attempt that wrongly consumed it shows up as totalTried 2.
cat >"$T/serve.json" <<'EOF'
{
  "jobs": {
    "tasks": [ { "slug": "step", "remote": true, "retries": 1 } ],
    "workflows": [
      { "slug": "three", "queue": "remote",
        "steps": [
          { "id": "1", "task": "step", "input": { "n": "${input.n}" } },
          { "id": "2", "task": "step", "input": { "after": "${steps.1.output.done}" } },
          { "id": "3", "task": "step", "input": { "after": "${steps.2.output.done}" } }
        ] }
    ],
    "queues": { "remote": { "concurrency": 4 } },
    "deleteJobOnComplete": false
  },
  "node": { "leaseMs": 3000 }
}
EOF

start_serve "$T/serve.json" "$T/data"
start_worker remote "$T/worker/worker.json"
W1=$WORKER_PID
start_worker remote "$T/worker/worker.json"
W2=$WORKER_PID

# A client waiting for the job, in the background.
"$CONVEYOR_BIN" queue --workflow three --input '{"n": 1}' --wait \
  --connect "$SERVE_ADDR" --data "$SERVE_DATA" >"$T/wait.out" 2>"$T/wait.err" &
WAITER=$!
STARTED_PIDS+=("$WAITER")

wait_line "$EFFECTS" '^2 [0-9]+ start$' 20
VICTIM=$(grep -m1 -E '^2 [0-9]+ start$' "$EFFECTS" | cut -d' ' -f2)
if [[ "$VICTIM" == "$W1" ]]; then
  SURVIVOR=$W2
elif [[ "$VICTIM" == "$W2" ]]; then
  SURVIVOR=$W1
else
  fail "step 2 runs in process $VICTIM, which is neither worker ($W1, $W2)"
fi
assert_eq 1 "$(count_lines "$EFFECTS" '^2 [0-9]+ start$')" "step 2 starts before the kill"
log "kill -9 worker $VICTIM (running step 2)"
KILLED_AT=$EPOCHREALTIME
kill9 "$VICTIM"
# The serve node notices the death through monitoring and hands the step
# over at once (documented: well within 1 s; allowed here: 5 s).
wait_line "$EFFECTS" "^2 $SURVIVOR start\$" 5
log "step 2 restarted on worker $SURVIVOR within $(python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$KILLED_AT" "$EPOCHREALTIME") s after the kill (upper bound)"

wait_pid "$WAITER" 30
OUT=$(cat "$T/wait.out")
ERR=$(cat "$T/wait.err")
assert_rc 0 "queue --wait of the workflow whose worker was killed"
JOB=$(json_get "$OUT" 'd["id"]')
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "final status from queue --wait"

must cv get "$JOB"
DOC=$OUT
assert_eq completed "$(json_get "$DOC" 'd["status"]')" "status of the job"
assert_eq false "$(json_get "$DOC" 'd["hasError"]')" "hasError of the job"
assert_eq 1 "$(json_get "$DOC" 'd["totalTried"]')" "totalTried (the lost attempt must not count)"
assert_eq '{"done":"3"}' "$(json_get "$DOC" 'd["taskStatus"]["step"]["3"]["output"]')" "output of step 3"
for id in 1 2 3; do
  assert_eq true "$(json_get "$DOC" 'd["taskStatus"]["step"]["'$id'"]["complete"]')" "step $id complete"
done
assert_eq 0 "$(json_get "$DOC" 'sum(1 for e in d["log"] if e["state"] == "failed")')" "failed attempts in the job log"

stays_false 1 "a step ran again or reported late after the job completed" \
  _effects_changed "$(wc -l <"$EFFECTS")"
assert_eq 1 "$(count_lines "$EFFECTS" '^1 [0-9]+ start$')" "step 1 starts"
assert_eq 1 "$(count_lines "$EFFECTS" '^1 [0-9]+ done$')" "step 1 finishes"
assert_eq 2 "$(count_lines "$EFFECTS" '^2 [0-9]+ start$')" "step 2 starts"
assert_eq 1 "$(count_lines "$EFFECTS" '^2 [0-9]+ done$')" "step 2 finishes"
assert_eq 1 "$(count_lines "$EFFECTS" "^2 $SURVIVOR done\$")" "step 2 finished on the surviving worker"
assert_eq 0 "$(count_lines "$EFFECTS" "^(2 $VICTIM done|3 $VICTIM )")" "step 2 done / step 3 lines from the killed worker"
assert_eq "2 $VICTIM start" "$(grep -E '^2 ' "$EFFECTS" | head -n1)" "first line of step 2"
assert_eq 1 "$(count_lines "$EFFECTS" '^3 [0-9]+ start$')" "step 3 starts"
assert_eq 1 "$(count_lines "$EFFECTS" '^3 [0-9]+ done$')" "step 3 finishes"
assert_eq 7 "$(wc -l <"$EFFECTS")" "lines in the effects file"
assert_eq 1 "$(count_lines "$SERVE_LOG" "\"id\":\"$JOB\"")" "terminal events of the job on serve's stdout"
grep -q "\"id\":\"$JOB\".*\"status\":\"completed\"" "$SERVE_LOG" || fail "serve did not report the job completed"

kill -0 "$SURVIVOR" 2>/dev/null || fail "the surviving worker died"
stop_serve
log "ok"
