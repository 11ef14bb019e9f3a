#!/usr/bin/env bash
# End to end: every client subcommand of `conveyor` against a serve node,
# with the JSON it prints and its exit codes; serve's own refusals (non-
# loopback without TLS, invalid config); handle-schedules against a node
# running the shipped config.
#
#   bash tests/e2e/cli_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

# ------------------------------------------------------------------ fixtures

# echo: {"n": 1} -> {"echo": {"n": 1}}
write_echo_task
# fail: always fails with "boom" on stderr
cat >"$T/fail.sh" <<'EOF'
#!/bin/sh
cat >/dev/null
echo boom >&2
exit 3
EOF
# block: runs until $GATE exists (at most 300 s), so a concurrency-1 queue can
# be held busy; it exits early if its node vanished.
cat >"$T/block.sh" <<EOF
#!/bin/sh
cat >/dev/null
: >"$T/task-pids/\$\$"
reaper=\$PPID # our parent is the reaper; its parent is the node
parent=\$(cut -d' ' -f4 /proc/\$PPID/stat)
i=0
while [ ! -e "$T/gate" ] && [ \$i -lt 3000 ]; do
  [ "\$(cut -d' ' -f4 /proc/\$\$/stat)" = "\$reaper" ] || exit 1
  sleep 0.1
  i=\$((i + 1))
done
echo '{"released": true}'
EOF
chmod +x "$T"/*.sh

cat >"$T/conveyor.json" <<EOF
{
  "jobs": {
    "tasks": [
      { "slug": "echo", "run": ["./echo.sh"], "timeout": 10000,
        "inputSchema": { "type": "object",
                         "properties": { "n": { "type": "integer" },
                                         "tag": { "type": "string" } },
                         "additionalProperties": false } },
      { "slug": "fail", "run": ["./fail.sh"], "timeout": 10000 },
      { "slug": "block", "run": ["./block.sh"], "timeout": 320000 }
    ],
    "workflows": [
      { "slug": "pair",
        "inputSchema": { "type": "object", "required": ["n"],
                         "properties": { "n": { "type": "integer" } } },
        "steps": [
          { "id": "a", "task": "echo", "input": { "n": "\${input.n}" } },
          { "id": "b", "task": "echo", "input": { "n": "\${steps.a.output.echo.n}",
                                                  "tag": "after-a" } }
        ] }
    ],
    "queues": { "default": { "concurrency": 4 }, "held": { "concurrency": 1 } },
    "deleteJobOnComplete": false
  },
  "node": { "listen": "127.0.0.1:4242", "durability": "sync" },
  "limits": { "maxQueues": 3 }
}
EOF

DATA="$T/data"
start_serve "$T/conveyor.json" "$DATA"

# ------------------------------------------------------------- admin token
assert_eq 600 "$(stat -c %a "$DATA/admin.token")" "mode of DATA/admin.token"
TOKEN=$(cat "$DATA/admin.token")
TOKEN_FILE="$DATA/admin.token"
# serve runs with umask 077: the data directory and everything in it are
# for the node's user only.
assert_eq 700 "$(stat -c %a "$DATA")" "mode of the data directory"
for f in "$DATA"/*; do
  assert_eq 600 "$(stat -c %a "$f")" "mode of $(basename "$f")"
done
ls "$DATA"/*.log >/dev/null 2>&1 || fail "no journal log file in $DATA"
((${#TOKEN} >= 16)) || fail "admin token too short: '$TOKEN'"

# ------------------------------------------------------------ queue and get
log "queue / get"
must cv queue --task echo --input '{"n": 1}' --log "first job" --priority 7
J1=$(json_get "$OUT" 'd["id"]')
assert_eq echo "$(json_get "$OUT" 'd["taskSlug"]')" "taskSlug of a queued job"
assert_eq queued "$(json_get "$OUT" 'd["status"]')" "status of a freshly queued job"
assert_eq default "$(json_get "$OUT" 'd["queue"]')" "queue of a job queued without --queue"
assert_eq '{"n":1}' "$(json_get "$OUT" 'd["input"]')" "input of the queued job"
assert_eq 0 "$(json_get "$OUT" 'd["totalTried"]')" "totalTried of a queued job"
assert_eq 7 "$(json_get "$OUT" 'd["priority"]')" "priority from --priority"
assert_eq "first job" "$(json_get "$OUT" 'd["meta"]["log"][0]["message"]')" "--log note in meta.log"
wait_status "$J1" completed
must cv get "$J1"
assert_eq "$J1" "$(json_get "$OUT" 'd["id"]')" "id of get"
assert_eq false "$(json_get "$OUT" 'd["hasError"]')" "hasError of a completed job"
assert_eq 1 "$(json_get "$OUT" 'd["totalTried"]')" "totalTried of a completed job"
assert_eq 1 "$(json_get "$OUT" 'd["taskStatus"]["echo"]["1"]["output"]["echo"]["n"]')" \
  "output of the echo task in taskStatus"
assert_eq succeeded "$(json_get "$OUT" 'd["log"][0]["state"]')" "log entry state"
assert_eq true "$(json_get "$OUT" '"completedAt" in d')" "completedAt set"
grep -q "\"id\":\"$J1\".*\"status\":\"completed\"" "$SERVE_LOG" ||
  fail "serve printed no completed event for job $J1"

# ------------------------------------------------------------------ --wait
log "queue --wait"
capture cv queue --task echo --input '{"n": 2}' --wait
assert_rc 0 "queue --wait of a succeeding job"
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "status from queue --wait"
assert_eq 2 "$(json_get "$OUT" 'd["taskStatus"]["echo"]["1"]["output"]["echo"]["n"]')" \
  "output from queue --wait"

capture cv queue --task fail --wait
assert_rc 1 "queue --wait of a failing job"
assert_eq failed "$(json_get "$OUT" 'd["status"]')" "status of the failed job"
assert_eq true "$(json_get "$OUT" 'd["hasError"]')" "hasError of the failed job"
assert_contains "$(json_get "$OUT" 'd["error"]["message"]')" boom "error message (stderr of the task)"
JFAIL=$(json_get "$OUT" 'd["id"]')

capture cv queue --workflow pair --input '{"n": 5}' --wait
assert_rc 0 "queue --workflow --wait"
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "status of the workflow job"
assert_eq pair "$(json_get "$OUT" 'd["workflowSlug"]')" "workflowSlug"
assert_eq '{"echo":{"n":5,"tag":"after-a"}}' \
  "$(json_get "$OUT" 'd["taskStatus"]["echo"]["b"]["output"]')" "step b got step a's output"

# input from a file
echo '{"n": 3}' >"$T/input.json"
capture cv queue --task echo --input "@$T/input.json" --wait
assert_rc 0 "queue --input @file"
assert_eq 3 "$(json_get "$OUT" 'd["input"]["n"]')" "input read from @file"

# ------------------------------------------------------------ idempotency
log "idempotency key"
must cv queue --task echo --input '{"n": 40}' --idempotency-key key-1
K1=$(json_get "$OUT" 'd["id"]')
must cv queue --task echo --input '{"n": 40}' --idempotency-key key-1
assert_eq "$K1" "$(json_get "$OUT" 'd["id"]')" "same idempotency key, same job"
must cv queue --task echo --input '{"n": 41}' --idempotency-key key-1
assert_eq "$K1" "$(json_get "$OUT" 'd["id"]')" "same idempotency key, other input, same job"
must cv queue --task echo --input '{"n": 40}' --idempotency-key key-2
assert_ne "$K1" "$(json_get "$OUT" 'd["id"]')" "another idempotency key gets another job"
wait_status "$K1" completed
must cv list --where '{"input.n": {"equals": 41}}'
assert_eq 0 "$(json_get "$OUT" 'len(d)')" "no job was created for the duplicate key"

# ----------------------------------------- a held-back queue: run, run-by-id
# "held" has concurrency 1: while a block job runs, everything else queued
# there stays queued until run / run-by-id runs it explicitly.
log "held queue: list, run-by-id, run, cancel"
must cv queue --task block --queue held
JB=$(json_get "$OUT" 'd["id"]')
wait_status "$JB" running
must cv queue --task echo --queue held --input '{"n": 100}'
JA=$(json_get "$OUT" 'd["id"]')
must cv queue --task echo --queue held --input '{"n": 101}'
JC=$(json_get "$OUT" 'd["id"]')
must cv queue --task echo --queue held --input '{"n": 102}'
JD=$(json_get "$OUT" 'd["id"]')
FUTURE=$(iso_in 3600)
must cv queue --task echo --queue held --input '{"n": 103}' --wait-until "$FUTURE"
JF=$(json_get "$OUT" 'd["id"]')
assert_eq waiting "$(json_get "$OUT" 'd["status"]')" "status of a job with waitUntil in the future"
assert_eq "$FUTURE" "$(json_get "$OUT" 'd["waitUntil"]')" "waitUntil of the job"
_any_held_job_left_queued() {
  local id
  for id in "$JA" "$JC" "$JD"; do
    [[ "$(job_status "$id")" == queued ]] || return 0
  done
  return 1
}
stays_false 0.5 "a job behind the busy concurrency-1 queue left 'queued'" \
  _any_held_job_left_queued

must cv list --queue held --status queued
assert_eq "[\"$JA\",\"$JC\",\"$JD\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "list --queue held --status queued"
must cv list --queue held --status running
assert_eq "[\"$JB\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "list --status running"
must cv list --status waiting
assert_eq "[\"$JF\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "list --status waiting"
must cv list --status failed
assert_eq "[\"$JFAIL\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "list --status failed"
must cv list --where '{"input.n": {"equals": 101}}'
assert_eq "[\"$JC\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "list --where input.n equals"
must cv list --queue held --where '{"input.n": {"greater_than": 100}}' --status queued
assert_eq "[\"$JC\",\"$JD\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "list --where combined with --status"
must cv list --queue held --limit 2
assert_eq 2 "$(json_get "$OUT" 'len(d)')" "list --limit 2"
must cv list --queue nosuchqueue
assert_eq "[]" "$OUT" "list of an unknown queue"

# run-by-id of a job that is not due yet must not run it early.
must cv run-by-id "$JF"
assert_eq false "$(json_get "$OUT" '"'"$JF"'" in d.get("jobStatus", {})')" "run-by-id result of a job not due"
assert_eq waiting "$(job_status "$JF")" "job with future waitUntil after run-by-id"
must cv get "$JF"
assert_eq 0 "$(json_get "$OUT" 'd["totalTried"]')" "totalTried after run-by-id of a job not due"

# run-by-id of a due job runs it now, concurrency notwithstanding.
must cv run-by-id "$JA"
assert_eq success "$(json_get "$OUT" 'd["jobStatus"]["'"$JA"'"]["status"]')" "run-by-id result"
assert_eq '["'"$JA"'"]' "$(json_get "$OUT" 'list(d["jobStatus"])')" "run-by-id ran only that job"
assert_eq completed "$(job_status "$JA")" "job after run-by-id"

# run --limit 1 runs the oldest due job of the queue, only that one.
must cv run --queue held --limit 1
assert_eq '["'"$JC"'"]' "$(json_get "$OUT" 'sorted(d["jobStatus"])')" "run --queue held --limit 1 ran the oldest due job"
assert_eq 0 "$(json_get "$OUT" 'd["remainingJobsFromQueried"]')" "remainingJobsFromQueried"
assert_eq completed "$(job_status "$JC")" "job after run"
assert_eq queued "$(job_status "$JD")" "job beyond --limit"
assert_eq waiting "$(job_status "$JF")" "job not due after run"

# run --where selects.
must cv run --queue held --where '{"input.n": {"equals": 999}}'
assert_eq false "$(json_get "$OUT" 'bool(d.get("jobStatus"))')" "run --where matching nothing"
assert_eq queued "$(job_status "$JD")" "job not matched by run --where"

# cancel ID
must cv cancel "$JD"
assert_eq "$JD" "$(json_get "$OUT" 'd["id"]')" "id of cancel"
assert_eq cancelled "$(json_get "$OUT" 'd["status"]')" "status after cancel"
assert_eq cancelled "$(job_status "$JD")" "get after cancel"
must cv cancel "$JD"
assert_eq cancelled "$(json_get "$OUT" 'd["status"]')" "cancelling a cancelled job again"
must cv cancel "$J1"
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "cancel of a completed job leaves it completed"

# cancel --where
must cv queue --task echo --queue held --input '{"n": 200, "tag": "sweep"}' --wait-until "$FUTURE"
JW1=$(json_get "$OUT" 'd["id"]')
must cv queue --task echo --queue held --input '{"n": 201, "tag": "sweep"}' --wait-until "$FUTURE"
JW2=$(json_get "$OUT" 'd["id"]')
must cv queue --task echo --input '{"n": 202, "tag": "sweep"}' --wait-until "$FUTURE"
JW3=$(json_get "$OUT" 'd["id"]') # default queue: outside the --queue held scope
must cv cancel --where '{"input.tag": {"equals": "sweep"}}' --queue held
assert_eq "[\"$JW1\",\"$JW2\"]" "$(json_get "$OUT" 'sorted(d["cancelled"], key=int)')" "cancel --where --queue held"
assert_eq cancelled "$(job_status "$JW1")" "job cancelled by --where"
assert_eq waiting "$(job_status "$JW3")" "job of another queue untouched by cancel --where --queue"
must cv cancel --where '{"input.tag": {"equals": "sweep"}}'
assert_eq "[\"$JW3\"]" "$(json_get "$OUT" 'd["cancelled"]')" "cancel --where over all queues"
assert_eq waiting "$(job_status "$JF")" "job not matched by cancel --where"

# Release the block job; everything settles.
touch "$T/gate"
wait_status "$JB" completed
must cv list --queue held --status completed
assert_eq "$(printf '%s\n' "$JA" "$JB" "$JC" | sort -n | paste -sd,)" "$(json_get "$OUT" '",".join(x["id"] for x in d)')" "completed jobs of queue held"
must cv run --all-queues
assert_eq true "$(json_get "$OUT" 'd.get("noJobsRemaining") == True and not d.get("jobStatus")')" "run --all-queues with nothing due"
must cv cancel "$JF"

# ------------------------------------------------------- help and version
log "help and version"
for asked in "--help" "-h" "help"; do
  capture conveyor $asked
  assert_rc 0 "conveyor $asked"
  assert_contains "$OUT" "conveyor queue (--task|--workflow) SLUG" "usage of conveyor $asked"
  assert_contains "$OUT" "7 overloaded" "exit codes in conveyor $asked"
done
for command in serve queue run handle-schedules run-by-id get list cancel pause resume worker config; do
  capture conveyor "$command" --help
  assert_rc 0 "conveyor $command --help"
  assert_contains "$OUT" "usage: conveyor $command" "synopsis of conveyor $command --help"
  assert_contains "$OUT" "examples:" "examples in conveyor $command --help"
done
# Help comes first: even a command line that would be refused gets it.
capture conveyor queue --task echo --priority high -h
assert_rc 0 "conveyor queue ... -h"
capture conveyor help cancel
assert_rc 0 "conveyor help cancel"
assert_contains "$OUT" "conveyor cancel --where JSON" "conveyor help cancel"
capture conveyor help no-such-command
assert_rc 2 "help of an unknown command"
# Hostile arguments: huge (100 kB, under the kernel's 128 kB per argument)
# and not UTF-8. Refused with a short message.
HUGE=$(head -c 100000 /dev/zero | tr '\0' x)
for asked in "help $HUGE" "$HUGE --help" "$HUGE"; do
  # shellcheck disable=SC2086
  capture conveyor $asked
  assert_rc 2 "a 100 kB command name"
  [[ ${#ERR} -lt 4000 ]] || fail "a 100 kB command name echoed ${#ERR} bytes"
done
capture conveyor help $'\xff\xfe'
assert_rc 2 "help of a command name that is not UTF-8"
capture conveyor --version
assert_rc 0 "conveyor --version"
[[ "$OUT" =~ ^conveyor\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "conveyor --version printed '$OUT'"
capture conveyor
assert_rc 2 "conveyor without a command"

# --------------------------------------------------------------- exit codes
NOBODY_EARLY="127.0.0.1:$(free_port)"
log "exit codes: usage (2)"
capture conveyor bogus-command
assert_rc 2 "unknown command"
capture cv queue --input '{}'
assert_rc 2 "queue without --task/--workflow"
capture cv queue --task echo --workflow pair
assert_rc 2 "queue with both --task and --workflow"
capture cv queue --task echo --no-such-option
assert_rc 2 "unknown option"
assert_contains "$ERR" "unknown option --no-such-option" "usage message"
capture cv get not-a-number
assert_rc 2 "get with a non-numeric id"
capture cv get
assert_rc 2 "get without an id"
capture cv run --queue held --all-queues
assert_rc 2 "run with --queue and --all-queues"
capture cv queue --task echo --priority high
assert_rc 2 "--priority not an integer"
# Numbers and ids parse whole and in range, before any connection.
for bad in "queue --task echo --priority 5x" "queue --task echo --priority 99999999999" \
           "run --limit 0" "run --limit -5" "run --limit 5x" "list --limit 0" \
           "list --limit 123456789012345678901234567890" "get -1" "get 0" "get 12x" \
           "get 123456789012345678901234567890" "cancel -1" "run-by-id +5" \
           "list --timeout 0" "list --timeout soon"; do
  # shellcheck disable=SC2086
  capture conveyor $bad --connect "$NOBODY_EARLY" --token-file "$TOKEN_FILE"
  assert_rc 2 "conveyor $bad"
  assert_contains "$ERR" "conveyor: " "message of conveyor $bad"
done
capture conveyor get 1x --connect "$NOBODY_EARLY"
assert_contains "$ERR" "'1x' is not a job id" "message of a bad job id"
capture conveyor run --limit -5 --connect "$NOBODY_EARLY"
assert_contains "$ERR" "--limit must be between 1 and" "message of an out-of-range --limit"
must cv list --limit 1 --timeout 5
capture conveyor queue --connect "$SERVE_ADDR" --data "$SERVE_DATA" --task
assert_rc 2 "--task without a value"
capture cv queue --task echo stray-argument
assert_rc 2 "queue with a stray positional argument"
capture cv cancel 1 2
assert_rc 2 "cancel with two ids"
# A bad command line is a usage error whether or not a node is reachable.
NOBODY="127.0.0.1:$(free_port)"
capture conveyor get 1 2 --connect "$NOBODY" --token-file "$TOKEN_FILE"
assert_rc 2 "get with two ids, no node at the address"
capture conveyor queue --task echo stray-argument --connect "$NOBODY" --token-file "$TOKEN_FILE"
check_rc 2 "queue with a stray positional argument, no node at the address"
capture conveyor cancel 1 2 --connect "$NOBODY" --token-file "$TOKEN_FILE"
check_rc 2 "cancel with two ids, no node at the address"

log "exit codes: forbidden (3)"
echo not-the-admin-token-at-all >"$T/wrong.token"
capture conveyor list --connect "$SERVE_ADDR" --token-file "$T/wrong.token"
assert_rc 3 "unknown token in --token-file"
capture env CONVEYOR_TOKEN=also-not-the-admin-token "$CONVEYOR_BIN" get "$J1" --connect "$SERVE_ADDR"
assert_rc 3 "unknown CONVEYOR_TOKEN"
mkdir -p "$T/empty-data"
capture conveyor queue --task echo --connect "$SERVE_ADDR" --data "$T/empty-data"
assert_rc 3 "no token at all"
capture conveyor queue --task echo --input '{"n":1}' --connect "$SERVE_ADDR" --token-file "$TOKEN_FILE"
assert_rc 0 "the admin token given with --token-file"
capture env CONVEYOR_TOKEN="$TOKEN" "$CONVEYOR_BIN" list --connect "$SERVE_ADDR" --data "$T/empty-data"
assert_rc 0 "the admin token given in CONVEYOR_TOKEN"
# A token on the command line is visible to everyone in `ps`: refused.
capture conveyor list --connect "$SERVE_ADDR" --token "$TOKEN"
assert_rc 2 "--token on the command line"
assert_contains "$ERR" "--token-file" "message of a refused --token"
assert_contains "$ERR" "ps" "message of a refused --token"
capture conveyor list --connect "$SERVE_ADDR" --token-file "$T/no-such.token"
assert_rc 2 "--token-file of a missing file"

log "exit codes: not found (4)"
capture cv get 987654321
assert_rc 4 "get of an unknown id"
capture cv cancel 987654321
assert_rc 4 "cancel of an unknown id"
capture cv run-by-id 987654321
assert_rc 4 "run-by-id of an unknown id"

log "exit codes: invalid input (5)"
capture cv queue --task echo --input '{"n": '
assert_rc 5 "malformed --input JSON"
capture cv queue --task no-such-task
assert_rc 5 "unknown task slug"
capture cv queue --workflow no-such-workflow --input '{}'
assert_rc 5 "unknown workflow slug"
capture cv queue --task echo --input '{"n": "not a number"}'
assert_rc 5 "input not matching the task's inputSchema"
capture cv queue --task echo --input '{"unexpected": 1}'
assert_rc 5 "input with a property the schema forbids"
capture cv queue --workflow pair --input '{}'
assert_rc 5 "input not matching the workflow's inputSchema"
capture cv queue --task echo --input "@$T/no-such-file.json"
assert_rc 5 "--input @missing-file"
capture cv queue --task echo --input '{}' --wait-until yesterday
assert_rc 5 "--wait-until not ISO 8601"
capture cv queue --task echo --input '{}' --wait-until '9999-12-31T23:59-23:59'
assert_rc 5 "--wait-until beyond year 9999"
capture cv queue --task echo --input '{}' --wait-until '+999999-12-31T23:59-23:59'
assert_rc 5 "--wait-until beyond what the date format writes back"
capture cv queue --task echo --input "{\"deep\": $(python3 -c 'print("["*100 + "]"*100)')}"
assert_rc 5 "input nested deeper than 64"
capture cv list --where "$(python3 -c 'print("{\"or\": [" * 20 + "{}" + "]}" * 20)')"
assert_rc 5 "list --where nested deeper than the filter limit"
capture cv cancel --where '{"status": {"no_such_operator": 1}}'
assert_rc 5 "cancel --where with an unknown operator"
capture cv run --where '{"status": {"no_such_operator": 1}}'
assert_rc 5 "run --where with an unknown operator"
capture cv list --where '{"status": '
assert_rc 5 "list --where malformed JSON"
must cv list --status failed
assert_eq "[\"$JFAIL\"]" "$(json_get "$OUT" '[x["id"] for x in d]')" "no job was created by the invalid requests"
# Last: the request that the node mishandles (see the report) is bounded by
# CLI_TIMEOUT; the correct answer is exit code 5 at once.
CLI_TIMEOUT=5 capture cv list --where '{"status": {"no_such_operator": 1}}' --timeout 2
check_rc 5 "list --where with an unknown operator"
if [[ "$RC" == 6 ]]; then # the node never answered: the timeout says so
  assert_contains "$ERR" "no answer from the node" "message of an expired --timeout"
fi

log "exit codes: overloaded (7)"
# default and held are known; limits.maxQueues 3 leaves room for one more.
must cv queue --task echo --input '{"n": 70}' --queue third
capture cv queue --task echo --input '{"n": 71}' --queue fourth
assert_rc 7 "queue naming a queue beyond limits.maxQueues"
assert_contains "$ERR" "limits.maxQueues 3" "overloaded message"
must cv list --queue fourth
assert_eq "[]" "$OUT" "a refused job is not written"

log "global options before the command, CONVEYOR_CONNECT"
capture conveyor --connect "$SERVE_ADDR" --data "$SERVE_DATA" list --limit 1
assert_rc 0 "options before the command"
capture conveyor --connect="$SERVE_ADDR" --timeout 5 get 999999 --data "$SERVE_DATA"
assert_rc 4 "options on both sides of the command"
capture env CONVEYOR_CONNECT="$SERVE_ADDR" "$CONVEYOR_BIN" list --limit 1 --data "$SERVE_DATA"
assert_rc 0 "CONVEYOR_CONNECT"
capture conveyor --token abcdefabcdefabcdef list
assert_rc 2 "--token before the command is refused too"

log "exit codes: unreachable (6)"
capture conveyor list --connect "127.0.0.1:$(free_port)" --token-file "$TOKEN_FILE"
assert_rc 6 "nothing listening on the port"

# ------------------------------------------------------- serve's refusals
log "serve refuses a non-loopback --listen without TLS"
# 192.0.2.1 (TEST-NET-1) is never local: even a wrong bind attempt would fail.
capture conveyor serve --config "$T/conveyor.json" --data "$T/data-tls" --listen 192.0.2.1:0 --http off
assert_ne 0 "$RC" "exit code of serve on a non-loopback address without TLS"
assert_ne 124 "$RC" "serve on a non-loopback address without TLS must not start"
assert_contains "$ERR" "TLS" "refusal message"

log "serve refuses an invalid config"
cat >"$T/bad.json" <<EOF
{
  "jobs": {
    "tasks": [ { "slug": "t", "run": ["./echo.sh"],
                 "retries": { "attempts": 1, "backoff": { "type": "linear" } } } ],
    "workflows": [ { "slug": "w", "steps": [ { "id": "1", "task": "upload" } ] } ],
    "deleteJobOnCompletion": true
  },
  "node": { "durability": "fast" }
}
EOF
capture conveyor serve --config "$T/bad.json" --data "$T/data-bad" --listen 127.0.0.1:0 --http off
assert_rc 5 "serve with an invalid config"
assert_contains "$ERR" 'jobs.tasks[0].retries.backoff.type' "JSON path of the bad backoff type"
assert_contains "$ERR" 'jobs.workflows[0].steps[0].task' "JSON path of the unknown step task"
assert_contains "$ERR" "unknown task 'upload'" "unknown step task message"
assert_contains "$ERR" 'jobs.deleteJobOnCompletion' "JSON path of the misspelt key"
assert_contains "$ERR" 'node.durability' "JSON path of the bad durability"
[[ ! -e "$T/data-bad" ]] || fail "serve created its data dir despite the invalid config"

# ---------------------------------------------------------- clean shutdown
stop_serve
grep -q '"event":"stopping"' "$SERVE_LOG" || fail "serve printed no stopping line"

# ------------------------------------------------ schedules (shipped config)
# The shipped config schedules `hello` every minute on queue "default", and
# its autoRun entry (every second, all queues) handles schedules too: by the
# time the CLI asks, hello may already be scheduled. Either way there must be
# exactly one pending scheduled hello job, and a manual pass skips it.
log "handle-schedules against the shipped config"
SHIPPED_CONFIG="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../config" && pwd)/conveyor.json"
# Stay clear of a minute boundary, where the scheduled job becomes due, runs
# and is deleted, and the next one is queued.
_clear_of_a_minute_boundary() { (($((10#$(date -u +%S))) < 45)); }
wait_until 20 "a time clear of a minute boundary" _clear_of_a_minute_boundary
start_serve "$SHIPPED_CONFIG" "$T/data-shipped"

capture cv handle-schedules --queue default --all-queues
assert_rc 2 "handle-schedules with --queue and --all-queues"
assert_contains "$ERR" "not both" "usage message of --queue with --all-queues"
capture conveyor handle-schedules --all-queues --queue default --connect "$NOBODY" --token-file "$TOKEN_FILE"
assert_rc 2 "handle-schedules with --queue and --all-queues, no node at the address"
capture cv handle-schedules stray-argument
assert_rc 2 "handle-schedules with a stray positional argument"
capture cv run --handle-schedules --queue default --all-queues
assert_rc 2 "run --handle-schedules with --queue and --all-queues"
capture cv handle-schedules --queue 'not a queue!'
assert_rc 5 "handle-schedules of an invalid queue name"

must cv handle-schedules
HS1=$OUT
assert_eq '["errored","queued","skipped"]' "$(json_get "$HS1" 'sorted(d)')" "keys of a handle-schedules result"
assert_eq '[]' "$(json_get "$HS1" 'd["errored"]')" "nothing errored"
# hello is queued by this call, or was already by an autoRun tick (skipped).
assert_eq 1 "$(json_get "$HS1" 'len([e for e in d["queued"] + d["skipped"] if e.get("task") == "hello"])')" \
  "hello appears once in the first handle-schedules"
assert_eq '[]' "$(json_get "$HS1" '[e for e in d["queued"] + d["skipped"] if e.get("task") != "hello"]')" \
  "only hello is scheduled on queue default"
HELLO_ENTRY=$(json_get "$HS1" '(d["queued"] + d["skipped"])[0]')
assert_eq default "$(json_get "$HELLO_ENTRY" 'd["queue"]')" "queue of the hello entry"
assert_eq "* * * * *" "$(json_get "$HELLO_ENTRY" 'd["cron"]')" "cron of the hello entry"
assert_eq true "$(json_get "$HELLO_ENTRY" 'd["waitUntil"].endswith(":00.000Z")')" \
  "waitUntil of the hello entry is a minute tick ($(json_get "$HELLO_ENTRY" 'd["waitUntil"]'))"
if [[ "$(json_get "$HS1" 'len(d["queued"])')" == 1 ]]; then
  log "hello queued by the CLI"
  HELLO_JOB=$(json_get "$HELLO_ENTRY" 'd["job"]')
else
  log "hello was already queued by autoRun"
fi

PENDING_HELLO='{"taskSlug": {"equals": "hello"}, "meta.scheduled": {"equals": true},
  "status": {"not_in": ["completed", "failed", "cancelled"]}}'
# The time is taken before the listing: on a slow machine a minute tick
# may pass between the two, and a job the listing shows waiting was due
# no earlier than the listing.
NOW_ISO=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
must cv list --where "$PENDING_HELLO"
assert_eq 1 "$(json_get "$OUT" 'len(d)')" "pending scheduled hello jobs"
SCHEDULED=$(json_get "$OUT" 'd[0]')
assert_eq default "$(json_get "$SCHEDULED" 'd["queue"]')" "queue of the scheduled hello job"
assert_eq waiting "$(json_get "$SCHEDULED" 'd["status"]')" "status of the scheduled hello job"
assert_eq true "$(json_get "$SCHEDULED" 'd["waitUntil"] >= "'"$NOW_ISO"'"')" \
  "waitUntil of the scheduled hello job is not in the past"
if [[ -n "${HELLO_JOB:-}" ]]; then
  assert_eq "$HELLO_JOB" "$(json_get "$SCHEDULED" 'd["id"]')" "the pending job is the one handle-schedules queued"
  assert_eq "$(json_get "$HELLO_ENTRY" 'd["waitUntil"]')" "$(json_get "$SCHEDULED" 'd["waitUntil"]')" \
    "waitUntil of the queued job and of its entry"
fi

# One pending scheduled job per queue and slug: a second pass skips hello.
must cv handle-schedules
assert_eq '[]' "$(json_get "$OUT" 'd["queued"]')" "second handle-schedules queues nothing"
assert_eq '["hello"]' "$(json_get "$OUT" '[e["task"] for e in d["skipped"]]')" "second handle-schedules skips hello"
must cv handle-schedules --queue default
assert_eq '["hello"]' "$(json_get "$OUT" '[e["task"] for e in d["skipped"]]')" "handle-schedules --queue default skips hello"
must cv handle-schedules --all-queues
assert_eq '[]' "$(json_get "$OUT" 'd["queued"]')" "handle-schedules --all-queues queues nothing more"
assert_eq '["hello"]' "$(json_get "$OUT" '[e["task"] for e in d["skipped"]]')" "handle-schedules --all-queues skips hello"
must cv handle-schedules --queue nosuchqueue-but-valid
assert_eq '{"errored":[],"queued":[],"skipped":[]}' "$(json_get "$OUT" 'd')" \
  "handle-schedules of a queue without schedules"
must cv list --where "$PENDING_HELLO"
assert_eq 1 "$(json_get "$OUT" 'len(d)')" "pending scheduled hello jobs after more passes"

# run --handle-schedules: both results, under "schedules" and "run".
must cv run --handle-schedules --limit 1
assert_eq '["run","schedules"]' "$(json_get "$OUT" 'sorted(d)')" "keys of run --handle-schedules"
assert_eq '["hello"]' "$(json_get "$OUT" '[e["task"] for e in d["schedules"]["skipped"]]')" \
  "run --handle-schedules skips the pending hello"
assert_eq false "$(json_get "$OUT" '"'"$(json_get "$SCHEDULED" 'd["id"]')"'" in d["run"].get("jobStatus", {})')" \
  "run --handle-schedules does not run the scheduled job before its time"
must cv run --limit 1
assert_eq true "$(json_get "$OUT" 'set(d) <= {"jobStatus", "noJobsRemaining", "remainingJobsFromQueried"}')" \
  "plain run output is unchanged ($OUT)"

# Idle autoRun ticks stay quiet; none of them reported a failure.
if grep -q '^{"event":"scheduler".*\(failed\|threw\|not saved\)' "$SERVE_LOG"; then
  fail "the scheduler reported a failure: $(grep '"event":"scheduler"' "$SERVE_LOG" | head -3)"
fi
stop_serve

# ---------------------------------------------------- config check, no config
log "config check: valid, invalid (with paths), missing"
capture conveyor config check "$SHIPPED_CONFIG"
assert_rc 0 "config check of the shipped config"
assert_eq true "$(json_get "$OUT" 'd["valid"]')" "valid"
assert_ne 0 "$(json_get "$OUT" 'd["tasks"]')" "the shipped config has tasks"
echo '{"jobs": {"tasks": [{"slug": "", "run": 7}]}, "node": {"workers": "many"}}' >"$T/bad.json"
capture conveyor config check "$T/bad.json"
assert_rc 5 "config check of an invalid config"
assert_contains "$ERR" "jobs.tasks[0]" "the problem's path"
assert_contains "$ERR" "node.workers" "every problem is listed"
capture conveyor config check "$T/nope.json"
assert_rc 5 "config check of a missing file"
capture conveyor config
assert_rc 2 "config without a subcommand"
log "config defaults and init"
capture conveyor config defaults
assert_rc 0 "config defaults"
assert_eq 127.0.0.1:4242 "$(json_get "$OUT" 'd["node"]["listen"]')" "default listen address"
echo "$OUT" >"$T/defaults.json"
capture conveyor config check "$T/defaults.json"
assert_rc 0 "the defaults document is a valid config"
mkdir -p "$T/init"
(cd "$T/init" && conveyor config init) >/dev/null || fail "config init"
capture conveyor config check "$T/init/conveyor.json"
assert_rc 0 "the config init wrote is valid"
assert_eq 1 "$(json_get "$OUT" 'd["tasks"]')" "with its example task"
echo '{"mine": true}' >"$T/mine.json"
capture conveyor config init "$T/mine.json"
assert_rc 1 "config init never overwrites"
assert_eq '{"mine": true}' "$(cat "$T/mine.json")" "the existing file is untouched"

log "a binary copied anywhere serves with built-in defaults"
mkdir -p "$T/elsewhere/bin" "$T/elsewhere/run"
cp "$CONVEYOR_BIN" "$T/elsewhere/bin/conveyor"
(cd "$T/elsewhere/run" && exec "$T/elsewhere/bin/conveyor" serve --listen 127.0.0.1:0 \
  --http off >"$T/elsewhere/serve.out" 2>"$T/elsewhere/serve.err") &
lonely=$!
STARTED_PIDS+=("$lonely")
wait_line "$T/elsewhere/serve.out" '"event":"listening"' 15
line=$(grep -m1 '"event":"listening"' "$T/elsewhere/serve.out")
assert_eq null "$(json_get "$line" 'd["config"]')" "no config file"
assert_contains "$(cat "$T/elsewhere/serve.err")" "built-in defaults" "said on start-up"
[[ -s "$T/elsewhere/run/conveyor-data/admin.token" ]] || fail "no data in ./conveyor-data"
lonely_addr=$(json_get "$line" 'd["address"]')
capture conveyor list --connect "$lonely_addr" --data "$T/elsewhere/run/conveyor-data"
assert_rc 0 "list on the node without config"
capture conveyor queue --task echo --connect "$lonely_addr" --data "$T/elsewhere/run/conveyor-data"
assert_rc 5 "no tasks: queueing one is invalid input"
kill -TERM "$lonely"
wait_until 10 "the node without config to stop" _gone "$lonely"
log "ok"
