#!/bin/sh
# h3q-server's graceful drain on SIGINT (CTest: examples_graceful_shutdown).
#
#   examples_graceful_shutdown.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# h3q-server --drain-timeout 20 on an ephemeral 127.0.0.1 port; h3q-client fetches 20
# bodies of SIZE (3 MB) at once, incremental so that they share the connection
# (--parallel 20 --sha256 --priority u=3,i). Once the server has all 20
# requests (its -v log), SIGINT. No download may be complete by then on the client's side
# and the server must report responses in progress (so the signal did land while they
# ran: at about 20 MB/s under ASan with hashing, the 60 MB take some 3 s, and the signal
# comes within a few hundred ms of the start), and every download must still complete
# with the right SHA-256 (computed here from the server's pattern). While
# it drains, a second client connects: the server answers its connections with GOAWAY at
# once, so it gives up after its new connections and exits 1 with "rejected by the
# server's GOAWAY". The server must exit 0 before the drain timeout, with no aborted
# request in its log; the first client exits 0 and saw the GOAWAY.
set -u
server=$1
client=$2
work=$3
SIZE=3000000
N=20

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0 --drain-timeout 20 -v
url="https://127.0.0.1:$port"
echo "server on port $port"
expected=$(generated_sha256 $SIZE)

set --
i=0
while [ $i -lt $N ]; do set -- "$@" "$url/$SIZE"; i=$((i + 1)); done
# Incremental (u=3,i): the 20 responses share the connection and all run when the signal
# comes; at the default priority they would go one after another, and the first could be
# complete before the server has seen the last request.
start_bg client timeout 60 "$client" --insecure --parallel $N --sha256 -v --priority u=3,i "$@"
client_pid=$bgpid

# Under way: the server has all the requests (and is sending their bodies).
wait_lines "$work/server.err" ": GET /$SIZE \\(stream " $N 20
kill -INT "$pid"
# No download complete yet on the client's side (it writes its result lines before every
# sleep), and the server still feeding some (it may have handed some bodies to h3q whole).
n=$(grep -c '^200 ' "$work/client.out")
[ "$n" = 0 ] || fail "$n downloads were complete when the signal was sent: too early to test"
# Every worker (one per core by default) says it drains, in no set order; the one with
# the connection says so with its requests in progress.
wait_lines "$work/server.err" "^h3q-server: signal 2: draining" 1 5
wait_lines "$work/server.err" \
    "draining 1 connection\(s\), [1-9][0-9]* request\(s\) in progress" 1 5
echo "ok: SIGINT with the $N downloads in progress"

# A client arriving during the drain: turned away with GOAWAY on every connection.
"$client" --insecure -v "$url/1000" >"$work/late.out" 2>"$work/late.err"
late=$?
kill -0 "$pid" 2>/dev/null || fail "the server stopped before the downloads completed"
[ "$late" = 1 ] || fail "the client arriving during the drain exited $late, not 1"
grep -q "^FAILED /1000: rejected by the server's GOAWAY (H3_REQUEST_REJECTED)" \
    "$work/late.out" || fail "the late client did not report the GOAWAY"
grep -q "GOAWAY from the server" "$work/late.err" || fail "the late client saw no GOAWAY"
echo "ok: a connection during the drain gets GOAWAY (late client: exit 1, gave up)"

wait_exit "$pid" server 20
pid=
[ "$status" = 0 ] || fail "the server exited $status after SIGINT"
[ "$elapsed_ms" -lt 20000 ] || fail "the server took the whole drain timeout"
echo "ok: server exit 0, ${elapsed_ms} ms after the checks"

wait_exit "$client_pid" client 30
[ "$status" = 0 ] || fail "the client exited $status"
n=$(grep -c "^200 $SIZE bytes /$SIZE sha256=$expected u=3,i\$" "$work/client.out")
[ "$n" = $N ] || fail "$n of $N downloads complete with SHA-256 $expected"
grep -q "GOAWAY from the server" "$work/client.err" || fail "the client saw no GOAWAY"
echo "ok: all $N downloads complete, SHA-256 right"

n=$(grep -c "GET /$SIZE 200 $SIZE " "$work/server.out")
[ "$n" = $N ] || fail "the server logged $n complete downloads, not $N"
if grep -q ' ms (' "$work/server.out"; then
    fail "the server logged an aborted request: $(grep ' ms (' "$work/server.out" | head -n 1)"
fi
echo "ok: no aborted request in the server's log"
echo "PASS"
