#!/bin/sh
# h3q-client tries a new connection when a handshake fails on a bad path (CTest:
# examples_handshake_retry).
#
#   examples_handshake_retry.sh H3Q_CLIENT PYTHON GTLSSERVER WORK_DIR
#
# ngtcp2's gtlsserver on an ephemeral 127.0.0.1 port behind tools/faultrelay.py, which
# drops everything the server sends for the first 9.5 s (--direction down --blackhole
# 0:9.5). The client's Initial reaches the server, whose answers are lost; at 10 s
# gtlsserver gives the handshake up and closes the connection (ngtcp2's handshake timeout,
# PROTOCOL_VIOLATION), and that close gets through. h3q-client -v must then log the failed
# handshake ("lost during the handshake ... trying a new connection (attempt 2 of 3)"),
# complete GET /small.txt on connection 2 with the right bytes, and exit 0. About 10 s.
#
# Skipped (exit 77, SKIPPED line) without Python 3, gtlsserver (Debian ngtcp2-server) or
# openssl.
set -u
client=$1
python=$2
gtlsserver=$3
work=$4
relay="$(dirname "$0")/../tools/faultrelay.py"

. "$(dirname "$0")/example_helpers.sh"

need_python3 "$python" tools/faultrelay.py
if [ ! -x "$gtlsserver" ]; then
    echo "SKIPPED: ngtcp2's gtlsserver not found (apt-get install ngtcp2-server)"
    exit 77
fi
command -v openssl >/dev/null 2>&1 || { echo "SKIPPED: openssl not found"; exit 77; }

rm -rf "$work"
mkdir -p "$work/docroot" "$work/out"
head -c 1000 /dev/urandom >"$work/docroot/small.txt"
localhost_cert
server_port=$(free_udp_port)
start_bg gtlsserver "$gtlsserver" --quiet -d "$work/docroot" --timeout=60s 127.0.0.1 \
    "$server_port" "$work/key.pem" "$work/cert.pem"
pid=
start_server relay 10 "$python" "$relay" --upstream "127.0.0.1:$server_port" \
    --direction down --blackhole 0:9.5
relay_pid=$pid
echo "gtlsserver on port $server_port, relay on port $port (server to client lost for 9.5 s)"

start_ms=$(now_ms)
timeout 60 "$client" --insecure -v --output "$work/out" "https://127.0.0.1:$port/small.txt" \
    >"$work/client.out" 2>"$work/client.err"
status=$?
took=$(($(now_ms) - start_ms))
[ "$status" = 0 ] || fail "the client exited $status after $took ms"
cmp -s "$work/docroot/small.txt" "$work/out/small.txt" || fail "the body is not the file"
grep -q '^connection 1: lost during the handshake (.*): trying a new connection (attempt 2 of 3)$' \
    "$work/client.err" || fail "no retry of the handshake in the client's log"
grep -q '^connection 2: connected' "$work/client.err" || fail "connection 2 did not connect"
grep -q '; 2 connections' "$work/client.out" || fail "not 2 connections"
echo "ok: the handshake failed ($(sed -n 's/^connection 1: closed by the peer: //p' \
    "$work/client.err")), connection 2 completed the request; $took ms in all"
kill -INT "$relay_pid" 2>/dev/null
echo "PASS"
