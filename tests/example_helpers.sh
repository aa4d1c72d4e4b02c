# Shell helpers of the example-program tests, sourced by examples_smoke.sh and
# minimal_examples.sh. They use $work (the test's work directory) and set $pid and $port.

# fail MESSAGE: prints it and the last lines of every log in $work, kills the server, exits 1.
fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.out "$work"/*.err "$work"/*.vg; do
        [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 30 "$f" >&2; }
    done
    [ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null
    exit 1
}

# start_server NAME SECONDS ARGV...: runs ARGV in the background (stdout to $work/NAME.out,
# stderr to $work/NAME.err) and waits up to SECONDS for its first line,
# "listening on HOST:PORT"; sets pid and port.
start_server() {
    name=$1 limit=$(($2 * 10))
    shift 2
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
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $(($2 * 10)) ] || fail "$1 did not exit within $2 s of SIGINT"
        sleep 0.1
    done
    wait "$pid"
    status=$?
    pid=
    [ "$status" = 0 ] || fail "$1 exited with status $status after SIGINT"
}
