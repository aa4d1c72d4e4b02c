#!/usr/bin/env python3
"""An HTTP/3 client on niquests (PyPI; urllib3-future over qh3), with a command line like
h3q's example client and tests/interop/aioquic_client.py.

    niquests_client.py [--ca FILE | --insecure] [--data FILE] [--output DIR]
                       [--parallel N] [--timeout S] [-v] URL...

HTTP/3 only (HTTP/1.1 and HTTP/2 disabled, so QUIC is tried first and alone), one Session
holding at most one connection per host. Without --data each URL is a GET; with --data
FILE each is a POST of that file's bytes. --parallel N > 1 uses niquests' multiplexed mode:
up to N requests are sent on the one connection before any response is read (each
Response is lazy until Session.gather()); --parallel 1 sends them one after the other.
--ca FILE trusts that PEM CA bundle (niquests' verify=FILE); --insecure verifies nothing.
--output DIR writes each body to DIR/<last path segment> ("index.html" for "/"),
otherwise bodies go to stdout.

For every response, one line on stderr:
    <status> <bytes> sha256=<hex> <http version> <url>
and at the end (also on stderr):
    <N> requests, at most <M> in flight at once, <F> failed
(M counts the responses still lazy, that is not yet read, once a batch was sent.) Exits 0
when every request got a 2xx response over HTTP/3, 1 otherwise (also on a connection
failure or the timeout).
"""

import argparse
import hashlib
import os
import sys
import time
import warnings
from urllib.parse import urlsplit

import niquests


def output_name(url):
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return name or "index.html"


def report(args, url, r):
    """Prints the response's line and stores its body; True if it is a 2xx over HTTP/3."""
    body = r.content or b""
    version = {30: "HTTP/3", 20: "HTTP/2", 11: "HTTP/1.1"}.get(r.http_version,
                                                               f"HTTP/{r.http_version}")
    print(f"{r.status_code} {len(body)} sha256={hashlib.sha256(body).hexdigest()} {version} "
          f"{url}", file=sys.stderr, flush=True)
    if args.output:
        with open(os.path.join(args.output, output_name(url)), "wb") as f:
            f.write(body)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    return 200 <= r.status_code < 300 and r.http_version == 30


def run(args):
    body = None
    if args.data:
        with open(args.data, "rb") as f:
            body = f.read()
    method = "POST" if body is not None else "GET"
    verify = False if args.insecure else (args.ca or True)
    multiplexed = args.parallel > 1
    failures = 0
    most_in_flight = 0
    deadline = time.monotonic() + args.timeout
    with niquests.Session(disable_http1=True, disable_http2=True, multiplexed=multiplexed,
                          pool_connections=1, pool_maxsize=1) as session:
        for start in range(0, len(args.urls), max(1, args.parallel)):
            batch = args.urls[start:start + max(1, args.parallel)]
            left = max(1.0, deadline - time.monotonic())
            sent = []
            for url in batch:
                try:
                    r = session.request(method, url, data=body, verify=verify, timeout=left)
                except niquests.exceptions.RequestException as e:
                    failures += 1
                    print(f"ERR {type(e).__name__}: {e} {url}", file=sys.stderr, flush=True)
                    continue
                sent.append((url, r))
            if multiplexed:
                most_in_flight = max(most_in_flight, sum(1 for _, r in sent if r.lazy))
                session.gather()
            else:
                most_in_flight = max(most_in_flight, 1 if sent else 0)
            for url, r in sent:
                try:
                    ok = report(args, url, r)
                except niquests.exceptions.RequestException as e:
                    ok = False
                    print(f"ERR {type(e).__name__}: {e} {url}", file=sys.stderr, flush=True)
                failures += 0 if ok else 1
    print(f"{len(args.urls)} requests, at most {most_in_flight} in flight at once, "
          f"{failures} failed", file=sys.stderr, flush=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ca", help="PEM file of trusted CA certificates")
    group.add_argument("--insecure", action="store_true",
                       help="accept any server certificate")
    parser.add_argument("--data", help="POST this file's bytes to each URL")
    parser.add_argument("--output", help="write bodies to this directory")
    parser.add_argument("--parallel", type=int, default=1, help="requests in flight")
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request limit, s")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("urls", nargs="+", metavar="URL")
    args = parser.parse_args()
    if args.output:
        os.makedirs(args.output, exist_ok=True)
    if args.insecure:
        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    start = time.monotonic()
    try:
        failures = run(args)
    except (niquests.exceptions.RequestException, OSError) as e:
        print(f"niquests_client: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if args.verbose:
        print(f"{len(args.urls)} requests in {time.monotonic() - start:.3f} s "
              f"(niquests {niquests.__version__})", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
