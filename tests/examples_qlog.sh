#!/bin/sh
# qlog from the example programs, with independent peers (CTest: examples_qlog).
#
#   examples_qlog.sh H3Q_SERVER H3Q_CLIENT PYTHON GTLSCLIENT WORK
#
# `h3q-server --qlog-dir` serves a 10 MB download to h3q-client and one to ngtcp2's
# gtlsclient; `h3q-client --qlog-dir` downloads 10 MB from aioquic's server. Every file
# must parse as JSON-SEQ (RS, a JSON text, a newline; a qlog header first) and hold
# packets sent and received, recovery metrics, HTTP/3 stream types and the HEADERS and
# DATA frames of the transfer (tests/interop/qlog_check.py). The aioquic and gtlsclient
# steps are skipped with a note when those are missing; the whole test (exit 77) without
# Python.
set -u
server=$1
client=$2
python=$3
gtlsclient=$4
work=$5

. "$(dirname "$0")/example_helpers.sh"
check="$(dirname "$0")/interop/qlog_check.py"
if [ -z "$python" ] || [ "$python" = none ]; then
    python=$(command -v python3 || true)
fi
[ -n "$python" ] || { echo "SKIPPED: no Python 3 to read the qlog files"; exit 77; }

rm -rf "$work"
mkdir -p "$work/server-qlog" "$work/client-qlog" "$work/aioquic-qlog"
start_server server 10 "$server" --listen 127.0.0.1:0 --qlog-dir "$work/server-qlog"
timeout 60 "$client" --insecure --qlog-dir "$work/client-qlog" \
    "https://127.0.0.1:$port/10000000" >"$work/client.out" 2>&1 || fail "h3q-client failed"
if [ -x "$gtlsclient" ]; then
    timeout 60 "$gtlsclient" --quiet --exit-on-all-streams-close 127.0.0.1 "$port" \
        "https://127.0.0.1:$port/10000000" >"$work/gtlsclient.out" 2>&1 ||
        fail "gtlsclient failed"
    files=2
else
    echo "note: gtlsclient not found: not tried"
    files=1
fi
stop_server server 10
"$python" "$check" --files "$files" --side server --data-frames created "$work/server-qlog" ||
    fail "the server's qlog files"
"$python" "$check" --files 1 --side client --data-frames parsed "$work/client-qlog" ||
    fail "the client's qlog file"

if "$python" -c 'import aioquic' 2>/dev/null; then
    start_server aioquic 20 "$python" "$(dirname "$0")/interop/aioquic_server.py" \
        --listen 127.0.0.1:0
    timeout 60 "$client" --insecure --qlog-dir "$work/aioquic-qlog" \
        "https://127.0.0.1:$port/10000000" >"$work/aioquic-client.out" 2>&1 ||
        fail "h3q-client from aioquic failed"
    "$python" "$check" --files 1 --side client --data-frames parsed "$work/aioquic-qlog" ||
        fail "the client's qlog file (aioquic's server)"
else
    echo "note: no Python with aioquic: aioquic's server not tried"
fi
echo PASS
