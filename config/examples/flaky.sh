#!/bin/sh
# Fails its first attempt on purpose and succeeds on the next, to show
# retries: {} -> {"attempt": 2}. Conveyor sets CONVEYOR_ATTEMPT (1-based).
cat >/dev/null
attempt=${CONVEYOR_ATTEMPT:-1}
if [ "$attempt" -lt 2 ]; then
  echo "flaky: failing attempt $attempt on purpose; it will be retried" >&2
  exit 1
fi
printf '{"attempt": %d}\n' "$attempt"
