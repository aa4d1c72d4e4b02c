#!/bin/sh
# Smoke test of the example programs (CTest: examples_server_client).
#
#   examples_smoke.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# Starts h3q-server on 127.0.0.1 with a port the kernel picks (--listen 127.0.0.1:0 prints
# it on its first line), then checks with h3q-client --insecure: GET / (the HTML page),
# GET /1000000 (exactly 1000000 bytes), POST /echo with a file (the same bytes come back),
# 100 requests for /1000 with --parallel 100, a 404 making the client fail; finally SIGINT
# must make the server exit 0 within 5 seconds. Every step is bounded by a timeout.
set -u
server=$1
client=$2
work=$3

rm -rf "$work"
mkdir -p "$work/out"
pid=
fail() {
    echo "FAIL: $*" >&2
    for f in server.out server.err client.out client.err; do
        [ -f "$work/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 20 "$work/$f" >&2; }
    done
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    exit 1
}

"$server" --listen 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
pid=$!
i=0
until grep -q '^listening on ' "$work/server.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "the server printed no 'listening on' line within 10 s"
    kill -0 "$pid" 2>/dev/null || fail "the server exited at start"
    sleep 0.1
done
port=$(sed -n '1s/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/server.out")
[ -n "$port" ] || fail "no port in: $(head -n 1 "$work/server.out")"
url="https://127.0.0.1:$port"
echo "server on port $port"

client() { timeout 60 "$client" --insecure "$@" >"$work/client.out" 2>"$work/client.err"; }

# GET /: the page
client --output "$work/out" "$url/" || fail "GET / failed"
grep -q 'Hello from h3q' "$work/out/index.html" || fail "GET /: unexpected page"
echo "ok: GET /"

# GET /1000000: the size
client --output "$work/out" "$url/1000000" || fail "GET /1000000 failed"
size=$(wc -c <"$work/out/1000000" | tr -d ' ')
[ "$size" = 1000000 ] || fail "GET /1000000 gave $size bytes"
echo "ok: GET /1000000"

# POST /echo: the same bytes back
head -c 300000 /dev/urandom >"$work/upload.bin"
client --data "$work/upload.bin" --output "$work/out" "$url/echo" || fail "POST /echo failed"
cmp -s "$work/upload.bin" "$work/out/echo" || fail "POST /echo returned other bytes"
echo "ok: POST /echo"

# 100 requests in parallel
set --
i=0
while [ $i -lt 100 ]; do set -- "$@" "$url/1000"; i=$((i + 1)); done
client --parallel 100 "$@" || fail "100 parallel requests failed"
n=$(grep -c '^200 1000 bytes /1000$' "$work/client.out")
[ "$n" = 100 ] || fail "100 parallel requests: $n complete responses"
grep -q '^100 requests (0 failed)' "$work/client.out" || fail "100 parallel: no summary"
echo "ok: 100 parallel requests"

# A 404 is a failure for the client
if client "$url/no-such-thing"; then fail "the client succeeded on a 404"; fi
echo "ok: 404 fails the client"

# SIGINT: exit 0 within 5 s
kill -INT "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 50 ] || fail "the server did not exit within 5 s of SIGINT"
    sleep 0.1
done
wait "$pid"
status=$?
pid=
[ "$status" = 0 ] || fail "the server exited with status $status after SIGINT"
grep -q 'GET /1000000 200 1000000' "$work/server.out" || fail "no log line for GET /1000000"
echo "ok: SIGINT, exit 0"
echo "PASS"
