#!/bin/sh
# Smoke test of the example programs (CTest: examples_server_client).
#
#   examples_smoke.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# Starts h3q-server on 127.0.0.1 with a port the kernel picks (--listen 127.0.0.1:0 prints
# it on its first line), then checks with h3q-client --insecure: GET / (the HTML page),
# GET /1000000 (exactly 1000000 bytes), POST /echo with a file (the same bytes come back),
# 100 requests for /1000 with --parallel 100, GETs with each --cc controller, a 404 making
# the client fail; -v prints a
# connection's measurements and SIGUSR1 makes the server print each connection's; finally
# SIGINT must make the server exit 0 within 5 seconds. Every step is bounded by a timeout.
set -u
server=$1
client=$2
work=$3

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work/out" "$work/slow"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0
url="https://127.0.0.1:$port"
echo "server on port $port"

client() { timeout 60 "$client" --insecure "$@" >"$work/client.out" 2>"$work/client.err"; }

# GET /: the page
client --output "$work/out" "$url/" || fail "GET / failed"
grep -q 'Hello from h3q' "$work/out/index.html" || fail "GET /: unexpected page"
echo "ok: GET /"

# GET /1000000: the size; with -v the connection's measurements at its end
client -v --output "$work/out" "$url/1000000" || fail "GET /1000000 failed"
size=$(wc -c <"$work/out/1000000" | tr -d ' ')
[ "$size" = 1000000 ] || fail "GET /1000000 gave $size bytes"
grep -Eq '^connection 1: rtt [0-9.]+ ms .*received [0-9]{7,} B' "$work/client.err" ||
    fail "-v: no measurements line with the body's bytes received"
echo "ok: GET /1000000, $(grep '^connection 1: rtt' "$work/client.err")"

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

# Each congestion controller (--cc); an unknown name is a usage error
for cc in newreno cubic bbr; do
    client --cc "$cc" --output "$work/out" "$url/300000" || fail "--cc $cc: GET failed"
    [ "$(wc -c <"$work/out/300000" | tr -d ' ')" = 300000 ] || fail "--cc $cc: wrong size"
done
timeout 10 "$client" --insecure --cc reno "$url/1" >/dev/null 2>&1
st=$?
[ $st = 2 ] || fail "--cc reno: exit status $st, not 2"
timeout 10 "$server" --cc reno >/dev/null 2>&1
st=$?
[ $st = 2 ] || fail "h3q-server --cc reno: exit status $st, not 2"
echo "ok: --cc newreno, cubic, bbr; an unknown name is a usage error"

# A 404 is a failure for the client
if client "$url/no-such-thing"; then fail "the client succeeded on a 404"; fi
echo "ok: 404 fails the client"

# SIGUSR1, while a download keeps a connection open: a measurements line for it, then
# the count
start_bg slow timeout 60 "$client" --insecure --output "$work/slow" "$url/1000000000"
slow=$bgpid
i=0
until [ "$(wc -c <"$work/slow/1000000000" 2>/dev/null || echo 0)" -gt 1000000 ]; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "the download for SIGUSR1 did not start within 10 s"
    sleep 0.05
done
kill -USR1 "$pid"
# Each worker reports (one per core by default), in no set order: wait for the report of
# the worker that has the download.
wait_lines "$work/server.err" 'stats 127\.0\.0\.1:[0-9]+: rtt' 1 5
wait_lines "$work/server.err" 'stats: [0-9]+ connection' 1 5
kill "$slow" 2>/dev/null
grep -Eq '^h3q-server: stats 127\.0\.0\.1:[0-9]+: rtt [0-9.]+ ms .*sent [0-9]{7,} B' \
    "$work/server.err" || fail "SIGUSR1: no measurements line for the download's connection"
echo "ok: SIGUSR1, $(grep '^h3q-server: stats 127' "$work/server.err" | head -n 1)"

# SIGINT: exit 0 within 5 s
stop_server server 5
grep -q 'GET /1000000 200 1000000' "$work/server.out" || fail "no log line for GET /1000000"
echo "ok: SIGINT, exit 0"
echo "PASS"
