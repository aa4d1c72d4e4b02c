#!/bin/sh
# Three h3q-servers behind a QUIC-LB forwarder (CTest: examples_load_balancer).
#
#   examples_load_balancer.sh H3Q_SERVER H3Q_CLIENT WORK
#
# Each server issues connection IDs carrying its server id (--server-id 01, 02, 03);
# tools/quic_lb_forwarder.py routes each client's first packets by its address hash and
# every later one by the server id in its destination CID. 300 connections (h3q-client
# processes, 10 at a time, each a GET of /1000 checked by SHA-256) must all succeed and be
# spread over all three servers (each at least 50); and a client that moves to a new
# socket mid-download (--rebind-after) must still reach its server through the forwarder
# and complete 5 MB intact. About 15 s.
#
# Skipped (exit 77) without Python 3.
set -u
server=$1
client=$2
work=$3

. "$(dirname "$0")/example_helpers.sh"
python=$(command -v python3 || true)
[ -n "$python" ] || { echo "SKIPPED: no Python 3 for tools/quic_lb_forwarder.py"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
servers=
for id in 01 02 03; do
    start_server "server$id" 10 "$server" --listen 127.0.0.1:0 --server-id "$id"
    servers="$servers --server $id=127.0.0.1:$port"
done
# shellcheck disable=SC2086
start_server forwarder 10 "$python" "$(dirname "$0")/../tools/quic_lb_forwarder.py" \
    $servers --stats-file "$work/forwarder.json"
forwarder_pid=$pid
url="https://127.0.0.1:$port"
want=$(generated_sha256 1000)

i=0
while [ $i -lt 300 ]; do
    batch=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        i=$((i + 1))
        timeout 30 "$client" --insecure --sha256 "$url/1000" >"$work/c$i.out" 2>&1 &
        batch="$batch $!"
    done
    for p in $batch; do
        wait "$p" || fail "a client failed (see $work/c*.out)"
    done
done
ok=$(cat "$work"/c*.out | grep -c "^200 1000 bytes /1000 sha256=$want")
[ "$ok" = 300 ] || fail "$ok of 300 responses right"
for id in 01 02 03; do
    n=$(grep -c 'GET /1000 200 1000 ' "$work/server$id.out")
    echo "server $id: $n of the 300 connections"
    [ "$n" -ge 50 ] || fail "server $id got $n connections, fewer than 50"
done

timeout 60 "$client" --insecure -v --sha256 --rebind-after 1000000 "$url/5000000" \
    >"$work/moved.out" 2>"$work/moved.err" || fail "the migrating client failed"
grep -q "rebound after" "$work/moved.err" || fail "the client did not rebind"
grep -q "^200 5000000 bytes /5000000 sha256=$(generated_sha256 5000000)" "$work/moved.out" ||
    fail "the migrated download is wrong"
owners=$(grep -l 'GET /5000000 200 5000000 ' "$work"/server0*.out | wc -l)
[ "$owners" = 1 ] || fail "the migrated download was served by $owners servers"
echo "ok: a client that moved to a new socket kept its server through the forwarder"

pid=$forwarder_pid
stop_server forwarder 10
tail -n 1 "$work/forwarder.out"
"$python" - "$work/forwarder.json" <<'PY' || fail "forwarder counters"
import json, sys
st = json.load(open(sys.argv[1]))
by_cid = sum(st["by_cid"].values())
print(f"routed by CID: {by_cid}, by address hash: {sum(st['by_hash'].values())}, "
      f"unknown ids: {st['unknown_ids']}")
# After their first flight, connections' packets route by the id their CID carries.
assert by_cid > 300 * 3, f"only {by_cid} datagrams routed by CID"
assert st["unknown_ids"] == 0, "a short-header CID named no server"
PY
echo PASS
