#!/bin/sh
# Datagrams larger than Ethernet's with --max-udp-payload (h3q_config_set_max_udp_payload_size)
# on loopback, whose MTU is 64 KiB (CTest: examples_jumbo).
#
#   examples_jumbo.sh H3Q_SERVER H3Q_CLIENT GTLSSERVER GTLSCLIENT PYTHON WORK_DIR
#
# Each program logs a connection's measurements at its end with -v ("path MTU N",
# "received B / D datagrams"): what path MTU discovery settled on, and how large the
# datagrams that arrived were on average.
#   - h3q-server and h3q-client, both at 8952 (a 9,000-byte MTU over IPv6): a 4 MB body
#     with its SHA-256; both sides' path MTU above 1452, the client's datagrams received
#     over 1,500 bytes on average;
#   - the same server and a default h3q-client (1,472 accepted): the server keeps to the
#     client's limit, no path MTU above 1472;
#   - ngtcp2's gtlsclient against the raised server: the server's path MTU above 1452;
#   - h3q-client at 8952 against ngtcp2's gtlsserver --max-udp-payload-size=8952: the
#     file's SHA-256, datagrams over 1,500 bytes on average each way;
#   - through tools/faultrelay.py --mtu 4000 (a narrower path that drops larger datagrams
#     without a word): the body arrives, the server's path MTU is between 1452 and 4000,
#     and the relay dropped the probes above it.
# The ngtcp2 and relay steps are skipped (with a note) when their program is missing:
# GTLSSERVER, GTLSCLIENT or PYTHON empty or "none".
set -u
server=$1
client=$2
gtlsserver=$3
gtlsclient=$4
python=$5
work=$6
JUMBO=8952
SIZE=4000000
relay="$(dirname "$0")/../tools/faultrelay.py"

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work/root"

# mtu_of FILE: the path MTU in FILE's last measurements line.
mtu_of() { sed -n 's/.*path MTU \([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1; }
# mean_received FILE: the mean size of the datagrams received, from the last line.
mean_received() {
    sed -n 's/.*received \([0-9][0-9]*\) B \/ \([0-9][0-9]*\) datagrams.*/\1 \2/p' "$1" |
        tail -n 1 | { read -r b d && echo $((b / d)); }
}
# wait_measured FILE: the server logs a connection's measurements once it closed.
wait_measured() { wait_lines "$1" 'path MTU [0-9]+' "${2:-1}" 20; }

start_server server 10 "$server" --listen 127.0.0.1:0 --max-udp-payload $JUMBO -v --quiet
url="https://127.0.0.1:$port"
want=$(generated_sha256 $SIZE)
echo "server on port $port, --max-udp-payload $JUMBO"

# Both at 8952.
timeout 60 "$client" --insecure -v --sha256 --max-udp-payload $JUMBO "$url/$SIZE" \
    >"$work/client.out" 2>"$work/client.err" || fail "download at $JUMBO failed"
grep -q "sha256=$want" "$work/client.out" || fail "the body's SHA-256 differs"
wait_measured "$work/server.err"
server_mtu=$(mtu_of "$work/server.err") client_mtu=$(mtu_of "$work/client.err")
mean=$(mean_received "$work/client.err")
[ "${server_mtu:-0}" -gt 1452 ] && [ "$server_mtu" -le $JUMBO ] ||
    fail "server's path MTU ${server_mtu:-none}, wanted above 1452 up to $JUMBO"
[ "${client_mtu:-0}" -gt 1452 ] || fail "client's path MTU ${client_mtu:-none}"
[ "${mean:-0}" -gt 1500 ] || fail "the client received datagrams of $mean bytes on average"
echo "ok: h3q at $JUMBO: path MTU server $server_mtu, client $client_mtu;" \
    "datagrams to the client $mean bytes on average"

# A default client: 1,472 accepted, and the server keeps to it.
timeout 60 "$client" --insecure -v --sha256 "$url/$SIZE" \
    >"$work/client.out" 2>"$work/client.err" || fail "download by a default client failed"
grep -q "sha256=$want" "$work/client.out" || fail "the body's SHA-256 differs (default client)"
wait_measured "$work/server.err" 2
server_mtu=$(mtu_of "$work/server.err") mean=$(mean_received "$work/client.err")
[ "${server_mtu:-0}" -ge 1200 ] && [ "$server_mtu" -le 1472 ] ||
    fail "the server's path MTU to a default client is ${server_mtu:-none}"
[ "${mean:-0}" -le 1472 ] || fail "a default client received datagrams of $mean bytes"
echo "ok: a default client: the server's path MTU $server_mtu"

# ngtcp2's client against the raised server.
if [ -x "$gtlsclient" ]; then
    mkdir -p "$work/gtls"
    timeout 60 "$gtlsclient" --quiet --exit-on-all-streams-close --timeout=10s \
        --download="$work/gtls" 127.0.0.1 "$port" "$url/$SIZE" \
        >"$work/gtlsclient.out" 2>"$work/gtlsclient.err" || fail "gtlsclient failed"
    got=$(sha256sum "$work/gtls/$SIZE" | cut -d' ' -f1)
    [ "$got" = "$want" ] || fail "gtlsclient's body differs"
    wait_measured "$work/server.err" 3
    server_mtu=$(mtu_of "$work/server.err")
    [ "${server_mtu:-0}" -gt 1452 ] || fail "the server's path MTU to gtlsclient: $server_mtu"
    echo "ok: gtlsclient: the server's path MTU $server_mtu"
else
    echo "note: no gtlsclient, its step skipped"
fi
stop_server server 10

# h3q-client against ngtcp2's server, both raised.
if [ -x "$gtlsserver" ]; then
    localhost_cert
    head -c 3000000 /dev/urandom >"$work/root/file.bin"
    want=$(sha256sum "$work/root/file.bin" | cut -d' ' -f1)
    ng_port=$(free_udp_port)
    start_bg gtlsserver "$gtlsserver" --quiet -d "$work/root" --max-udp-payload-size=$JUMBO \
        127.0.0.1 "$ng_port" "$work/key.pem" "$work/cert.pem"
    ok=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        sleep 0.2
        if timeout 60 "$client" --insecure -v --sha256 --max-udp-payload $JUMBO \
            "https://127.0.0.1:$ng_port/file.bin" >"$work/client.out" 2>"$work/client.err"
        then
            ok=1
            break
        fi
    done
    [ -n "$ok" ] || fail "download from gtlsserver failed"
    grep -q "sha256=$want" "$work/client.out" || fail "gtlsserver's body differs"
    client_mtu=$(mtu_of "$work/client.err") mean=$(mean_received "$work/client.err")
    [ "${client_mtu:-0}" -gt 1452 ] || fail "the client's path MTU to gtlsserver: $client_mtu"
    [ "${mean:-0}" -gt 1500 ] || fail "gtlsserver's datagrams: $mean bytes on average"
    echo "ok: gtlsserver: the client's path MTU $client_mtu, gtlsserver's datagrams" \
        "$mean bytes on average"
    kill "$bgpid" 2>/dev/null
else
    echo "note: no gtlsserver, its step skipped"
fi

# A path narrower than the ceiling: discovery finds it, and nothing is lost for good.
if [ -n "$python" ] && [ "$python" != none ] &&
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null; then
    want=$(generated_sha256 $SIZE)
    start_server server 10 "$server" --listen 127.0.0.1:0 --max-udp-payload $JUMBO -v --quiet
    server_pid=$pid server_port=$port
    bg_pids="$bg_pids $server_pid"
    start_server relay 10 "$python" "$relay" --upstream "127.0.0.1:$server_port" --mtu 4000 \
        --seed 1
    relay_pid=$pid
    timeout 60 "$client" --insecure -v --sha256 --max-udp-payload $JUMBO \
        "https://127.0.0.1:$port/$SIZE" >"$work/client.out" 2>"$work/client.err" ||
        fail "download through the 4000-byte path failed"
    grep -q "sha256=$want" "$work/client.out" || fail "the body's SHA-256 differs (relay)"
    wait_measured "$work/server.err"
    server_mtu=$(mtu_of "$work/server.err")
    kill -TERM "$relay_pid"
    wait_exit "$relay_pid" relay 10
    too_big=$(relay_counter down too_big)
    [ "${server_mtu:-0}" -gt 1452 ] && [ "$server_mtu" -le 4000 ] ||
        fail "the server's path MTU over a 4000-byte path: ${server_mtu:-none}"
    [ "$too_big" -gt 0 ] || fail "the relay dropped no datagram above 4000 bytes"
    echo "ok: a 4000-byte path: the server's path MTU $server_mtu, $too_big probes" \
        "above it dropped"
    pid=$server_pid
    stop_server server 10
else
    echo "note: no Python 3, the narrow-path step skipped"
fi
echo "examples_jumbo: ok"
