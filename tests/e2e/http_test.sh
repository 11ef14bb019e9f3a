#!/usr/bin/env bash
# End to end: the HTTP door of a real `conveyor serve` (docs/http.md), as an
# operator and a cron service use it: probes, bearer tokens from the config
# and their access rules, a job queued and watched over HTTP, Payload's run
# endpoint, metrics, and a few hostile requests.
#
#   bash tests/e2e/http_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${1:-}"

write_echo_task
ADMIN=admin-token-0123456789abcdef
CRON=cron-token-0123456789abcdef
cat >"$T/conveyor.json" <<EOF
{
  "jobs": {
    "tasks": [ { "slug": "echo", "run": ["./echo.sh"], "timeout": 10000 } ],
    "deleteJobOnComplete": false,
    "access": {
      "tokens": {
        "$ADMIN": { "principal": "ada", "roles": ["admin"] },
        "$CRON": { "principal": "cron", "roles": ["cron"] }
      },
      "queue": [ { "roles": ["admin"] } ],
      "cancel": [ { "roles": ["admin"] } ],
      "run": [ { "roles": ["admin", "cron"] } ]
    }
  }
}
EOF

# http METHOD PATH [BODY] [TOKEN] -> "STATUS BODY" on one line
http() {
  python3 - "$SERVE_HTTP" "$@" <<'PY'
import http.client, sys
addr, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
body = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
token = sys.argv[5] if len(sys.argv) > 5 else ""
host, port = addr.rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port), timeout=30)
headers = {"Content-Type": "application/json"} if body is not None else {}
if token:
    headers["Authorization"] = "Bearer " + token
c.request(method, path, body=body, headers=headers)
r = c.getresponse()
print(r.status, r.read().decode("utf-8", "replace").replace("\n", " "))
PY
}
status_of() { echo "${1%% *}"; }
body_of() { echo "${1#* }"; }

start_serve "$T/conveyor.json" "$T/data"
[[ "$SERVE_HTTP" == 127.0.0.1:* ]] || fail "no HTTP address in the listening line"

log "probes need no token"
assert_eq 200 "$(status_of "$(http GET /v1/health)")" "health"
assert_eq 200 "$(status_of "$(http GET /v1/ready)")" "ready"

log "tokens and rules of the config apply"
assert_eq 401 "$(status_of "$(http GET /v1/jobs)")" "no token"
assert_eq 401 "$(status_of "$(http GET /v1/jobs "" nope-nope-nope-nope-nope)")" "unknown token"
r=$(http POST /v1/jobs '{"task":"echo"}' "$CRON")
assert_eq 403 "$(status_of "$r")" "cron may not queue"

log "a job queued over HTTP runs and is read back"
r=$(http POST /v1/jobs '{"task":"echo","input":{"n":7}}' "$ADMIN")
assert_eq 201 "$(status_of "$r")" "queue"
id=$(json_get "$(body_of "$r")" 'd["id"]')
_http_done() {
  [[ "$(json_get "$(body_of "$(http GET "/v1/jobs/$id" "" "$ADMIN")")" 'd["status"]')" == completed ]]
}
wait_until 30 "job $id to complete" _http_done
r=$(http GET "/v1/jobs/$id" "" "$ADMIN")
assert_eq 7 "$(json_get "$(body_of "$r")" 'd["log"][0]["output"]["echo"]["n"]')" "output"
# The CLI, with the same token, sees the same job.
echo "$ADMIN" >"$T/admin.tok"
out=$(conveyor get "$id" --connect "$SERVE_ADDR" --token-file "$T/admin.tok")
assert_eq completed "$(json_get "$out" 'd["status"]')" "status through the CLI"

log "bad input is a problem and writes nothing"
before=$(json_get "$(body_of "$(http GET "/v1/jobs?limit=1000" "" "$ADMIN")")" 'len(d["docs"])')
for bad in '{"task":"nope"}' '{"task":"echo","extra":1}' '{"task":' '[]' \
           "$(python3 -c 'print("["*5000)')"; do
  r=$(http POST /v1/jobs "$bad" "$ADMIN")
  assert_eq 400 "$(status_of "$r")" "bad body ${bad:0:20}"
done
after=$(json_get "$(body_of "$(http GET "/v1/jobs?limit=1000" "" "$ADMIN")")" 'len(d["docs"])')
assert_eq "$before" "$after" "jobs after bad requests"

log "Payload's run endpoint, called by the cron principal"
http POST /v1/queues/default/pause "" "$ADMIN" >/dev/null
r=$(http POST /v1/jobs '{"task":"echo","input":{"n":1}}' "$ADMIN")
assert_eq 201 "$(status_of "$r")" "queue while paused"
r=$(http GET "/api/payload-jobs/run?limit=5" "" "$CRON")
assert_eq 200 "$(status_of "$r")" "payload run"
assert_eq Success "$(json_get "$(body_of "$r")" 'd["message"]')" "payload run message"
assert_eq 401 "$(status_of "$(http GET /api/payload-jobs/run)")" "payload run without token"
r=$(http GET /v1/queues "" "$ADMIN")
assert_eq true "$(json_get "$(body_of "$r")" '[q for q in d if q["name"]=="default"][0]["paused"]')" "paused queue"
http POST /v1/queues/default/resume "" "$ADMIN" >/dev/null

log "metrics count what happened"
m=$(http GET /metrics "" "$ADMIN")
assert_contains "$m" 'conveyor_http_requests_total{code="201",route="/v1/jobs"} 2' "created count"
assert_contains "$m" 'conveyor_jobs_finished_total{queue="default",status="completed"}' "finished counter"

log "a flood of half-open connections does not stop the door"
python3 - "$SERVE_HTTP" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
socks = []
for _ in range(50):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # never finished
    socks.append(s)
PY
assert_eq 200 "$(status_of "$(http GET /v1/health)")" "health after the flood"

stop_serve
log "ok"
