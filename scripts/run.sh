#!/usr/bin/env bash
# The main job: installs dependencies, builds, and runs `conveyor serve` with
# the shipped configuration (config/conveyor.json, ./conveyor-data, listening
# on 127.0.0.1:4242 only, HTTP on 127.0.0.1:4280). Once the node listens, a few example jobs are
# queued through the CLI and their results printed, so the node does real
# work at once; it then keeps running its queues until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build

build/conveyor serve &
serve=$!
trap 'kill -TERM $serve 2>/dev/null || true; wait $serve || true' INT TERM EXIT

# Wait until the node answers (it writes its admin token first).
for _ in $(seq 100); do
  build/conveyor list --limit 1 >/dev/null 2>&1 && break
  kill -0 $serve 2>/dev/null || exit 1
  sleep 0.1
done

show() { python3 -c 'import json,sys; d=json.load(sys.stdin); \
print(json.dumps({k: d.get(k) for k in ("id","taskSlug","workflowSlug","status","totalTried")} \
| {"outputs": {s: {i: v.get("output") for i, v in ids.items()} for s, ids in d.get("taskStatus", {}).items()}}))'; }
echo "== example jobs =="
build/conveyor queue --workflow text-report \
  --input '{"name":"Ada","text":"actors send messages and messages carry the work"}' --wait | show
build/conveyor queue --task checksum --input '{"text":"conveyor"}' --wait | show
build/conveyor queue --task flaky --input '{}' --wait | show
echo "== node running on 127.0.0.1:4242 (Ctrl-C stops it); try: build/conveyor list =="
echo "== HTTP API on http://127.0.0.1:4280 (docs/http.md), token: $(cat conveyor-data/admin.token 2>/dev/null || echo 'see jobs.access.tokens') =="
echo "   curl -H \"Authorization: Bearer \$(cat conveyor-data/admin.token)\" http://127.0.0.1:4280/v1/queues"
echo "   dashboard: open http://127.0.0.1:4280/ in a browser and enter the token"
wait $serve
