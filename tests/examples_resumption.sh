#!/bin/sh
# Session resumption and 0-RTT between h3q and independent implementations
# (CTest: examples_resumption_<case>).
#
#   examples_resumption.sh H3Q_SERVER H3Q_CLIENT PYTHON GTLSSERVER GTLSCLIENT WORK CASE
#
# Cases:
#   gtlsclient  ngtcp2's gtlsclient fetches /1000 from `h3q-server --0rtt` twice with
#               --session-file/--tp-file: the second run resumes and sends its request as
#               0-RTT; the server's log line for it says "0-RTT" and gtlsclient does not
#               report the early data rejected.
#   aioquic     aioquic's client resumes against `h3q-server --0rtt` and sends 0-RTT
#               (tests/interop/aioquic_resume.py): session resumed, early data accepted.
#   h3q         `h3q-client --resume` against `h3q-server --0rtt`: the second connection
#               says "0-RTT sent and accepted", the server logs the request as 0-RTT.
#   to_aioquic  `h3q-client --resume` against aioquic's server (tests/interop/
#               aioquic_server.py): "0-RTT sent and accepted", bodies checked by SHA-256.
#   to_ngtcp2   `h3q-client --resume` against ngtcp2's gtlsserver: the same.
#   retry       `h3q-server --retry`: h3q-client, aioquic's client and gtlsclient each
#               complete their GETs through the server's address validation (h3q-client
#               twice, the second time resuming; the Rust test quic_resumption shows the
#               Retry's round trip and the NEW_TOKEN that spares the next connection one).
#   no_0rtt     `h3q-client --resume` against `h3q-server` without --0rtt: the second
#               connection resumes without early data (nothing said about 0-RTT), and the
#               server logs no request as 0-RTT.
#
# Skipped (exit 77, SKIPPED line) when the case's peer is missing (PYTHON with aioquic,
# gtlsserver / gtlsclient from Debian ngtcp2-server / ngtcp2-client, openssl).
set -u
server=$1
client=$2
python=$3
gtlsserver=$4
gtlsclient=$5
work=$6
case=$7

. "$(dirname "$0")/example_helpers.sh"
interop="$(dirname "$0")/interop"

need_aioquic() {
    if [ -z "$python" ] || [ "$python" = none ] || ! "$python" -c 'import aioquic' 2>/dev/null
    then
        echo "SKIPPED: no Python with aioquic (scripts/test.sh installs it into build/venv)"
        exit 77
    fi
}
need_tool() { # path, package
    if [ ! -x "$1" ]; then
        echo "SKIPPED: $(basename "$1") not found (apt-get install $2)"
        exit 77
    fi
}
# h3q_resume URL_BASE [SMALL_PATH BIG_PATH]: h3q-client --resume fetching a 1,000-byte and
# a 100,000-byte body (default /1000 and /100000, h3q's and aioquic's generated bodies);
# checks both rounds' bodies by SHA-256.
h3q_resume() {
    small=${2:-/1000} big=${3:-/100000}
    timeout 60 "$client" --insecure -v --sha256 --resume "$1$small" "$1$big" \
        >"$work/client.out" 2>"$work/client.err" || fail "h3q-client --resume failed"
    [ "$(grep -c '^200 ' "$work/client.out")" = 4 ] || fail "not 4 responses"
    for n in 1000 100000; do
        want=$(generated_sha256 $n)
        [ "$(grep -c "^200 $n bytes /[a-z0-9.]* sha256=$want" "$work/client.out")" = 2 ] ||
            fail "the $n-byte body is wrong in one of the rounds"
    done
}

rm -rf "$work"
mkdir -p "$work/docroot"
case $case in
gtlsclient)
    need_tool "$gtlsclient" ngtcp2-client
    start_server server 10 "$server" --listen 127.0.0.1:0 --0rtt
    for run in 1 2; do
        timeout 30 "$gtlsclient" --quiet --exit-on-all-streams-close \
            --session-file="$work/session.pem" --tp-file="$work/tp.pem" \
            127.0.0.1 "$port" "https://127.0.0.1:$port/1000" \
            >"$work/gtlsclient$run.out" 2>&1 || fail "gtlsclient run $run failed"
        [ -s "$work/session.pem" ] || fail "gtlsclient saved no session after run $run"
    done
    grep -q "rejected" "$work/gtlsclient2.out" && fail "gtlsclient: early data rejected"
    wait_lines "$work/server.out" 'GET /1000 200 1000 .* 0-RTT' 1 5
    [ "$(grep -c 'GET /1000 200 1000 ' "$work/server.out")" = 2 ] || fail "not 2 requests"
    echo "gtlsclient resumed and its 0-RTT request was served"
    ;;
aioquic)
    need_aioquic
    start_server server 10 "$server" --listen 127.0.0.1:0 --0rtt
    timeout 60 "$python" "$interop/aioquic_resume.py" 127.0.0.1 "$port" /5000 \
        >"$work/aioquic.out" 2>&1 || fail "aioquic_resume.py failed"
    cat "$work/aioquic.out"
    wait_lines "$work/server.out" 'GET /5000 200 5000 .* 0-RTT' 1 5
    ;;
h3q)
    start_server server 10 "$server" --listen 127.0.0.1:0 --0rtt
    h3q_resume "https://127.0.0.1:$port"
    grep -q 'connection 2: connected, ALPN h3, 0-RTT sent and accepted' "$work/client.err" ||
        fail "the second connection's 0-RTT was not accepted"
    [ "$(grep -c ' 0-RTT$' "$work/server.out")" -ge 1 ] || fail "no request served as 0-RTT"
    ;;
to_aioquic)
    need_aioquic
    start_server aioquic 20 "$python" "$interop/aioquic_server.py" --listen 127.0.0.1:0
    h3q_resume "https://127.0.0.1:$port"
    grep -q 'connection 2: connected, ALPN h3, 0-RTT sent and accepted' "$work/client.err" ||
        fail "aioquic did not accept the 0-RTT data"
    ;;
to_ngtcp2)
    need_tool "$gtlsserver" ngtcp2-server
    localhost_cert
    # (Not named /1000: ngtcp2's server generates a body for a numeric path.)
    yes abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk | head -c 1000 \
        >"$work/docroot/small.txt"
    yes abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk | head -c 100000 \
        >"$work/docroot/big.txt"
    port=$(free_udp_port)
    start_bg gtlsserver "$gtlsserver" --quiet -d "$work/docroot" 127.0.0.1 "$port" \
        "$work/key.pem" "$work/cert.pem"
    sleep 0.5
    h3q_resume "https://127.0.0.1:$port" /small.txt /big.txt
    grep -q 'connection 2: connected, ALPN h3, 0-RTT sent and accepted' "$work/client.err" ||
        fail "gtlsserver did not accept the 0-RTT data"
    ;;
retry)
    need_aioquic
    need_tool "$gtlsclient" ngtcp2-client
    start_server server 10 "$server" --listen 127.0.0.1:0 --retry
    h3q_resume "https://127.0.0.1:$port"
    "$python" "$interop/aioquic_client.py" --insecure "https://127.0.0.1:$port/2000" \
        >"$work/aioquic.out" 2>&1 || fail "aioquic's client failed through Retry"
    timeout 30 "$gtlsclient" --quiet --exit-on-all-streams-close 127.0.0.1 "$port" \
        "https://127.0.0.1:$port/3000" >"$work/gtlsclient.out" 2>&1 ||
        fail "gtlsclient failed through Retry"
    wait_lines "$work/server.out" 'GET /2000 200 2000 ' 1 5
    wait_lines "$work/server.out" 'GET /3000 200 3000 ' 1 5
    ;;
no_0rtt)
    start_server server 10 "$server" --listen 127.0.0.1:0
    h3q_resume "https://127.0.0.1:$port"
    grep -q '0-RTT sent' "$work/client.err" && fail "0-RTT sent to a server that allows none"
    grep -q ' 0-RTT$' "$work/server.out" && fail "a request served as 0-RTT"
    ;;
*)
    fail "unknown case $case"
    ;;
esac
echo "PASS: $case"
