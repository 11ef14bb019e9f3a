#!/usr/bin/env bash
# End to end: a serve node whose data directory fills up. On an 8 MiB tmpfs
# (skipped, exit 77, where mounting is not permitted): writes fail with
# `no_space` (exit 1) while reads keep working, the node stays up (RocksDB's
# own LOG writer used to abort it about 15 s later), it accepts writes again
# once space is freed, a stop and a restart on a full disk exit cleanly with
# a clear message, and every acknowledged job is still there.
#
#   bash tests/e2e/disk_full_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

DISK="$T/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=8m tmpfs "$DISK" 2>"$T/mount.err"; then
  echo "SKIP [$TEST_NAME]: cannot mount a tmpfs ($(cat "$T/mount.err")); needs root" >&2
  exit 77
fi
_unmount() { umount -l "$DISK" 2>/dev/null || true; }
CLEANUP_HOOKS+=(_unmount)

printf '%s\n' '#!/bin/sh' 'input=$(cat)' 'printf "{\"echo\": %s}\n" "$input"' >"$T/echo.sh"
chmod +x "$T/echo.sh"
printf '%s\n' '{ "jobs": {' \
  '    "tasks": [ { "slug": "echo", "run": ["./echo.sh"], "timeout": 10000 } ],' \
  '    "queues": { "default": { "concurrency": 2 } }, "deleteJobOnComplete": false },' \
  '  "node": { "listen": "127.0.0.1:4242", "durability": "sync" } }' >"$T/conveyor.json"

# Fills the tmpfs (and only it: the path is checked to be under $T).
fill() { # [NAME]
  [[ "$DISK" == "$T"/* ]] || fail "refusing to fill $DISK"
  dd if=/dev/zero of="$DISK/${1:-filler}" bs=64k count=200 2>/dev/null || true
}
PAD=$(head -c 2000 /dev/zero | tr '\0' x)
ACKED=()

DATA="$DISK/data"
start_serve "$T/conveyor.json" "$DATA"
for n in 1 2 3; do
  must cv queue --task echo --input "{\"n\": $n}"
  ACKED+=("$(json_get "$OUT" 'd["id"]')")
done
wait_status "${ACKED[2]}" completed

log "fill the disk"
fill
for n in 1 2 3 4 5; do
  capture cv queue --task echo --input "{\"n\": 10$n, \"pad\": \"$PAD\"}"
  assert_rc 1 "queue on a full disk"
  assert_contains "$ERR" "no_space" "error code of a write on a full disk"
  assert_contains "$ERR" "no space left" "error message of a write on a full disk"
done
must cv get "${ACKED[0]}"
assert_eq completed "$(json_get "$OUT" 'd["status"]')" "get on a full disk"
must cv list
assert_eq 3 "$(json_get "$OUT" 'len(d)')" "list on a full disk"

# The abort came about 15 s after the first refused write: stay full longer,
# writing back to back (each refused write may try to resume) until then.
log "stay full for 20 s"
tries=0
end=$((SECONDS + 20))
while ((SECONDS < end)); do
  capture cv queue --task echo --input '{"n": 200}'
  assert_rc 1 "queue while still full"
  kill -0 "$SERVE_PID" 2>/dev/null || fail "serve died on a full disk"
  tries=$((tries + 1))
done
log "$tries writes refused while full"

log "free the disk: writes resume"
rm -f "$DISK/filler"
_queued() {
  capture cv queue --task echo --input '{"n": 300}'
  [[ "$RC" == 0 ]]
}
wait_until 10 "a write after space was freed" _queued
J=$(json_get "$OUT" 'd["id"]')
ACKED+=("$J")
wait_status "$J" completed
must cv queue --task echo --input '{"n": 301}' --wait
ACKED+=("$(json_get "$OUT" 'd["id"]')")

log "stop on a full disk"
fill
capture cv queue --task echo --input '{"n": 400}'
assert_rc 1 "queue on a full disk again"
stop_serve
assert_not_contains "$(cat "${SERVE_LOG%.out}.err")" "Assertion" "serve's stderr"

log "restart on a full disk"
fill filler2 # what the stop freed
# Depending on what is left (the log's preallocated space), RocksDB opens
# and the node serves reads and refuses writes, or the open fails: then
# serve must exit with a clear message, not abort.
"$CONVEYOR_BIN" serve --config "$T/conveyor.json" --data "$DATA" --listen 127.0.0.1:0 --http off \
  >"$T/full-restart.out" 2>"$T/full-restart.err" &
FULL_PID=$!
STARTED_PIDS+=("$FULL_PID")
_listening_or_gone() {
  grep -q '"event":"listening"' "$T/full-restart.out" || ! kill -0 "$FULL_PID" 2>/dev/null
}
wait_until 15 "serve on a full disk to listen or exit" _listening_or_gone
if grep -q '"event":"listening"' "$T/full-restart.out"; then
  log "serve started read-only on the full disk"
  SERVE_PID=$FULL_PID
  SERVE_LOG="$T/full-restart.out"
  SERVE_ADDR=$(json_get "$(grep -m1 listening "$SERVE_LOG")" 'd["address"]')
  capture cv queue --task echo --input '{"n": 600}'
  assert_rc 1 "queue on a node restarted on a full disk"
  assert_contains "$ERR" "no_space" "error code of a write after a restart on a full disk"
  must cv get "${ACKED[0]}"
  stop_serve
else
  wait_pid "$FULL_PID" 5
  log "serve refused to start on the full disk (exit $RC)"
  ERR=$(cat "$T/full-restart.err")
  assert_ne 0 "$RC" "exit code of serve started on a full disk"
  assert_ne 134 "$RC" "serve on a full disk must not abort"
  assert_contains "$ERR" "no space" "message of serve started on a full disk"
fi
assert_not_contains "$(cat "$T/full-restart.err")" "Assertion" "serve's stderr on a full disk"

log "restart with space: every acknowledged job is there"
rm -f "$DISK/filler" "$DISK/filler2"
start_serve "$T/conveyor.json" "$DATA"
for id in "${ACKED[@]}"; do
  must cv get "$id"
  assert_eq completed "$(json_get "$OUT" 'd["status"]')" "acknowledged job $id after the restart"
done
must cv queue --task echo --input '{"n": 500}' --wait
stop_serve
log "ok"
