#!/usr/bin/env bash
# A real `conveyor serve` under hostile connections (raw sockets, python3):
#   - 100 connections each announcing a 1 GiB BASP frame, plus 100 that
#     announce a token and then say nothing: the node's RSS grows by less
#     than 64 MiB, and every one of them is closed;
#   - a silent connection is closed after node.handshakeTimeoutMs;
#   - a client without a token, or with a wrong one, gets `forbidden`
#     (exit 3) and nothing else;
#   - afterwards the node serves its token holders as before.
# Prints one "measured:" line (the README quotes it).
#
#   bash tests/security/hostile_node_test.sh build/conveyor
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh" "${1:-}"

cat >"$T/echo.sh" <<'SH'
#!/bin/sh
input=$(cat)
printf '{"echo": %s}\n' "$input"
SH
chmod +x "$T/echo.sh"
cat >"$T/conveyor.json" <<JSON
{
  "node": {"handshakeTimeoutMs": 1000},
  "jobs": {"tasks": [{"slug": "echo", "run": ["$T/echo.sh"]}]}
}
JSON

start_serve "$T/conveyor.json" "$T/data"
PORT=${SERVE_ADDR##*:}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$SERVE_PID/status"; }

log "tokenless and wrong-token clients get forbidden"
capture conveyor list --connect "$SERVE_ADDR" --data "$T/nowhere"
assert_rc 3 "list without a token"
assert_contains "$ERR" "forbidden" "list without a token"
assert_eq "" "$OUT" "nothing printed on stdout without a token"
capture env CONVEYOR_TOKEN=wrong "$CONVEYOR_BIN" list --connect "$SERVE_ADDR" --data "$T/nowhere"
assert_rc 3 "list with a wrong token"

log "hostile connections"
before=$(rss_kib)
result=$(python3 - "$PORT" "$SERVE_PID" <<'PY'
import socket, struct, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])

def basp_header(op, length):
    return struct.pack(">BBBBIQQQ", op, 0, 0, 0, length, 0, 0, 0)

socks = []
for i in range(100):  # a BASP client handshake announcing 1 GiB, no token
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(basp_header(1, 1 << 30) + b"\0" * 4096)
    socks.append(s)
for i in range(100):  # a preamble announcing a 1 KiB token, then silence
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"CVY1" + struct.pack(">H", 1024) + b"x" * 100)
    socks.append(s)
# Wait (deadline 5 s) until the node has read what each socket sent:
# the kernel's unacknowledged send queue (SIOCOUTQ) is empty.
import fcntl, termios
deadline = time.time() + 5
while time.time() < deadline:
    if all(struct.unpack("i", fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0] == 0
           for s in socks if s.fileno() >= 0):
        break
peak = rss()
# Every one of them must be closed by the node (at the latest after the
# handshake timeout of 1 s).
closed = 0
deadline = time.time() + 10
for s in socks:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        while s.recv(4096):
            pass
        closed += 1
    except (socket.timeout, ConnectionResetError):
        if not isinstance(sys.exc_info()[1], socket.timeout):
            closed += 1
    s.close()
# A silent connection: time until the node closes it.
s = socket.create_connection(("127.0.0.1", port))
t0 = time.time()
s.settimeout(10)
try:
    s.recv(1)
except Exception:
    pass
silent = time.time() - t0
print(peak, closed, f"{silent:.2f}")
PY
)
read -r peak closed silent <<<"$result"
growth_mib=$(( (peak - before) / 1024 ))
log "RSS before ${before} KiB, with 200 hostile connections ${peak} KiB; closed ${closed}/200; silent closed after ${silent} s"
echo "measured: rss_before_kib=$before rss_hostile_kib=$peak growth_mib=$growth_mib closed=$closed/200 silent_close_s=$silent"
((growth_mib < 64)) || fail "RSS grew by ${growth_mib} MiB under hostile connections"
assert_eq 200 "$closed" "hostile connections closed by the node"
python3 -c "import sys; t=float(sys.argv[1]); sys.exit(0 if 0.8 <= t <= 5 else 1)" "$silent" ||
  fail "a silent connection was closed after ${silent} s, expected about 1 s"

log "the node still serves its token holders"
must cv queue --task echo --input '{"n": 5}' --wait
assert_contains "$OUT" '"status": "completed"' "a job after the hostile connections"
stop_serve
