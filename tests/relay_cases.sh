#!/bin/sh
# h3q-server and h3q-client through a fault-injecting UDP relay (CTest: relay_<CASE>).
#
#   relay_cases.sh H3Q_SERVER H3Q_CLIENT PYTHON WORK_DIR CASE
#
# h3q-server on an ephemeral 127.0.0.1 port, tools/faultrelay.py in front of it with the
# CASE's faults and a fixed seed (SEED below: the n-th datagram of each direction meets
# the same fate in every run), and h3q-client --sha256 through the relay. Every body must
# come back whole (its SHA-256 against the server's generated pattern, or against the
# uploaded file for POST /echo), the relay must exit 0 on SIGTERM and the server 0 on
# SIGINT. The relay's counters are printed, and the case fails when they show that its
# fault did not strike (a loss case with nothing lost ...), so no case passes vacuously.
#
# CASE         relay faults (both directions)              transfer
# clean        none: every datagram relayed, none dropped   GET 1000, 300000, 3000000
# loss1        --loss 0.01                                  GET 1000, 300000, 2000000
# loss5        --loss 0.05                                  GET 1000, 300000, 2000000
# loss15       --loss 0.15                                  GET 1000, 300000, 1000000
# dup10        --dup 0.1                                    GET 1000, 300000, 2000000
# corrupt2     --corrupt 0.02                               GET 1000, 300000, 2000000
# rate         --rate 50 --delay 100 --queue-packets 900    GET 1000, 3000000
#              (RTT 200 ms; 900 datagrams ~ one BDP, 1.25 MB): at least the
#              serialisation time and 2 RTTs, and a queue that did build up
# blackhole    --rate 20 --blackhole 1:3 (the rate keeps    GET 6000000
#              the download going past 1 s): it must have
#              started before the blackhole and resume after
# rebind       --rebind-at 1000000 (new source port after   GET 1000, 4000000
#              1 MB sent down): the server must follow
# upload_loss5 --loss 0.05                                  POST /echo 1000000 bytes
#
# PYTHON is a Python 3 interpreter (standard library only); when it is empty, "none" or
# does not run, the test prints SKIPPED and exits 77.
set -u
server=$1
client=$2
python=$3
work=$4
case=$5
SEED=21
relay="$(dirname "$0")/../tools/faultrelay.py"

. "$(dirname "$0")/example_helpers.sh"

need_python3 "$python" tools/faultrelay.py

# The case table: the relay's faults, the sizes to GET (or UPLOAD, bytes POSTed to
# /echo), the client's time limit, and the counters (DIRECTION:NAME) that must not be 0.
sizes="1000 300000 2000000" upload= limit=60 faults= must=
case $case in
clean) sizes="1000 300000 3000000" ;;
loss1) faults="--loss 0.01" must="down:lost" ;;
loss5) faults="--loss 0.05" must="up:lost down:lost" ;;
loss15) faults="--loss 0.15" sizes="1000 300000 1000000" must="up:lost down:lost" ;;
dup10) faults="--dup 0.1" must="up:dup down:dup" ;;
corrupt2) faults="--corrupt 0.02" must="down:corrupt" ;;
rate)
    faults="--rate 50 --delay 100 --queue-packets 900" sizes="1000 3000000"
    must="down:queued"
    ;;
blackhole)
    faults="--rate 20 --queue-packets 200 --blackhole 1:3" sizes=6000000
    # Only the download direction is sure to meet the blackhole: the client sends only
    # acknowledgements by then, and once nothing reaches it, it may have none to send in
    # the window (a CI run saw up:blackholed = 0 with the download cut for 4.5 s).
    must="down:blackholed"
    ;;
rebind) faults="--rebind-at 1000000" sizes="1000 10000000" must="relay:rebinds" ;;
upload_loss5) faults="--loss 0.05" sizes= upload=1000000 must="up:lost down:lost" ;;
*)
    echo "unknown case '$case'" >&2
    exit 2
    ;;
esac

rm -rf "$work"
mkdir -p "$work"
pid=
# --drain-timeout 3: if the client's last datagrams (its final ACKs, CONNECTION_CLOSE) were
# lost, the server's drain waits for acknowledgements that never come; 3 s bound that.
start_server server 10 "$server" --listen 127.0.0.1:0 --drain-timeout 3 -v
server_pid=$pid server_port=$port
bg_pids="$bg_pids $server_pid" # killed on exit like the rest
# shellcheck disable=SC2086 # $faults is a list of options
start_server relay 10 "$python" "$relay" --upstream "127.0.0.1:$server_port" --seed $SEED \
    --stats-file "$work/relay.json" --progress 1 $faults
relay_pid=$pid
url="https://127.0.0.1:$port"
echo "case $case: server on port $server_port, relay on port $port (${faults:-no faults}," \
    "seed $SEED)"

# The requests and the result lines they must give.
set --
: >"$work/expected"
if [ -n "$upload" ]; then
    head -c "$upload" /dev/urandom >"$work/upload.bin"
    sum=$(sha256sum "$work/upload.bin" | cut -d' ' -f1)
    set -- --data "$work/upload.bin" "$url/echo"
    echo "200 $upload bytes /echo sha256=$sum" >>"$work/expected"
fi
for n in $sizes; do
    set -- "$@" "$url/$n"
    echo "200 $n bytes /$n sha256=$(generated_sha256 "$n")" >>"$work/expected"
done
total=$(wc -l <"$work/expected" | tr -d ' ')

start_ms=$(now_ms)
timeout $limit "$client" --insecure --sha256 -v --parallel "$total" "$@" \
    >"$work/client.out" 2>"$work/client.err"
status=$?
took=$(($(now_ms) - start_ms))
[ "$status" = 0 ] || fail "the client exited $status after $took ms (124: the $limit s limit)"
while read -r line; do
    grep -qxF "$line" "$work/client.out" || fail "no result line '$line'"
done <"$work/expected"
echo "ok: $total request(s) complete in $took ms, every body right:" \
    "$(grep ' requests (' "$work/client.out")"

# The relay's counters: SIGTERM, exit 0, then one line per direction and 'relay:'. First
# half a second for it to deliver what it still holds (delays, the rate queue), the
# client's CONNECTION_CLOSE among it.
sleep 0.5
kill -TERM "$relay_pid"
wait_exit "$relay_pid" relay 10
[ "$status" = 0 ] || fail "the relay exited $status after SIGTERM"
pid=$server_pid
grep -E '^(up|down|relay): ' "$work/relay.out" | sed 's/^/  /'
grep -E 'blackhole|rebind' "$work/relay.err" | sed 's/^/  /'

for c in $must; do
    [ "$(relay_counter "${c%%:*}" "${c#*:}")" -gt 0 ] ||
        fail "the relay's counter ${c%%:*} ${c#*:} is 0: the fault did not strike"
done

case $case in
clean)
    for d in up down; do
        [ "$(relay_counter $d in)" = "$(relay_counter $d out)" ] || fail "clean: $d: in != out"
        for c in lost queue_drop blackholed dup corrupt held reordered; do
            [ "$(relay_counter $d $c)" = 0 ] || fail "clean: $d $c is not 0"
        done
        # ECN end to end: both programs read the codepoints (IP_RECVTOS) and report them
        # in their ACKs, so both keep marking ECT(0) after validation; a side that
        # failed validation would have stopped after its first datagrams.
        ect=$(relay_counter $d ect) in=$(relay_counter $d in)
        [ $((ect * 100)) -ge $((in * 95)) ] || fail "clean: $d: only $ect of $in ECN-capable"
        echo "ok: $d: $ect of $in datagrams ECN-capable"
    done
    ;;
rate)
    # 3 MB at 50 Mbit/s take 480 ms on the wire; with 2 RTTs (handshake, request) of
    # 200 ms first, less than 880 ms means the relay did not limit or delay.
    [ "$took" -ge 880 ] || fail "rate: done in $took ms, faster than 50 Mbit/s allows"
    echo "ok: the rate queue reached $(relay_counter down queue_max) datagrams"
    ;;
blackhole)
    # When the blackhole began, the download had started and was not over.
    at=$(sed -n 's/^faultrelay: blackhole starts (down) at .*, down \([0-9]*\) bytes sent$/\1/p' \
        "$work/relay.err")
    [ -n "$at" ] || fail "blackhole: the relay logged no start in the down direction"
    [ "$at" -gt 100000 ] && [ "$at" -lt $((sizes / 2)) ] ||
        fail "blackhole: $at bytes had been sent down at its start: not mid-download"
    grep -q '^faultrelay: blackhole ends (down)' "$work/relay.err" ||
        fail "blackhole: nothing went down after it"
    [ "$took" -ge 3000 ] || fail "blackhole: done in $took ms, under the 3 s blackhole"
    echo "ok: the download was under way ($at bytes down) when the 3 s blackhole began"
    ;;
rebind)
    # The server sent most of the body to the new port: it followed the client's move.
    rebound=$(relay_counter relay rebound_bytes)
    [ "$rebound" -gt 2000000 ] ||
        fail "rebind: only $rebound bytes came to the new port: the server did not follow"
    echo "ok: $rebound bytes reached the client through its new port"
    ;;
esac

stop_server server 10
echo "PASS ($case, $took ms of transfer)"
