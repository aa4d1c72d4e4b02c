#!/bin/sh
# Client certificates (mutual TLS) against `h3q-server --client-ca` (CTest:
# examples_client_auth).
#
#   examples_client_auth.sh H3Q_SERVER H3Q_CLIENT PYTHON GTLSCLIENT WORK
#
# openssl makes a CA, a client certificate it signs, and one from another CA. The server
# requires a certificate from the first CA. h3q-client, aioquic's client
# (tests/interop/aioquic_client.py --cert) and ngtcp2's gtlsclient (--cert/--key) each get
# their response with the good certificate; the server's -v log names it by its SHA-256
# fingerprint (the client's DER certificate, as `openssl x509 -outform DER` gives it).
# h3q-client without a certificate and with the stranger's fails with a TLS alert. With
# `--client-auth request`, h3q-client without a certificate is served.
#
# aioquic's and gtlsclient's steps are skipped (with a note) when they are missing, the
# whole test (exit 77) without openssl.
set -u
server=$1
client=$2
python=$3
gtlsclient=$4
work=$5

. "$(dirname "$0")/example_helpers.sh"
command -v openssl >/dev/null 2>&1 || { echo "SKIPPED: openssl not found"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
pki() { # NAME: a CA NAME-ca.pem and a client certificate NAME.pem / NAME.key it signed
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$1 CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign -keyout "$work/$1-ca.key" \
        -out "$work/$1-ca.pem" >/dev/null 2>&1 || fail "openssl: $1 CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1 client" \
        -keyout "$work/$1.key" -out "$work/$1.csr" >/dev/null 2>&1 || fail "openssl: $1 CSR"
    printf 'extendedKeyUsage=clientAuth\n' >"$work/ext"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/$1-ca.pem" -CAkey "$work/$1-ca.key" \
        -CAcreateserial -days 2 -extfile "$work/ext" -out "$work/$1.pem" >/dev/null 2>&1 ||
        fail "openssl: $1 certificate"
}
pki good
pki stranger
fingerprint=$(openssl x509 -in "$work/good.pem" -outform DER | sha256sum | cut -d' ' -f1)

start_server server 10 "$server" --listen 127.0.0.1:0 --client-ca "$work/good-ca.pem" -v
url="https://127.0.0.1:$port/1000"
timeout 30 "$client" --insecure --cert "$work/good.pem" --key "$work/good.key" "$url" \
    >"$work/good.out" 2>&1 || fail "h3q-client with the good certificate failed"
wait_lines "$work/server.err" "client certificate sha256=$fingerprint" 1 5
echo "ok: h3q-client's certificate accepted, fingerprint $fingerprint"
for who in none stranger; do
    args=
    [ $who = stranger ] && args="--cert $work/stranger.pem --key $work/stranger.key"
    # shellcheck disable=SC2086
    if timeout 30 "$client" --insecure $args "$url" >"$work/$who.out" 2>&1; then
        fail "h3q-client with certificate '$who' was served"
    fi
    grep -q "FAILED /1000" "$work/$who.out" || fail "no FAILED line for '$who'"
    echo "ok: h3q-client refused with certificate '$who': $(grep FAILED "$work/$who.out")"
done

if [ -n "$python" ] && [ "$python" != none ] && "$python" -c 'import aioquic' 2>/dev/null; then
    "$python" "$(dirname "$0")/interop/aioquic_client.py" --insecure --cert "$work/good.pem" \
        --key "$work/good.key" "https://127.0.0.1:$port/2000" >"$work/aioquic.out" 2>&1 ||
        fail "aioquic's client with the good certificate failed"
    wait_lines "$work/server.out" 'GET /2000 200 2000 ' 1 5
    echo "ok: aioquic's client presented its certificate"
else
    echo "note: no Python with aioquic: aioquic's client not tried"
fi
if [ -x "$gtlsclient" ]; then
    timeout 30 "$gtlsclient" --quiet --exit-on-all-streams-close --cert="$work/good.pem" \
        --key="$work/good.key" 127.0.0.1 "$port" "https://127.0.0.1:$port/3000" \
        >"$work/gtlsclient.out" 2>&1 || fail "gtlsclient with the good certificate failed"
    wait_lines "$work/server.out" 'GET /3000 200 3000 ' 1 5
    echo "ok: gtlsclient presented its certificate"
else
    echo "note: gtlsclient not found: not tried"
fi
stop_server server 10

start_server server 10 "$server" --listen 127.0.0.1:0 --client-ca "$work/good-ca.pem" \
    --client-auth request
timeout 30 "$client" --insecure "https://127.0.0.1:$port/1000" >"$work/optional.out" 2>&1 ||
    fail "--client-auth request refused a client without a certificate"
echo "ok: --client-auth request serves a client without a certificate"
echo PASS
