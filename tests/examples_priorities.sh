#!/bin/sh
# Priorities (RFC 9218) between h3q-client and h3q-server (CTest: examples_priorities).
#
#   examples_priorities.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# h3q-server -v on an ephemeral 127.0.0.1 port; h3q-client --parallel 9 --sha256 -v:
#   - the race: 8 x /SIZE with --priority u=5, then one /SIZE with --priority u=0, all in
#     flight at once (the u=0 one is requested last, on stream 32). Every body must be
#     right (SHA-256 computed here from the server's pattern), the server must have read
#     each request's priority (its -v log), and the u=0 response must complete first or
#     second, while the 8 others had, in total, less than half their bytes (the client's
#     -v completion line says how many they had);
#   - all 9 with --priority u=3,i (incremental): every body right; the completion order
#     and how close together they ended are printed, not checked;
#   - a malformed --priority, or one with no URL after it, is a usage error (exit 2).
# The server then exits 0 on SIGINT with no aborted request in its log. Under ASan the
# two runs take some 4 s each on loopback (SIZE 20 MB: 180 MB a run).
set -u
server=$1
client=$2
work=$3
SIZE=20000000
N=8

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0 -v
url="https://127.0.0.1:$port/$SIZE"
echo "server on port $port"
expected=$(generated_sha256 $SIZE)

# run NAME ARGS...: h3q-client --insecure --parallel 9 --sha256 -v ARGS (stdout to
# $work/NAME.out, stderr to $work/NAME.err); prints its completion order from the -v log.
run() {
    name=$1
    shift
    t0=$(now_ms)
    timeout 60 "$client" --insecure --parallel $((N + 1)) --sha256 -v "$@" \
        >"$work/$name.out" 2>"$work/$name.err" || fail "$name: the client failed"
    echo "$name: $(($(now_ms) - t0)) ms; completion order (stream, priority, time):"
    sed -n 's/^connection 1: [^ ]* (stream \([0-9]*\), \([^)]*\)) complete in \([0-9.]*\) s.*/  \1 \2 \3 s/p' \
        "$work/$name.err"
}

# right NAME COUNT SUFFIX: COUNT result lines with the right SHA-256 and the priority.
right() {
    n=$(grep -cx "200 $SIZE bytes /$SIZE sha256=$expected $3" "$work/$1.out")
    [ "$n" = "$2" ] || fail "$1: $n right bodies ending ' $3', not $2"
}

# The race: 8 at u=5, then one at u=0.
set -- --priority u=5
i=0
while [ $i -lt $N ]; do set -- "$@" "$url"; i=$((i + 1)); done
run race "$@" --priority u=0 "$url"
right race $N u=5
right race 1 u=0
n=$(grep -c ": GET /$SIZE (stream [0-9]*, u=5)" "$work/server.err")
[ "$n" = $N ] || fail "race: the server read u=5 from $n requests, not $N"
grep -q ": GET /$SIZE (stream 32, u=0)" "$work/server.err" ||
    fail "race: the server did not read u=0 from the last request (stream 32)"
place=$(grep '^200 ' "$work/race.out" | grep -n ' u=0$' | cut -d: -f1)
[ -n "$place" ] && [ "$place" -le 2 ] || fail "race: the u=0 response completed in place $place of $((N + 1))"
# "... complete in T s; the 8 other(s) in flight had RECEIVED of ANNOUNCED bytes"
others=$(sed -n 's/.*(stream 32, u=0) complete in .* the \([0-9]*\) other(s) in flight had \([0-9]*\) of.*/\1 \2/p' \
    "$work/race.err")
[ -n "$others" ] || fail "race: no -v completion line for the u=0 response"
set -- $others
[ "$1" = $N ] || fail "race: $1 others in flight when the u=0 response completed, not $N"
[ $(($2 * 2)) -lt $((N * SIZE)) ] ||
    fail "race: the others had $2 of $((N * SIZE)) bytes when the u=0 response completed"
echo "ok: race: u=0 completed in place $place, the $N others had $2 of $((N * SIZE)) bytes"

# Incremental: all 9 at u=3,i share the connection.
set -- --priority u=3,i
i=0
while [ $i -le $N ]; do set -- "$@" "$url"; i=$((i + 1)); done
run incremental "$@"
right incremental $((N + 1)) u=3,i
n=$(grep -c ": GET /$SIZE (stream [0-9]*, u=3,i)" "$work/server.err")
[ "$n" = $((N + 1)) ] || fail "incremental: the server read u=3,i from $n requests"
times=$(sed -n 's/.*) complete in \([0-9.]*\) s;.*/\1/p' "$work/incremental.err" | sort -n)
echo "ok: incremental: all $((N + 1)) complete, between $(echo "$times" | head -n 1) s and" \
    "$(echo "$times" | tail -n 1) s"

# Usage errors: exit 2 before connecting.
for bad in "--priority u=8 $url" "--priority urgent $url" "--priority u=1,x $url" \
    "$url --priority u=1"; do
    # shellcheck disable=SC2086 # word splitting intended
    "$client" --insecure $bad >"$work/usage.out" 2>"$work/usage.err"
    st=$?
    [ $st = 2 ] || fail "h3q-client --insecure $bad: exit status $st, not 2"
done
echo "ok: malformed or dangling --priority: usage error"

stop_server server 10
if grep -q ' ms (' "$work/server.out"; then
    fail "the server logged an aborted request: $(grep ' ms (' "$work/server.out" | head -n 1)"
fi
echo "ok: exit 0 on SIGINT"
echo "PASS"
