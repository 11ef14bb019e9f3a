#!/usr/bin/env bash
# History checker (kill -9): a seeded random history of jobs — single
# tasks, sequential workflows and workflows with a parallel round — queued
# across several lives of a `conveyor serve` node, each ended by kill -9
# once a seeded number of steps have started. A last node finishes
# everything; then the whole history is checked:
#   - no acknowledged job is lost, and each is completed exactly once;
#   - no step succeeded twice (each step has at most one success in its log);
#   - no retry was consumed by a crash (every task succeeds on its first
#     try, so totalTried is 1 and nothing has an error);
#   - a step started at most once per node life plus once (only a task in
#     flight at a kill may run again).
#
#   bash tests/e2e/history_test.sh build/conveyor [SEED...]
# Seeds default to CONVEYOR_HISTORY_SEEDS, else "11". A failing seed is
# printed; run it again with that seed to replay the same history.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"
shift || true
SEEDS=("$@")
if ((${#SEEDS[@]} == 0)); then
  read -r -a SEEDS <<<"${CONVEYOR_HISTORY_SEEDS:-11}"
fi
LIVES=4          # node lives ended by kill -9
JOBS_PER_LIFE=5  # jobs queued in each life

EFFECTS="$T/effects"
# Every run appends "<jobID> <taskID> <node pid> start|done". A life's jobs
# start together (see below), so kills land inside steps as well as
# between them without the steps having to take long.
cat >"$T/step.sh" <<EOF
#!/bin/sh
cat >/dev/null
node=\$(cut -d' ' -f4 /proc/\$PPID/stat)
echo "\$CONVEYOR_JOB_ID \$CONVEYOR_TASK_ID \$node start" >>"$EFFECTS"
echo "\$CONVEYOR_JOB_ID \$CONVEYOR_TASK_ID \$node done" >>"$EFFECTS"
printf '{"v": "%s"}\n' "\$CONVEYOR_TASK_ID"
EOF
chmod +x "$T/step.sh"
cat >"$T/conveyor.json" <<'EOF'
{
  "jobs": {
    "tasks": [
      { "slug": "work", "run": ["./step.sh"], "retries": 2, "timeout": 30000 }
    ],
    "workflows": [
      { "slug": "chain", "retries": 2,
        "steps": [
          { "id": "a", "task": "work" },
          { "id": "b", "task": "work", "input": { "after": "${steps.a.output.v}" } },
          { "id": "c", "task": "work", "input": { "after": "${steps.b.output.v}" } }
        ] },
      { "slug": "fan", "retries": 2,
        "steps": [
          { "id": "p1", "task": "work" },
          { "id": "p2", "task": "work" },
          { "id": "p3", "task": "work" },
          { "id": "join", "task": "work",
            "input": { "all": ["${steps.p1.output.v}", "${steps.p2.output.v}",
                               "${steps.p3.output.v}"] } }
        ] }
    ],
    "queues": { "default": { "concurrency": 4 } },
    "deleteJobOnComplete": false,
    "maxInterruptions": 0
  },
  "node": { "durability": "sync", "stopGraceMs": 0 }
}
EOF

_lines_at_least() { [[ "$(count_lines "$EFFECTS" .)" -ge "$1" ]]; }

# _all_ended: no job of the node is queued, waiting or running any more.
_all_ended() {
  local out
  out=$(cv list --limit 1000 2>/dev/null) || return 1
  [[ "$(json_get "$out" 'sum(1 for x in d if x["status"] in ("queued", "waiting", "running"))')" == 0 ]]
}

run_history() {
  local seed=$1 data="$T/data-$1"
  RANDOM=$seed
  : >"$EFFECTS"
  local acked=() life kinds=(work chain fan) steps_total=0
  declare -A steps_of=([work]=1 [chain]=3 [fan]=4)
  for ((life = 1; life <= LIVES; life++)); do
    start_serve "$T/conveyor.json" "$data"
    # Queued while the queue is paused, the life's jobs start together on
    # resume, so the kill below lands in the middle of their steps however
    # slow the CLI calls are on a loaded machine.
    must cv pause default
    local i kind
    for ((i = 0; i < JOBS_PER_LIFE; i++)); do
      kind=${kinds[RANDOM % 3]}
      if [[ $kind == work ]]; then
        must cv queue --task work --input "{\"seed\": $seed}"
      else
        must cv queue --workflow "$kind" --input "{\"seed\": $seed}"
      fi
      acked+=("$(json_get "$OUT" 'd["id"]')")
      steps_total=$((steps_total + ${steps_of[$kind]}))
    done
    must cv resume default
    # Kill once a seeded number of further steps have started (or finished):
    # inside a step, between steps, or inside a parallel round. At most as
    # many lines as every queued step run once writes, so the kill comes
    # even if this life finishes all its work.
    local target=$(($(count_lines "$EFFECTS" .) + 2 + RANDOM % 10))
    ((target <= 2 * steps_total)) || target=$((2 * steps_total))
    wait_until 60 "$target effect lines (seed $seed, life $life)" _lines_at_least "$target"
    log "seed $seed: kill -9 serve $SERVE_PID in life $life at $(count_lines "$EFFECTS" .) effect lines"
    kill9 "$SERVE_PID"
  done
  start_serve "$T/conveyor.json" "$data"
  wait_until 120 "every job of seed $seed to end" _all_ended
  # One pass over every job's document (a listing holds whole documents)
  # and the effects file.
  must cv list --limit 1000
  printf '%s\n' "$OUT" >"$T/list-$seed.json"
  python3 - "$seed" "$T/list-$seed.json" "$EFFECTS" "$LIVES" "${acked[@]}" <<'PY' ||
import collections, json, sys
seed, list_path, effects_path, lives = sys.argv[1:5]
acked = sys.argv[5:]
problems = []
listed = json.load(open(list_path))
docs = [d for d in listed if d["id"] in acked]
ids = [d["id"] for d in listed]
for j in acked:
    if ids.count(j) != 1:
        problems.append(f"job {j}: listed {ids.count(j)} times (lost or duplicated)")
for d in docs:
    if d["status"] != "completed":
        problems.append(f"job {d['id']}: {d['status']}")
    if d.get("totalTried") != 1 or d.get("hasError"):
        problems.append(f"job {d['id']}: totalTried {d.get('totalTried')}, hasError {d.get('hasError')}")
    wins = collections.Counter(e["taskID"] for e in d.get("log", []) if e.get("state") == "succeeded")
    for step, n in wins.items():
        if n > 1:
            problems.append(f"job {d['id']}: step {step} succeeded {n} times")
starts = collections.Counter()
for line in open(effects_path):
    job, step, node, what = line.split()
    if what == "start":
        starts[(job, step)] += 1
for (job, step), n in starts.items():
    if n > int(lives) + 1:
        problems.append(f"job {job}: step {step} started {n} times in {lives} kills")
for p in problems:
    print(f"seed {seed}: {p}")
sys.exit(1 if problems else 0)
PY
    fail "history of seed $seed broke a guarantee (above); replay: $0 $CONVEYOR_BIN $seed"
  log "seed $seed: ${#acked[@]} jobs over $LIVES kills: none lost, no step succeeded twice, no retry burned"
  stop_serve
}

for seed in "${SEEDS[@]}"; do
  run_history "$seed"
done
log "ok"
