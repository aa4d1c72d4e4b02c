#!/bin/sh
# h3q-server's files under --root (CTest: examples_files).
#
#   examples_files.sh H3Q_SERVER H3Q_CLIENT WORK_DIR
#
# Small files come from the server's file cache (examples/server/file_cache.h), larger ones
# are read for each request. Checks, with h3q-client --sha256: a small file and a 3 MiB one
# arrive whole; ".." and directories give 404; a small file rewritten in place (same size)
# and replaced by a larger one are served new within 2 s (the cache checks at most once a
# second); a deleted one gives 404 within 2 s; a file that grows past the cache's limit is
# still served whole.
set -u
server=$1
client=$2
work=$3

. "$(dirname "$0")/example_helpers.sh"

rm -rf "$work"
mkdir -p "$work/root/sub" "$work/out"
head -c 1000 /dev/urandom >"$work/root/small.bin"
head -c 3145728 /dev/urandom >"$work/root/big.bin"
pid=
start_server server 10 "$server" --listen 127.0.0.1:0 --root "$work/root"
url="https://127.0.0.1:$port"

sha() { sha256sum "$1" | cut -d' ' -f1; }
# fetch PATH: h3q-client's result line for it (its first line; the summary follows)
fetch() {
    timeout 30 "$client" --insecure --sha256 --output "$work/out" "$url$1" \
        2>"$work/client.err" | head -n 1
}
# expect PATH FILE: PATH is served with FILE's bytes
expect() {
    line=$(fetch "$1")
    [ "$line" = "200 $(wc -c <"$2" | tr -d ' ') bytes $1 sha256=$(sha "$2")" ] ||
        fail "$1: got '$line', expected the bytes of $2"
}
# expect_within PATH FILE SECONDS: the same, retried until SECONDS have passed
expect_within() {
    want="200 $(wc -c <"$2" | tr -d ' ') bytes $1 sha256=$(sha "$2")"
    i=0
    until [ "$(fetch "$1")" = "$want" ]; do
        i=$((i + 1))
        [ $i -le $(($3 * 5)) ] || fail "$1: not served as $2 within $3 s"
        sleep 0.2
    done
}
# expect_404 PATH
expect_404() {
    fetch "$1" >"$work/404.out"
    grep -q "^FAILED $1: status is not 2xx (status 404" "$work/404.out" ||
        fail "$1: not a 404: $(cat "$work/404.out")"
}

expect /small.bin "$work/root/small.bin"
expect /small.bin "$work/root/small.bin"
expect /big.bin "$work/root/big.bin"
echo "ok: a small (cached) and a 3 MiB file arrive whole"

expect_404 /sub
expect_404 /../examples_files.sh
expect_404 /sub/../small.bin
expect_404 /no-such.bin
echo "ok: a directory, '..' and a missing file give 404"

# Rewritten in place, same size: a new modification time (the cache compares inode, size
# and time; a filesystem with coarse timestamps needs the pause to see a new one).
sleep 1.1
head -c 1000 /dev/urandom >"$work/new-small.bin"
cat "$work/new-small.bin" >"$work/root/small.bin"
expect_within /small.bin "$work/new-small.bin" 2
# Replaced by a larger file (a new inode, as an editor or a deployment does).
head -c 5000 /dev/urandom >"$work/root/small.bin.tmp"
mv "$work/root/small.bin.tmp" "$work/root/small.bin"
expect_within /small.bin "$work/root/small.bin" 2
echo "ok: a rewritten and a replaced file are served new within 2 s"

# Grown past the cache's limit (1 MiB): read for each request from then on.
head -c 2000000 /dev/urandom >"$work/root/small.bin.tmp"
mv "$work/root/small.bin.tmp" "$work/root/small.bin"
expect_within /small.bin "$work/root/small.bin" 2
rm "$work/root/small.bin"
i=0
until fetch /small.bin | grep -q "^FAILED /small.bin: status is not 2xx (status 404"; do
    i=$((i + 1))
    [ $i -le 10 ] || fail "/small.bin: still served 2 s after it was deleted"
    sleep 0.2
done
echo "ok: a file grown past the cache's limit is served whole; a deleted one gives 404"

stop_server server 10
echo PASS
