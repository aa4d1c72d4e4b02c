# Shell helpers of the example-program tests, sourced by examples_*.sh and
# minimal_examples.sh. They use $work (the test's work directory) and set $pid and $port.
# Every process started with start_server or start_bg is killed (by its PID) when the
# test exits, passed or failed.

bg_pids=
# Kills what the test started and is still running (by PID: never by name).
cleanup() {
    for p in ${pid:-} $bg_pids; do kill -KILL "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# fail MESSAGE: prints it and the last lines of every log in $work, kills what the test
# started, exits 1.
fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.out "$work"/*.err "$work"/*.vg; do
        [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

# start_server NAME SECONDS ARGV...: runs ARGV in the background (stdout to $work/NAME.out,
# stderr to $work/NAME.err) and waits up to SECONDS for its first line,
# "listening on HOST:PORT"; sets pid and port.
start_server() {
    name=$1 limit=$(($2 * 10))
    shift 2
    # Emptied here, not only by the redirection below: that happens in the child, which
    # may run after the loop's first look, which would then find a previous server's line.
    : >"$work/$name.out"
    : >"$work/$name.err"
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    i=0
    until grep -q '^listening on ' "$work/$name.out" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $limit ] || fail "$name printed no 'listening on' line within $2 s"
        kill -0 "$pid" 2>/dev/null || fail "$name exited at start"
        sleep 0.1
    done
    port=$(sed -n '1s/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/$name.out")
    [ -n "$port" ] || fail "no port in: $(head -n 1 "$work/$name.out")"
}

# stop_server NAME SECONDS: SIGINT to the server, which must exit 0 within SECONDS.
stop_server() {
    kill -INT "$pid"
    wait_exit "$pid" "$1" "$2"
    pid=
    [ "$status" = 0 ] || fail "$1 exited with status $status after SIGINT"
}

# start_bg NAME ARGV...: runs ARGV in the background (stdout to $work/NAME.out, stderr to
# $work/NAME.err); sets bgpid; the process is killed if the test ends before it.
start_bg() {
    name=$1
    shift
    : >"$work/$name.out" # as in start_server: a reused name's old lines are gone at once
    : >"$work/$name.err"
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    bgpid=$!
    bg_pids="$bg_pids $bgpid"
}

# now_ms: a clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_exit PID NAME SECONDS: waits up to SECONDS for PID (a child of this shell) to exit;
# sets status to its exit status and elapsed_ms to the wait.
wait_exit() {
    start_ms=$(now_ms)
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $(($3 * 20)) ] || fail "$2 did not exit within $3 s"
        sleep 0.05
    done
    wait "$1"
    status=$?
    elapsed_ms=$(($(now_ms) - start_ms))
}

# wait_lines FILE PATTERN COUNT SECONDS: waits up to SECONDS until FILE has at least COUNT
# lines matching PATTERN (grep -E).
wait_lines() {
    i=0
    while n=$(grep -cE "$2" "$1" 2>/dev/null); [ "${n:-0}" -lt "$3" ]; do
        i=$((i + 1))
        [ $i -le $(($4 * 20)) ] || fail "$1: fewer than $3 lines matching '$2' after $4 s"
        sleep 0.05
    done
}

# need_python3 PYTHON WHAT: exits 77 (printing SKIPPED) unless PYTHON is a Python 3.6 or
# later that runs; WHAT says what it was for. An empty PYTHON or "none" means there is none.
need_python3() {
    if [ -z "$1" ] || [ "$1" = none ] ||
        ! "$1" -c 'import sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null; then
        echo "SKIPPED: no Python 3 to run $2 (got '$1')"
        exit 77
    fi
}

# relay_counter DIRECTION NAME: tools/faultrelay.py's final counter NAME of DIRECTION (up,
# down, relay), from the lines it printed on SIGTERM to $work/relay.out.
relay_counter() {
    v=$(sed -n "s/^$1: //p" "$work/relay.out" | tr ' ' '\n' | sed -n "s/^$2=//p")
    [ -n "$v" ] || fail "the relay printed no counter $1 $2"
    echo "$v"
}

# generated_sha256 N: the SHA-256 of h3q-server's body for /N: lines of 63 letters (a-z,
# a-z, a-k) and a newline, cut after N bytes (see responses_init in
# examples/server/responses.c).
generated_sha256() {
    yes abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk | head -c "$1" |
        sha256sum | cut -d' ' -f1
}

# localhost_cert: a self-signed certificate for localhost and 127.0.0.1 (P-256) in
# $work/cert.pem and $work/key.pem, for ngtcp2's gtlsserver; exits 77 without openssl.
localhost_cert() {
    command -v openssl >/dev/null 2>&1 || { echo "SKIPPED: openssl not found"; exit 77; }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 ||
        fail "openssl req failed"
}

# free_udp_port: a UDP port on 127.0.0.1 free a moment ago (for servers that cannot pick
# their own and print it, like gtlsserver).
free_udp_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
