#!/bin/sh
# h3q-client interrupted mid-download (CTest: examples_client_interrupt).
#
#   examples_client_interrupt.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# h3q-server on an ephemeral 127.0.0.1 port; h3q-client downloads /10000000000 (10 GB,
# far from done when interrupted):
#   1. SIGINT to the client: it exits 130 after its summary, reporting the request as
#      cancelled; the server logs the request as abandoned by the client with
#      H3_REQUEST_CANCELLED;
#   2. the server is still healthy: a following fetch (with --sha256) works;
#   3. SIGTERM to another download: exit 143, and the server logs that one too.
# Finally SIGINT to the server: exit 0, at once (no connection left to drain).
set -u
server=$1
client=$2
work=$3
BIG=10000000000

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0 -v
url="https://127.0.0.1:$port"
echo "server on port $port"

# interrupt NAME SIGNAL STATUS N: downloads /BIG, sends SIGNAL once the server has sent
# some of the body, expects exit STATUS and the server's Nth log line of an abandoned
# request.
interrupt() {
    start_bg "$1" timeout 60 "$client" --insecure -v "$url/$BIG"
    wait_lines "$work/server.err" ": GET /$BIG \\(stream " "$4" 20
    sleep 0.3
    kill "-$2" "$bgpid"
    wait_exit "$bgpid" "$1" 10
    [ "$status" = "$3" ] || fail "$1: exit status $status after SIG$2, not $3"
    grep -q "^FAILED /$BIG: interrupted by signal .*, cancelled with H3_REQUEST_CANCELLED" \
        "$work/$1.out" || fail "$1: the request was not reported as cancelled"
    grep -q '^1 requests (1 failed)' "$work/$1.out" || fail "$1: no summary"
    wait_lines "$work/server.out" \
        "GET /$BIG 200 [0-9]+ .* ms \\((stopped|reset) by client: H3_REQUEST_CANCELLED\\)\$" "$4" 5
    echo "ok: SIG$2: client exit $3, the server logs the request stopped by the client"
}

interrupt client1 INT 130 1

"$client" --insecure --sha256 "$url/100000" >"$work/after.out" 2>"$work/after.err" ||
    fail "the fetch after the interrupt failed"
grep -qx "200 100000 bytes /100000 sha256=$(generated_sha256 100000)" "$work/after.out" ||
    fail "the fetch after the interrupt: wrong body"
echo "ok: the server still serves"

interrupt client2 TERM 143 2

stop_server server 5
echo "ok: server exit 0 on SIGINT"
echo "PASS"
