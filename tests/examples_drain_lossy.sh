#!/bin/sh
# h3q-server's drain closes a connection only once the client has acknowledged every
# response, small ones too, on a slow and lossy path (CTest: examples_drain_lossy).
#
#   examples_drain_lossy.sh H3Q_SERVER H3Q_CLIENT PYTHON WORK_DIR
#
# h3q-server --drain-timeout 30 behind tools/faultrelay.py, which delays each datagram
# by DELAY ms each way (a 600 ms round trip) and drops a quarter of the server's datagrams
# (fixed seed). h3q-client fetches N small bodies at once (--parallel, --sha256). The
# server answers each request in the pass that reads it; as soon as its log shows all N,
# SIGINT. Its drain then sends GOAWAY, waits a round trip (150 ms), sends the final
# GOAWAY, waits another 150 ms, and closes the connection once no request is running and
# h3q_quic_conn_unacknowledged_streams() says every response was acknowledged. The
# responses lost on the way are declared lost and sent again no sooner than one round
# trip after they left, long after those 300 ms: a drain that closed as soon as the
# bodies were handed to h3q (as the server did when it counted lent bodies, which h3q
# releases at once when it copies a small one) would discard them, and the client would
# see the connection close with downloads incomplete. Every download must complete with
# the right SHA-256, the server must exit 0 with no request aborted, and the relay must
# have dropped some of the server's datagrams.
#
# PYTHON is a Python 3 interpreter (standard library only); when it is empty, "none" or
# does not run, the test prints SKIPPED and exits 77.
set -u
server=$1
client=$2
python=$3
work=$4
N=20
SIZE=1000
DELAY=300
SEED=7
relay="$(dirname "$0")/../tools/faultrelay.py"

. "$(dirname "$0")/example_helpers.sh"

need_python3 "$python" tools/faultrelay.py

rm -rf "$work"
mkdir -p "$work"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0 --drain-timeout 30 -v
server_pid=$pid server_port=$port
bg_pids="$bg_pids $server_pid"
start_server relay 10 "$python" "$relay" --upstream "127.0.0.1:$server_port" --seed $SEED \
    --delay $DELAY --direction down --loss 0.25 --stats-file "$work/relay.json"
relay_pid=$pid
url="https://127.0.0.1:$port"
echo "server on port $server_port, relay on port $port (delay $DELAY ms, 25 % of the" \
    "server's datagrams lost, seed $SEED)"

set --
i=0
while [ $i -lt $N ]; do set -- "$@" "$url/$SIZE"; i=$((i + 1)); done
start_bg client timeout 60 "$client" --insecure --parallel $N --sha256 -v "$@"
client_pid=$bgpid

# The server has read (and answered) every request: the drain starts now, before the
# client can have acknowledged the responses (a round trip is 600 ms).
wait_lines "$work/server.err" ": GET /$SIZE \\(stream " $N 30
pid=$server_pid
kill -INT "$pid"
wait_lines "$work/server.err" "^h3q-server: signal 2: draining" 1 5
echo "ok: SIGINT once the server had answered the $N requests"

wait_exit "$client_pid" client 60
[ "$status" = 0 ] || fail "the client exited $status (124: its 60 s limit)"
expected="200 $SIZE bytes /$SIZE sha256=$(generated_sha256 $SIZE)"
n=$(grep -cxF "$expected" "$work/client.out")
[ "$n" = $N ] || fail "$n of $N downloads complete and right"
echo "ok: all $N downloads complete, every body right"

wait_exit "$pid" server 30
pid=
[ "$status" = 0 ] || fail "the server exited $status"
! grep -q "aborted" "$work/server.err" || fail "the server aborted requests"
echo "ok: the server drained and exited 0 after ${elapsed_ms} ms, nothing aborted"

kill -TERM "$relay_pid"
wait_exit "$relay_pid" relay 10
[ "$status" = 0 ] || fail "the relay exited $status after SIGTERM"
lost=$(relay_counter down lost)
[ "$lost" -gt 0 ] || fail "the relay lost none of the server's datagrams"
echo "PASS ($lost of the server's datagrams lost)"
