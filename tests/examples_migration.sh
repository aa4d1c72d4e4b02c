#!/bin/sh
# A client that moves to a new UDP socket mid-download (CTest: examples_migration_<case>).
#
#   examples_migration.sh H3Q_SERVER H3Q_CLIENT PYTHON GTLSSERVER WORK CASE [GTLSCLIENT]
#
# `h3q-client --rebind-after 1000000` downloads 5 MB and, after the first megabyte, closes
# its socket, opens another (a new local port) and calls h3q_endpoint_rebind. The old
# socket is gone, so the download can only complete if the server validated the new path
# and moved the connection to it. Cases: the server is h3q-server (h3q), aioquic's
# (tests/interop/aioquic_server.py), or ngtcp2's gtlsserver (ngtcp2). The body is checked
# by SHA-256, and the client's -v log must show the rebind. Case gtlsclient turns it
# around: ngtcp2's gtlsclient downloads 20 MB from h3q-server and migrates to a new local
# address after 100 ms (--change-local-addr), and then again by a simulated NAT rebinding
# (--nat-rebinding); the body must arrive whole (--download, compared byte for byte).
#
# Skipped (exit 77, SKIPPED line) when the case's server is missing.
set -u
server=$1
client=$2
python=$3
gtlsserver=$4
work=$5
case=$6
gtlsclient=${7:-none}

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work/docroot"
size=5000000
path=/$size
case $case in
h3q)
    start_server server 10 "$server" --listen 127.0.0.1:0
    ;;
aioquic)
    if [ -z "$python" ] || [ "$python" = none ] || ! "$python" -c 'import aioquic' 2>/dev/null
    then
        echo "SKIPPED: no Python with aioquic (scripts/test.sh installs it into build/venv)"
        exit 77
    fi
    start_server aioquic 20 "$python" "$(dirname "$0")/interop/aioquic_server.py" \
        --listen 127.0.0.1:0
    ;;
ngtcp2)
    if [ ! -x "$gtlsserver" ]; then
        echo "SKIPPED: gtlsserver not found (apt-get install ngtcp2-server)"
        exit 77
    fi
    localhost_cert
    # (Not a numeric name: ngtcp2's server generates a body for those.)
    yes abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk | head -c $size \
        >"$work/docroot/big.txt"
    path=/big.txt
    port=$(free_udp_port)
    start_bg gtlsserver "$gtlsserver" --quiet -d "$work/docroot" 127.0.0.1 "$port" \
        "$work/key.pem" "$work/cert.pem"
    sleep 0.5
    ;;
gtlsclient)
    if [ ! -x "$gtlsclient" ]; then
        echo "SKIPPED: gtlsclient not found (apt-get install ngtcp2-client)"
        exit 77
    fi
    start_server server 10 "$server" --listen 127.0.0.1:0 -v
    # 20 MB take about a second here: the move at 100 ms comes mid-transfer.
    size=20000000
    path=/$size
    for how in --change-local-addr=100ms --nat-rebinding; do
        rm -rf "$work/download"
        mkdir -p "$work/download"
        timeout 60 "$gtlsclient" --quiet --exit-on-all-streams-close "$how" \
            --download="$work/download" 127.0.0.1 "$port" "https://127.0.0.1:$port$path" \
            >"$work/gtlsclient.out" 2>&1 || fail "gtlsclient $how failed"
        got=$(sha256sum <"$work/download/$size" | cut -d' ' -f1)
        [ "$got" = "$(generated_sha256 $size)" ] || fail "gtlsclient $how: wrong body"
        echo "ok: gtlsclient $how: $size bytes intact"
    done
    echo "PASS: h3q-server followed ngtcp2's client to its new addresses"
    exit 0
    ;;
*) fail "unknown case $case" ;;
esac

timeout 60 "$client" --insecure -v --sha256 --rebind-after 1000000 \
    "https://127.0.0.1:$port$path" >"$work/client.out" 2>"$work/client.err" ||
    fail "the download did not survive the rebind"
grep -q "rebound after [0-9]* bytes: local address" "$work/client.err" ||
    fail "the client did not rebind"
want=$(generated_sha256 $size)
grep -q "^200 $size bytes $path sha256=$want" "$work/client.out" || fail "wrong body"
grep "rebound after" "$work/client.err"
echo "PASS: $case: $size bytes intact across the client's move to a new socket"
