#!/usr/bin/env bash
# End to end: live inspection of a running job (docs/live.md) on a real
# `conveyor serve`: a command task reports progress on fd 3 and writes
# stderr; `conveyor get` shows both while it runs, `conveyor get --follow`
# prints each change as it happens and then the final document, whose log
# keeps the stderr tail.
#
#   bash tests/e2e/live_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

write_gated_task stages
cat >"$T/conveyor.json" <<EOF
{
  "jobs": {
    "tasks": [ { "slug": "stages", "run": ["./stages.sh"], "timeout": 130000 } ],
    "deleteJobOnComplete": false
  }
}
EOF
open_gate() { echo go >"$T/gate"; }

start_serve "$T/conveyor.json" "$T/data"

log "get shows a running job's step, progress and stderr"
must cv queue --task stages
id=$(json_get "$OUT" 'd["id"]')
_progress_is() {
  local out
  out=$(cv get "$id" 2>/dev/null) || return 1
  [[ "$(json_get "$out" 'str(d.get("live", {}).get("progress", {}) and d["live"]["progress"]["fraction"])')" == "$1" ]]
}
wait_until 30 "job $id to report 0.25" _progress_is 0.25
must cv get "$id"
assert_eq running "$(json_get "$OUT" 'd["status"]')" "status"
assert_eq "first quarter" "$(json_get "$OUT" 'd["live"]["steps"][0]["message"]')" "message"
assert_eq "starting the slow part" "$(json_get "$OUT" 'd["live"]["steps"][0]["stderrTail"]')" "tail"
assert_eq 1 "$(json_get "$OUT" 'd["live"]["currentStep"]["taskID"]')" "current step"

log "get --follow prints each change, then the final document"
CLI_TIMEOUT=120 cv get --follow "$id" >"$T/follow.out" 2>"$T/follow.err" &
follower=$!
wait_line "$T/follow.err" "step 1 stages: 25% first quarter" 30
wait_line "$T/follow.err" "\| starting the slow part" 30
open_gate
wait_line "$T/follow.err" "step 1 stages: 75% nearly there" 30
wait_line "$T/follow.err" "\| slow part done" 30
open_gate
rc=0
wait "$follower" || rc=$?
assert_eq 0 "$rc" "get --follow exit code (stderr: $(cat "$T/follow.err"))"
final=$(cat "$T/follow.out")
assert_eq completed "$(json_get "$final" 'd["status"]')" "final status"
assert_eq "starting the slow part
slow part done" "$(json_get "$final" 'd["log"][0]["stderrTail"]')" "tail kept in the log"
assert_not_contains "$final" '"live"' "no live record once finished"
assert_eq 1 "$(count_lines "$T/follow.err" 'step 1 stages: 75%')" "each change printed once"
assert_contains "$(cat "$T/follow.err")" "job $id: completed" "the end is printed"

log "get --follow of a finished job returns at once; of none, exit 4"
must cv get --follow "$id"
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "finished job"
capture cv get --follow 999999
assert_eq 4 "$RC" "unknown job"
capture cv get --follow nope
assert_eq 2 "$RC" "bad id"

stop_serve
log "ok"
