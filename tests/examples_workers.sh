#!/bin/sh
# h3q-server --workers 2 (CTest: examples_workers_<case>).
#
#   examples_workers.sh H3Q_SERVER H3Q_CLIENT PYTHON GTLSCLIENT WORK CASE
#
# Cases:
#   spread            100 connections (h3q-client processes, 10 at a time, GET /1000 checked
#                     by SHA-256) all succeed, and the kernel spreads them over both workers
#                     (each accepted at least 20, read from the SIGUSR1 report of every
#                     worker); the exit summary (-v) says the same.
#   migration_ebpf    the eBPF program steers (skipped, exit 77, when the kernel refuses
#                     it): ROUNDS clients (default 6) each move to a new socket after 1 MB of
#                     a 5 MB download (h3q-client --rebind-after) and complete it, SHA-256
#                     checked; no datagram had to be handed over between the workers (the
#                     program sent every one to its owner's socket) and the program counts
#                     the datagrams it steered. (Each new address hashes to the other worker
#                     half of the time, where only the program's steering gets the datagrams
#                     to their owner: with 6 rounds, 63 runs in 64 put it to the test; the
#                     handoff case shows the same migrations do reach the wrong worker
#                     without it.)
#   migration_handoff the same with --steering handoff: the new address hashes to either
#                     worker, so rounds go on (ROUNDS at least, 12 at most) until one landed
#                     on the other worker and was handed over (1 in 4,096 that none did);
#                     every download completes.
#   drain             SIGTERM while 6 clients download 4 bodies of 2 MB each (their
#                     connections on either worker, both in 31 runs of 32): both workers
#                     drain, every download completes (SHA-256), no request is aborted, the
#                     server exits 0; a client arriving during the drain gets GOAWAY.
#   gtlsclient        ngtcp2's gtlsclient: 10 GETs (a connection each), then a 20 MB
#                     download moving to a new local address (--change-local-addr) and one
#                     through a simulated NAT rebinding (--nat-rebinding), bodies compared;
#                     skipped, exit 77, without gtlsclient.
#   aioquic           aioquic's client (PYTHON with aioquic): 10 connections with 3 GETs
#                     each, SHA-256 checked; skipped, exit 77, without aioquic.
#
# H3Q_WORKERS_MIGRATION_ROUNDS=N sets ROUNDS (e.g. 20 for the 20-out-of-20 figure).
set -u
server=$1
client=$2
python=$3
gtlsclient=$4
work=$5
case=$6
ROUNDS=${H3Q_WORKERS_MIGRATION_ROUNDS:-6}

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work"

# worker_counts FILE: "accepted out in dropped" per worker, one line each, from the -v exit
# summary in FILE.
worker_counts() {
    sed -n 's/^worker \([0-9]*\): \([0-9]*\) connection(s) accepted, handoffs \([0-9]*\) out, \([0-9]*\) in, \([0-9]*\) dropped$/\2 \3 \4 \5/p' "$1"
}
# total COLUMN FILE: the sum of a column of worker_counts.
total() { worker_counts "$2" | awk -v c="$1" '{ s += $c } END { print s + 0 }'; }

# migrations N: N downloads of 5 MB, each client moving to a new socket after 1 MB.
migrations() {
    want=$(generated_sha256 5000000)
    r=0
    while [ $r -lt "$1" ]; do
        r=$((r + 1))
        timeout 60 "$client" --insecure -v --sha256 --rebind-after 1000000 \
            "https://127.0.0.1:$port/5000000" >"$work/moved$r.out" 2>"$work/moved$r.err" ||
            fail "migrating client $r failed"
        grep -q "rebound after" "$work/moved$r.err" || fail "client $r did not rebind"
        grep -q "^200 5000000 bytes /5000000 sha256=$want" "$work/moved$r.out" ||
            fail "client $r: wrong body"
    done
}

case $case in
spread)
    start_server server 10 "$server" --listen 127.0.0.1:0 --workers 2 -v
    want=$(generated_sha256 1000)
    i=0
    while [ $i -lt 100 ]; do
        batch=
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            i=$((i + 1))
            timeout 30 "$client" --insecure --sha256 "https://127.0.0.1:$port/1000" \
                >"$work/c$i.out" 2>&1 &
            batch="$batch $!"
        done
        for p in $batch; do wait "$p" || fail "a client failed (see $work/c*.out)"; done
    done
    ok=$(cat "$work"/c*.out | grep -c "^200 1000 bytes /1000 sha256=$want")
    [ "$ok" = 100 ] || fail "$ok of 100 responses right"
    kill -USR1 "$pid"
    wait_lines "$work/server.err" '^h3q-server: worker [01]: ' 2 5
    for w in 0 1; do
        n=$(sed -n "s/^h3q-server: worker $w: .* \([0-9]*\) accepted,.*/\1/p" "$work/server.err")
        echo "worker $w: ${n:-?} of the 100 connections"
        [ "${n:-0}" -ge 20 ] || fail "worker $w accepted ${n:-no} connections, fewer than 20"
    done
    stop_server server 10
    [ "$(total 1 "$work/server.err")" = 100 ] || fail "the exit summary does not count 100"
    ;;
migration_ebpf)
    start_server server 10 "$server" --listen 127.0.0.1:0 --workers 2 -v
    if grep -q "eBPF steering off" "$work/server.err"; then
        echo "SKIPPED: $(grep 'eBPF steering off' "$work/server.err")"
        exit 77
    fi
    grep -q "eBPF steering on" "$work/server.err" || fail "no word of the eBPF steering"
    migrations "$ROUNDS"
    stop_server server 10
    worker_counts "$work/server.err"
    out=$(total 2 "$work/server.err")
    steered=$(sed -n 's/^steering: eBPF, \([0-9]*\) datagram.*/\1/p' "$work/server.err")
    echo "$ROUNDS migrations: $out datagram(s) handed over, ${steered:-?} steered by eBPF"
    [ "$out" = 0 ] || fail "$out datagrams reached the wrong worker despite the eBPF program"
    [ "${steered:-0}" -gt 0 ] || fail "the eBPF program steered nothing"
    ;;
migration_handoff)
    start_server server 10 "$server" --listen 127.0.0.1:0 --workers 2 --steering handoff -v
    rounds=0
    while :; do
        migrations 1
        rounds=$((rounds + 1))
        kill -USR1 "$pid"
        wait_lines "$work/server.err" '^h3q-server: worker 1: ' "$rounds" 5
        out=$(sed -n 's/^h3q-server: worker [01]: .*handoffs \([0-9]*\) out.*/\1/p' \
            "$work/server.err" | tail -n 2 | awk '{ s += $1 } END { print s + 0 }')
        [ $rounds -ge "$ROUNDS" ] || continue
        [ "$out" -gt 0 ] && break
        [ $rounds -lt 12 ] || fail "$rounds migrations, none handed over: the handoff is untested"
    done
    stop_server server 10
    worker_counts "$work/server.err"
    [ "$(total 4 "$work/server.err")" = 0 ] || fail "datagrams dropped (queue full)"
    [ "$(total 2 "$work/server.err")" = "$(total 3 "$work/server.err")" ] ||
        fail "handed over and received differ"
    echo "$rounds migrations complete, $(total 2 "$work/server.err") datagram(s) handed over"
    ;;
drain)
    size=2000000
    start_server server 10 "$server" --listen 127.0.0.1:0 --workers 2 --drain-timeout 30 -v
    url="https://127.0.0.1:$port/$size"
    for k in 1 2 3 4 5 6; do
        start_bg "client$k" timeout 90 "$client" --insecure --parallel 4 --sha256 \
            --priority u=3,i "$url" "$url" "$url" "$url"
        eval "client_pid$k=\$bgpid"
    done
    wait_lines "$work/server.err" ": GET /$size \\(stream " 24 30
    kill -TERM "$pid"
    n=$(cat "$work"/client*.out | grep -c '^200 ')
    [ "$n" -lt 24 ] || fail "all downloads were complete when the signal was sent"
    wait_lines "$work/server.err" "^h3q-server: signal 15: draining .*\\[worker [01]\\]" 2 10
    grep "signal 15: draining" "$work/server.err"
    # A client arriving during the drain: whichever worker gets it answers with GOAWAY (a
    # worker done draining has left the SO_REUSEPORT group).
    "$client" --insecure -v "https://127.0.0.1:$port/1000" >"$work/late.out" 2>"$work/late.err"
    late=$?
    [ "$late" = 1 ] || fail "the client arriving during the drain exited $late, not 1"
    grep -q "^FAILED /1000: rejected by the server's GOAWAY" "$work/late.out" ||
        fail "the late client did not report the GOAWAY"
    wait_exit "$pid" server 30
    pid=
    [ "$status" = 0 ] || fail "the server exited $status after SIGTERM"
    want=$(generated_sha256 $size)
    for k in 1 2 3 4 5 6; do
        eval "wait_exit \$client_pid$k client$k 30"
        [ "$status" = 0 ] || fail "client $k exited $status"
    done
    n=$(cat "$work"/client*.out | grep -c "^200 $size bytes /$size sha256=$want")
    [ "$n" = 24 ] || fail "$n of 24 downloads complete and right"
    grep -q ' ms (' "$work/server.out" && fail "an aborted request: $(grep ' ms (' "$work/server.out")"
    worker_counts "$work/server.err"
    echo "ok: both workers drained, 24 downloads complete, exit 0"
    ;;
gtlsclient)
    if [ ! -x "$gtlsclient" ]; then
        echo "SKIPPED: gtlsclient not found (apt-get install ngtcp2-client)"
        exit 77
    fi
    start_server server 10 "$server" --listen 127.0.0.1:0 --workers 2 -v
    i=0
    while [ $i -lt 10 ]; do
        i=$((i + 1))
        rm -rf "$work/download"
        mkdir -p "$work/download"
        timeout 30 "$gtlsclient" --quiet --exit-on-all-streams-close \
            --download="$work/download" 127.0.0.1 "$port" "https://127.0.0.1:$port/100000" \
            >"$work/gtlsclient.out" 2>&1 || fail "gtlsclient run $i failed"
        [ "$(sha256sum <"$work/download/100000" | cut -d' ' -f1)" = \
            "$(generated_sha256 100000)" ] || fail "gtlsclient run $i: wrong body"
    done
    for how in --change-local-addr=100ms --nat-rebinding; do
        rm -rf "$work/download"
        mkdir -p "$work/download"
        timeout 60 "$gtlsclient" --quiet --exit-on-all-streams-close "$how" \
            --download="$work/download" 127.0.0.1 "$port" "https://127.0.0.1:$port/20000000" \
            >"$work/gtlsclient.out" 2>&1 || fail "gtlsclient $how failed"
        [ "$(sha256sum <"$work/download/20000000" | cut -d' ' -f1)" = \
            "$(generated_sha256 20000000)" ] || fail "gtlsclient $how: wrong body"
        echo "ok: gtlsclient $how: 20000000 bytes intact"
    done
    stop_server server 10
    worker_counts "$work/server.err"
    [ "$(total 1 "$work/server.err")" = 12 ] || fail "not 12 connections in the summary"
    ;;
aioquic)
    if [ -z "$python" ] || [ "$python" = none ] || ! "$python" -c 'import aioquic' 2>/dev/null
    then
        echo "SKIPPED: no Python with aioquic (scripts/test.sh installs it into build/venv)"
        exit 77
    fi
    start_server server 10 "$server" --listen 127.0.0.1:0 --workers 2 -v
    url="https://127.0.0.1:$port"
    i=0
    while [ $i -lt 10 ]; do
        i=$((i + 1))
        timeout 60 "$python" "$(dirname "$0")/interop/aioquic_client.py" --insecure \
            --output "$work/out$i" "$url/1000" "$url/200000" "$url/style.css" \
            >"$work/aioquic$i.out" 2>"$work/aioquic$i.err" || fail "aioquic run $i failed"
        for n in 1000 200000; do
            [ "$(sha256sum <"$work/out$i/$n" | cut -d' ' -f1)" = "$(generated_sha256 $n)" ] ||
                fail "aioquic run $i: /$n wrong"
        done
    done
    stop_server server 10
    worker_counts "$work/server.err"
    [ "$(total 1 "$work/server.err")" = 10 ] || fail "not 10 connections in the summary"
    ;;
*)
    fail "unknown case $case"
    ;;
esac
echo "PASS: $case"
