#!/bin/sh
# h3q-client's retries after GOAWAY (CTest: examples_goaway_retry).
#
#   examples_goaway_retry.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# h3q-server --max-requests-per-connection 10 on an ephemeral 127.0.0.1 port: after the
# 10th request on a connection it sends GOAWAY, and the requests the client had already
# sent beyond it are refused (H3_REQUEST_REJECTED). Checks, with h3q-client:
#   - 35 GETs of distinct sizes with --sha256, --output and --parallel 16 (more than a
#     connection serves, so there are always retries): every one completes (right
#     SHA-256, right file size) over exactly 4 connections (10 + 10 + 10 + 5), the -v log
#     shows the GOAWAYs and the retries, exit 0;
#   - 35 POST /echo with --data and --parallel 16 (so that each connection has requests
#     beyond its GOAWAY, whatever the timing): every body comes back whole (SHA-256 of the
#     file), so a retried request sent its body again from the start;
#   - with --no-retry-on-goaway (--parallel 8): 10 complete, the rejected ones fail with
#     "rejected by the server's GOAWAY (H3_REQUEST_REJECTED)", exit 1.
# The server processes exactly 35 GETs and 35 POSTs (its log) and exits 0 on SIGINT.
set -u
server=$1
client=$2
work=$3

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work/out"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0 --max-requests-per-connection 10 -v
url="https://127.0.0.1:$port"
echo "server on port $port"

client() { timeout 60 "$client" --insecure --parallel 8 "$@" >"$work/client.out" 2>"$work/client.err"; }

# 35 GETs: /2001 ... /2035
set --
i=1
while [ $i -le 35 ]; do set -- "$@" "$url/$((2000 + i))"; i=$((i + 1)); done
client --parallel 16 --sha256 --output "$work/out" -v "$@" || fail "35 GETs: the client failed"
i=1
while [ $i -le 35 ]; do
    size=$((2000 + i))
    grep -qx "200 $size bytes /$size sha256=$(generated_sha256 $size)" "$work/client.out" ||
        fail "/$size: no result line with the right SHA-256"
    [ "$(wc -c <"$work/out/$size" | tr -d ' ')" = $size ] || fail "/$size: the file's size"
    i=$((i + 1))
done
grep -q '^35 requests (0 failed), .*; 4 connections, [1-9][0-9]* retried after GOAWAY$' \
    "$work/client.out" || fail "35 GETs: not 4 connections with retries: $(tail -n 1 "$work/client.out")"
n=$(grep -c 'GOAWAY from the server: requests from stream 40 on are not processed' "$work/client.err")
[ "$n" = 3 ] || fail "35 GETs: $n GOAWAYs (stream 40) in the client's log, not 3"
grep -q 'rejected by the server.s GOAWAY (H3_REQUEST_REJECTED): retrying on a new connection' \
    "$work/client.err" || fail "35 GETs: no retry in the client's log"
grep -q '^connection 4: connected' "$work/client.err" || fail "no 4th connection"
echo "ok: 35 GETs over 4 connections, $(sed -n 's/.*connections, \([0-9]*\) retried.*/\1/p' \
    "$work/client.out") retried, every body right"

# 35 POST /echo: retried requests send their bodies again
head -c 100000 /dev/urandom >"$work/upload.bin"
sum=$(sha256sum "$work/upload.bin" | cut -d' ' -f1)
set --
i=0
while [ $i -lt 35 ]; do set -- "$@" "$url/echo"; i=$((i + 1)); done
# 16 in flight, as for the GETs.
client --parallel 16 --sha256 --data "$work/upload.bin" "$@" || fail "35 POSTs: the client failed"
n=$(grep -c "^200 100000 bytes /echo sha256=$sum\$" "$work/client.out")
[ "$n" = 35 ] || fail "35 POSTs: $n bodies came back whole"
grep -q '; 4 connections, [1-9][0-9]* retried' "$work/client.out" || fail "35 POSTs: no retries"
echo "ok: 35 POST /echo over 4 connections, every body back whole"

# --no-retry-on-goaway: the rejected requests fail
set --
i=0
while [ $i -lt 35 ]; do set -- "$@" "$url/1000"; i=$((i + 1)); done
client --no-retry-on-goaway "$@"
st=$?
[ $st = 1 ] || fail "--no-retry-on-goaway: exit status $st, not 1"
n=$(grep -c '^200 1000 bytes /1000$' "$work/client.out")
[ "$n" = 10 ] || fail "--no-retry-on-goaway: $n complete, not 10"
grep -q "^FAILED /1000: rejected by the server's GOAWAY (H3_REQUEST_REJECTED) " \
    "$work/client.out" || fail "--no-retry-on-goaway: no rejected request reported"
grep -q '^35 requests (25 failed)' "$work/client.out" || fail "--no-retry-on-goaway: summary"
echo "ok: --no-retry-on-goaway: 10 complete, the rejected ones fail, exit 1"

stop_server server 10
for what in "GET /20[0-9][0-9] 200 " "POST /echo 200 100000 " "GET /1000 200 1000 "; do
    n=$(grep -c "$what" "$work/server.out")
    want=35
    [ "$what" = "GET /1000 200 1000 " ] && want=10
    [ "$n" = $want ] || fail "the server processed $n '$what', not $want"
done
if grep -q ' ms (' "$work/server.out"; then
    fail "the server logged an aborted request: $(grep ' ms (' "$work/server.out" | head -n 1)"
fi
echo "ok: the server processed each request once; exit 0 on SIGINT"
echo "PASS"
