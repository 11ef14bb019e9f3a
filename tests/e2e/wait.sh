# Sourced by the shell tests (needs a `fail` function).
# Every wait of these tests goes through poll_until: a condition and a
# deadline, never a bare sleep. The deadlines bound a hang on a loaded
# machine; they are not timing assertions.

_now_us() { echo "${EPOCHREALTIME/./}"; }
_seconds_us() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }'; }

# poll_until SECONDS CMD...: runs CMD every 50 ms until it succeeds (status
# 0) or SECONDS (may be fractional) passed (status 1).
poll_until() {
  local deadline=$(($(_now_us) + $(_seconds_us "$1")))
  shift
  until "$@"; do
    (($(_now_us) < deadline)) || return 1
    sleep 0.05
  done
}

# wait_until SECONDS DESCRIPTION CMD...: like poll_until, but a timeout
# fails the test.
wait_until() {
  local limit=$1 what=$2
  shift 2
  poll_until "$limit" "$@" || fail "timed out after ${limit}s waiting for: $what"
}

# stays_false SECONDS DESCRIPTION CMD...: for claims that something does NOT
# happen, which no event can signal: fails the test as soon as CMD succeeds
# within SECONDS.
stays_false() {
  local limit=$1 what=$2
  shift 2
  if poll_until "$limit" "$@"; then
    fail "$what"
  fi
  return 0
}

# _gone PID: the process exited (or is a zombie waiting to be reaped).
_gone() {
  ! kill -0 "$1" 2>/dev/null || [[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" == Z ]]
}
