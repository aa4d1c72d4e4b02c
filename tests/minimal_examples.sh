#!/bin/sh
# Tests of examples/minimal (CTest: minimal_*) and of valgrind/h3q.supp.
#
#   minimal_examples.sh pair SERVER CLIENT WORK [-- LAUNCHER...]
#       minimal-server on 127.0.0.1 (a port the kernel picks), minimal-client fetching
#       /minimal/pair from it: exit 0, "HTTP/3 200" and the body naming the path; then
#       SIGINT: the server exits 0.
#   minimal_examples.sh client-aioquic CLIENT PYTHON AIOQUIC_SERVER_PY WORK [-- LAUNCHER...]
#       minimal-client against aioquic's server (tests/interop/aioquic_server.py): GET /1000
#       gives 200 and 1000 bytes.
#   minimal_examples.sh server-aioquic SERVER PYTHON AIOQUIC_CLIENT_PY WORK [-- LAUNCHER...]
#       aioquic's client (tests/interop/aioquic_client.py --insecure) against minimal-server:
#       200 and the body naming the path; then SIGINT: the server exits 0.
#   minimal_examples.sh narrow PROGRAM VALGRIND SUPPRESSIONS WORK
#       valgrind/narrowness_check under valgrind with the suppressions: it must exit 1 with
#       exactly its one deliberate error reported, and ring's false positives suppressed.
#
# LAUNCHER (e.g. valgrind --error-exitcode=1 ...) runs the minimal programs; with it, a
# memory error or leak makes them exit non-zero, which fails the test. The aioquic modes
# exit 77 (CTest: skipped) after a "SKIPPED: ..." line when PYTHON cannot import aioquic.
# Every step is bounded by a timeout.
set -u
. "$(dirname "$0")/example_helpers.sh"
mode=$1
pid=

# The arguments before WORK, WORK itself (made empty), and the launcher left in "$@".
case "$mode" in
pair) n=3 ;;
*) n=4 ;;
esac
[ $# -gt $n ] || { echo "usage: see the comment at the top of $0" >&2; exit 2; }
a1=$2 a2=$3
[ $n = 4 ] && a3=$4
eval "work=\${$((n + 1))}"
shift $((n + 1))
[ $# -gt 0 ] && shift # "--"
rm -rf "$work"
mkdir -p "$work"

if [ "$mode" = client-aioquic ] || [ "$mode" = server-aioquic ]; then
    if ! "$a2" -c "import aioquic" 2>/dev/null; then
        echo "SKIPPED: aioquic is not importable by $a2 ($a2 -m pip install aioquic)"
        exit 77
    fi
fi

# expect_body FILE PATH: FILE holds the minimal server's answer for PATH.
expect_body() {
    grep -q "You asked for $2" "$1" || fail "unexpected body for $2"
}

# The server: minimal-server (under the launcher) or aioquic's.
case "$mode" in
pair | server-aioquic) start_server server 60 "$@" "$a1" 0 ;;
client-aioquic) start_server server 60 "$a2" "$a3" --listen 127.0.0.1:0 ;;
esac

case "$mode" in
pair)
    timeout 120 "$@" "$a2" "https://127.0.0.1:$port/minimal/pair" \
        >"$work/client.out" 2>"$work/client.err" || fail "minimal-client failed"
    grep -qx 'HTTP/3 200' "$work/client.out" || fail "no 'HTTP/3 200' line"
    expect_body "$work/client.out" /minimal/pair
    echo "ok: minimal-client <- minimal-server"
    ;;
client-aioquic)
    timeout 120 "$@" "$a1" "https://127.0.0.1:$port/1000" \
        >"$work/client.out" 2>"$work/client.err" || fail "minimal-client failed"
    grep -qx 'HTTP/3 200' "$work/client.out" || fail "no 'HTTP/3 200' line"
    size=$(sed 1d "$work/client.out" | wc -c | tr -d ' ')
    [ "$size" = 1000 ] || fail "GET /1000 gave $size bytes"
    echo "ok: minimal-client <- aioquic server"
    ;;
server-aioquic)
    timeout 120 "$a2" "$a3" --insecure --timeout 100 "https://127.0.0.1:$port/minimal/aioquic" \
        >"$work/client.out" 2>"$work/client.err" || fail "aioquic_client.py failed"
    grep -q '^200 ' "$work/client.err" || fail "aioquic's client got no 200"
    expect_body "$work/client.out" /minimal/aioquic
    echo "ok: aioquic client <- minimal-server"
    ;;
narrow)
    timeout 300 "$a2" --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --suppressions="$a3" \
        --log-file="$work/narrow.vg" "$a1" >"$work/narrow.out" 2>&1
    status=$?
    [ "$status" = 1 ] || fail "expected valgrind's error exit 1, got $status"
    grep -q '2 QUIC handshake' "$work/narrow.out" || fail "the handshakes did not complete"
    grep -q 'ERROR SUMMARY: 1 errors from 1 contexts (suppressed: [1-9]' "$work/narrow.vg" ||
        fail "expected exactly 1 error and some suppressed"
    grep -q 'at .*deliberate_uninit_read' "$work/narrow.vg" ||
        fail "the deliberate uninitialised read was not the error reported"
    echo "ok: $(sed -n 's/.*\(ERROR SUMMARY: .*\)/\1/p' "$work/narrow.vg")"
    echo "ok: the program's own uninitialised read is reported with h3q.supp on"
    ;;
*)
    echo "usage: see the comment at the top of $0" >&2
    exit 2
    ;;
esac
if [ -n "$pid" ]; then
    stop_server server 60
    echo "ok: the server exits 0 on SIGINT"
fi
echo "PASS"
