#!/usr/bin/env bash
# Mutual TLS: a serve node with certificate, key and CA answers a client that
# presents a certificate signed by that CA, and refuses a plain client, a
# client without a certificate and a client whose certificate comes from
# another CA. Its HTTP door, off loopback, speaks only HTTPS with the same
# certificate; without TLS a door off loopback is refused. Certificates are
# generated here with the openssl tool.
set -euo pipefail
conveyor="$1"
dir=$(mktemp -d)
serve_pid=""
cleanup() {
  [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"

cd "$dir"
mkca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key.pem" -out "$1.pem" \
           -days 1 -subj "/CN=$1" 2>/dev/null; }
mkcert() { # name ca
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key.pem" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key.pem" -CAcreateserial \
    -out "$1.pem" -days 1 2>/dev/null
}
mkca ca; mkca other-ca
mkcert server ca; mkcert client ca; mkcert stranger other-ca
cat > hello.sh <<'SH'
#!/bin/sh
cat >/dev/null
echo '{"greeting":"hello over tls"}'
SH
chmod +x hello.sh
cat > tls.json <<'JSON'
{ "jobs": { "tasks": [ { "slug": "hello", "run": ["./hello.sh"] } ] },
  "node": { "listen": "127.0.0.1:0", "data": "./data", "http": "0.0.0.0:0",
            "tls": { "certificate": "server.pem", "key": "server.key.pem", "ca": "ca.pem" } } }
JSON
"$conveyor" serve --config tls.json > serve.log 2>&1 &
serve_pid=$!
_listening() { grep -q listening serve.log; }
poll_until 10 _listening || true # the check below says what went wrong
grep -q '"tls":true' serve.log || fail "serve did not start with TLS: $(cat serve.log)"
addr=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["address"])' serve.log)

client() { "$conveyor" "$@" --connect "$addr" --data ./data; }
out=$(client queue --task hello --wait --tls-certificate client.pem \
        --tls-key client.key.pem --tls-ca ca.pem) || fail "TLS client was refused"
echo "$out" | grep -q '"greeting": "hello over tls"' || fail "unexpected output: $out"

set +e
client list >/dev/null 2>&1; code=$?
[[ $code -eq 6 ]] || fail "plain client: expected exit 6, got $code"
client list --tls-certificate stranger.pem --tls-key stranger.key.pem \
  --tls-ca ca.pem >/dev/null 2>&1; code=$?
[[ $code -eq 6 ]] || fail "certificate from another CA: expected exit 6, got $code"
client list --tls-ca ca.pem >/dev/null 2>&1; code=$?
[[ $code -eq 2 ]] || fail "TLS without a certificate: expected usage error 2, got $code"
set -e
# The HTTP door: HTTPS only, verified against the CA; tokens as usual.
http_port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["http"].rsplit(":",1)[1])' serve.log)
grep -q '"httpTls":true' serve.log || fail "no httpTls in: $(head -1 serve.log)"
# https PATH [TOKEN] -> "STATUS BODY"; "refused: REASON" if TLS fails.
# The client trusts $TRUST (default ca.pem).
https() {
  python3 - "$http_port" "${TRUST:-ca.pem}" "$@" <<'PY'
import http.client, ssl, sys
port, trust, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
token = sys.argv[4] if len(sys.argv) > 4 else ""
ctx = ssl.create_default_context(cafile=trust)
ctx.check_hostname = False  # the test certificate names "server", not an IP
try:
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    c.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
    r = c.getresponse()
    print(r.status, r.read().decode())
except (ssl.SSLError, OSError) as e:
    print("refused:", type(e).__name__)
PY
}
out=$(https /v1/health)
[[ "$out" == 200* ]] || fail "HTTPS health: $out"
out=$(https /v1/jobs "$(cat data/admin.token)")
[[ "$out" == 200* ]] || fail "HTTPS with the admin token: $out"
out=$(https /v1/jobs)
[[ "$out" == 401* ]] || fail "HTTPS without a token: $out"
# Plain HTTP to the HTTPS door gets no answer.
plain=$(python3 - "$http_port" <<'PY'
import http.client, sys
try:
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    c.request("GET", "/v1/health")
    print(c.getresponse().status)
except Exception as e:
    print("refused:", type(e).__name__)
PY
)
[[ "$plain" == refused* ]] || fail "plain HTTP to the HTTPS door answered: $plain"
# A client that trusts another CA refuses the server.
out=$(TRUST=other-ca.pem https /v1/health)
[[ "$out" == refused* ]] || fail "a client trusting another CA got: $out"

# Without TLS, a door off loopback is refused at start.
cat > plain.json <<'JSON'
{ "jobs": { "tasks": [ { "slug": "hello", "run": ["./hello.sh"] } ] },
  "node": { "listen": "127.0.0.1:0", "data": "./plain-data", "http": "0.0.0.0:0" } }
JSON
set +e
"$conveyor" serve --config plain.json > plain.log 2>&1; code=$?
set -e
[[ $code -eq 2 ]] || fail "plain HTTP off loopback: expected exit 2, got $code: $(cat plain.log)"
grep -q "without TLS" plain.log || fail "no reason given: $(cat plain.log)"

# Partial TLS configuration is refused at start.
sed 's/"key": "server.key.pem", //' tls.json > partial.json
if "$conveyor" serve --config partial.json > partial.log 2>&1; then
  fail "serve started with TLS but no key"
fi
grep -qi "tls" partial.log || fail "no TLS message: $(cat partial.log)"
echo "tls: ok"
