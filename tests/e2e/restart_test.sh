#!/usr/bin/env bash
# End to end: the serve node is killed (kill -9) while a workflow is in its
# second step and other jobs are still queued or waiting; a new serve node
# on the same data dir finishes everything. No job is lost, nothing that
# completed (and was journaled) runs again, and the interrupted workflow
# consumed no retry (totalTried == 1).
#
#   bash tests/e2e/restart_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

EFFECTS="$T/effects"
MARKER="$T/step2-first-attempt"

# Every run appends "<jobID> <taskID> <node pid> start|done". The first
# attempt of step 2 of a workflow hangs until its node dies, then stops
# without reporting anything.
cat >"$T/step.sh" <<EOF
#!/bin/sh
cat >/dev/null
: >"$T/task-pids/\$\$"
reaper=\$PPID # our parent is the reaper; its parent is the node
node=\$(cut -d' ' -f4 /proc/\$PPID/stat)
echo "\$CONVEYOR_JOB_ID \$CONVEYOR_TASK_ID \$node start" >>"$EFFECTS"
if [ "\$1" = workflow ] && [ "\$CONVEYOR_TASK_ID" = 2 ] && ( set -C; : >"$MARKER" ) 2>/dev/null; then
  i=0
  while [ \$i -lt 400 ]; do
    [ "\$(cut -d' ' -f4 /proc/\$\$/stat)" = "\$reaper" ] || exit 1
    sleep 0.05
    i=\$((i + 1))
  done
  echo "step 2 was never interrupted" >&2
  exit 1
fi
echo "\$CONVEYOR_JOB_ID \$CONVEYOR_TASK_ID \$node done" >>"$EFFECTS"
printf '{"done": "%s"}\n' "\$CONVEYOR_TASK_ID"
EOF
chmod +x "$T/step.sh"

# "serial" has concurrency 1, so a job queued there behind the workflow is
# still plainly queued when the node dies. One retry is allowed everywhere:
# an interruption that wrongly consumed it shows up as totalTried 2.
cat >"$T/conveyor.json" <<'EOF'
{
  "jobs": {
    "tasks": [
      { "slug": "quick", "run": ["./step.sh", "quick"], "retries": 1, "timeout": 30000 },
      { "slug": "wfstep", "run": ["./step.sh", "workflow"], "retries": 1, "timeout": 30000 }
    ],
    "workflows": [
      { "slug": "three", "queue": "serial", "retries": 1,
        "steps": [
          { "id": "1", "task": "wfstep", "input": { "n": "${input.n}" } },
          { "id": "2", "task": "wfstep", "input": { "after": "${steps.1.output.done}" } },
          { "id": "3", "task": "wfstep", "input": { "after": "${steps.2.output.done}" } }
        ] }
    ],
    "queues": { "default": { "concurrency": 4 }, "serial": { "concurrency": 1 } },
    "deleteJobOnComplete": false
  },
  "node": { "durability": "sync" }
}
EOF

DATA="$T/data"
start_serve "$T/conveyor.json" "$DATA"
NODE1=$SERVE_PID
LOG1=$SERVE_LOG

# A job that completes before the crash: it must not run again.
must cv queue --task quick --input '{"k": "before"}' --wait
J_BEFORE=$(json_get "$OUT" 'd["id"]')
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "job completed before the crash"

# The workflow; wait until its step 2 hangs.
must cv queue --workflow three --input '{"n": 1}'
J_WF=$(json_get "$OUT" 'd["id"]')
wait_line "$EFFECTS" "^$J_WF 2 $NODE1 start\$" 20

# Jobs still queued / waiting at the crash.
must cv queue --task quick --queue serial --input '{"k": "behind"}'
J_BEHIND=$(json_get "$OUT" 'd["id"]')
assert_eq running "$(job_status "$J_WF")" "workflow at the crash"
assert_eq queued "$(job_status "$J_BEHIND")" "job behind the workflow at the crash"
# The document of a running job shows the steps that completed so far (the
# success of step 1 is journaled: step 2 only starts after that).
must cv get "$J_WF"
check_eq true "$(json_get "$OUT" 'd.get("taskStatus", {}).get("wfstep", {}).get("1", {}).get("complete", False)')" \
  "get of the running workflow shows its completed step 1 in taskStatus"
check_eq 1 "$(json_get "$OUT" 'sum(1 for e in d.get("log", []) if e.get("taskID") == "1" and e.get("state") == "succeeded")')" \
  "get of the running workflow shows the success of step 1 in its log"

# Queued last, just before the kill, so that only two CLI calls lie between
# now and the crash: due well after it even on a loaded machine, soon enough
# not to slow the test.
DUE=$(iso_in 12)
must cv queue --task quick --input '{"k": "later-1"}' --wait-until "$DUE"
J_LATER1=$(json_get "$OUT" 'd["id"]')
assert_eq waiting "$(json_get "$OUT" 'd["status"]')" "job with waitUntil, as queued"
must cv queue --task quick --input '{"k": "later-2"}' --wait-until "$DUE" --priority 5
J_LATER2=$(json_get "$OUT" 'd["id"]')
assert_eq waiting "$(json_get "$OUT" 'd["status"]')" "job with waitUntil, as queued"
ALL=("$J_BEFORE" "$J_WF" "$J_BEHIND" "$J_LATER1" "$J_LATER2")

log "kill -9 serve $NODE1"
kill9 "$NODE1"

start_serve "$T/conveyor.json" "$DATA"
NODE2=$SERVE_PID
for id in "${ALL[@]}"; do
  wait_status "$id" completed 20
done

# Nothing lost, nothing duplicated.
must cv list --limit 1000
assert_eq "$(printf '%s\n' "${ALL[@]}" | sort -n | paste -sd,)" \
  "$(json_get "$OUT" '",".join(sorted((x["id"] for x in d), key=int))')" "jobs on the restarted node"
assert_eq completed "$(json_get "$OUT" '",".join(sorted(set(x["status"] for x in d)))')" "statuses on the restarted node"

must cv get "$J_WF"
DOC=$OUT
assert_eq 1 "$(json_get "$DOC" 'd["totalTried"]')" "totalTried of the interrupted workflow"
assert_eq false "$(json_get "$DOC" 'd["hasError"]')" "hasError of the interrupted workflow"
assert_eq 1 "$(json_get "$DOC" 'd.get("interruptions", 0)')" "interruptions of the workflow running at kill -9"
for id in 1 2 3; do
  assert_eq true "$(json_get "$DOC" 'd["taskStatus"]["wfstep"]["'$id'"]["complete"]')" "step $id complete"
done
assert_eq '{"done":"3"}' "$(json_get "$DOC" 'd["taskStatus"]["wfstep"]["3"]["output"]')" "output of step 3"
for id in "$J_BEFORE" "$J_BEHIND" "$J_LATER1" "$J_LATER2"; do
  must cv get "$id"
  assert_eq 1 "$(json_get "$OUT" 'd["totalTried"]')" "totalTried of job $id"
done
must cv get "$J_LATER2"
assert_eq 5 "$(json_get "$OUT" 'd["priority"]')" "priority survives the restart"
assert_eq '{"k":"later-2"}' "$(json_get "$OUT" 'd["input"]')" "input survives the restart"

stays_false 0.5 "a step ran again after the job completed" \
  _effects_changed "$(wc -l <"$EFFECTS")"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 1 [0-9]+ start\$")" "step 1 starts"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 1 $NODE1 done\$")" "step 1 finishes (on the first node)"
assert_eq 2 "$(count_lines "$EFFECTS" "^$J_WF 2 [0-9]+ start\$")" "step 2 starts"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 2 $NODE2 start\$")" "step 2 restarts on the new node"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 2 [0-9]+ done\$")" "step 2 finishes"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 3 $NODE2 start\$")" "step 3 starts (on the new node)"
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_WF 3 [0-9]+ done\$")" "step 3 finishes"
assert_eq 0 "$(count_lines "$EFFECTS" "^$J_WF 2 $NODE1 done\$")" "the interrupted step 2 reported done"
for id in "$J_BEFORE" "$J_BEHIND" "$J_LATER1" "$J_LATER2"; do
  assert_eq 1 "$(count_lines "$EFFECTS" "^$id 1 [0-9]+ start\$")" "runs of job $id"
  assert_eq 1 "$(count_lines "$EFFECTS" "^$id 1 [0-9]+ done\$")" "completed runs of job $id"
done
assert_eq 1 "$(count_lines "$EFFECTS" "^$J_BEFORE 1 $NODE1 done\$")" "job completed before the crash ran on the first node"
assert_eq 15 "$(wc -l <"$EFFECTS")" "lines in the effects file"

# The restarted node reports the jobs it finished, each once; not the one
# finished before the crash.
assert_eq 0 "$(count_lines "$SERVE_LOG" "\"id\":\"$J_BEFORE\"")" "events of the job finished before the crash on the new node"
for id in "$J_WF" "$J_BEHIND" "$J_LATER1" "$J_LATER2"; do
  assert_eq 1 "$(count_lines "$SERVE_LOG" "\"id\":\"$id\".*\"status\":\"completed\"")" "completed events of job $id on the new node"
done
assert_eq 0 "$(count_lines "$LOG1" "\"id\":\"$J_WF\"")" "terminal events of the workflow on the killed node"

stop_serve
log "ok"
