#!/usr/bin/env python3
"""An HTTP/3 client on aioquic (PyPI), with a command line like h3q's example client.

    aioquic_client.py [--ca FILE | --insecure] [--cert FILE --key FILE] [--data FILE]
                      [--output DIR] [--include]
                      [--parallel N] [--timeout S] [-v] URL...

All URLs go to the first URL's host and port, over one QUIC connection. Without --data each
URL is a GET; with --data FILE each is a POST of that file's bytes. --parallel N keeps up to
N requests in flight (default 1: one after the other). --output DIR writes each response
body to DIR/<last path segment> ("index.html" for "/"); otherwise bodies go to stdout.
--include writes the response headers before a body (stdout only).

For every response, one line on stderr:
    <status> <bytes> sha256=<hex> <url>
Exits 0 when every request got a 2xx response, 1 otherwise (also on a connection failure
or the timeout).

Written on aioquic's public API: QuicConfiguration, asyncio connect() and
QuicConnectionProtocol, h3 H3Connection and its HeadersReceived / DataReceived events.
"""

import argparse
import asyncio
import hashlib
import os
import ssl
import sys
import time
from urllib.parse import urlsplit

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated


class Response:
    def __init__(self):
        self.headers = []
        self.sha = hashlib.sha256()
        self.size = 0
        self.chunks = []
        self.done = asyncio.get_running_loop().create_future()

    @property
    def status(self):
        for k, v in self.headers:
            if k == b":status":
                return int(v)
        return 0


class H3ClientProtocol(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._h3 = H3Connection(self._quic)
        self._responses = {}
        self.keep_bodies = True

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated):
            for r in self._responses.values():
                if not r.done.done():
                    r.done.set_exception(ConnectionError(
                        f"connection terminated: error 0x{event.error_code:x} "
                        f"{event.reason_phrase!r}"))
            return
        for ev in self._h3.handle_event(event):
            if getattr(ev, "push_id", None) is not None:
                continue  # pushed responses are not what was asked for
            r = self._responses.get(getattr(ev, "stream_id", None))
            if r is None:
                continue
            if isinstance(ev, HeadersReceived):
                if not r.headers:
                    r.headers = ev.headers
            elif isinstance(ev, DataReceived):
                r.sha.update(ev.data)
                r.size += len(ev.data)
                if self.keep_bodies:
                    r.chunks.append(ev.data)
            if getattr(ev, "stream_ended", False) and not r.done.done():
                r.done.set_result(r)

    async def request(self, method, url, body=None):
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        stream_id = self._quic.get_next_available_stream_id()
        headers = [(b":method", method), (b":scheme", b"https"),
                   (b":authority", parts.netloc.encode()), (b":path", path.encode()),
                   (b"user-agent", b"aioquic-interop-client")]
        if body is not None:
            headers.append((b"content-length", str(len(body)).encode()))
        r = Response()
        self._responses[stream_id] = r
        self._h3.send_headers(stream_id, headers, end_stream=body is None)
        if body is not None:
            self._h3.send_data(stream_id, body, end_stream=True)
        self.transmit()
        try:
            return await r.done
        finally:
            del self._responses[stream_id]


def output_name(url):
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return name or "index.html"


async def run(args):
    first = urlsplit(args.urls[0])
    host, port = first.hostname, first.port or 443
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, idle_timeout=30.0)
    config.max_data = 32 << 20
    config.max_stream_data = 16 << 20
    if args.insecure:
        config.verify_mode = ssl.CERT_NONE
    elif args.ca:
        config.load_verify_locations(cafile=args.ca)
    config.server_name = args.server_name or host
    if args.cert:
        config.load_cert_chain(args.cert, args.key)
    body = None
    if args.data:
        with open(args.data, "rb") as f:
            body = f.read()
    method = b"POST" if body is not None else b"GET"
    failures = 0
    sem = asyncio.Semaphore(max(1, args.parallel))

    async with connect(host, port, configuration=config,
                       create_protocol=H3ClientProtocol) as client:
        client.keep_bodies = True

        async def one(url):
            nonlocal failures
            async with sem:
                try:
                    r = await client.request(method, url, body)
                except Exception as e:  # noqa: BLE001 - reported per request
                    failures += 1
                    print(f"ERR {e} {url}", file=sys.stderr, flush=True)
                    return
            ok = 200 <= r.status < 300
            failures += 0 if ok else 1
            print(f"{r.status} {r.size} sha256={r.sha.hexdigest()} {url}", file=sys.stderr,
                  flush=True)
            if args.output:
                with open(os.path.join(args.output, output_name(url)), "wb") as f:
                    for chunk in r.chunks:
                        f.write(chunk)
            else:
                out = sys.stdout.buffer
                if args.include:
                    for k, v in r.headers:
                        out.write(k + b": " + v + b"\n")
                    out.write(b"\n")
                for chunk in r.chunks:
                    out.write(chunk)
                out.flush()
            r.chunks = []

        await asyncio.gather(*(one(url) for url in args.urls))
        client.close()
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ca", help="PEM file of trusted CA certificates")
    group.add_argument("--insecure", action="store_true",
                       help="accept any server certificate")
    parser.add_argument("--cert", help="a client certificate (PEM) to present")
    parser.add_argument("--key", help="its private key (PEM)")
    parser.add_argument("--data", help="POST this file's bytes to each URL")
    parser.add_argument("--output", help="write bodies to this directory")
    parser.add_argument("--include", action="store_true", help="print response headers")
    parser.add_argument("--parallel", type=int, default=1, help="requests in flight")
    parser.add_argument("--server-name", help="TLS server name (default: the URL's host)")
    parser.add_argument("--timeout", type=float, default=120.0, help="overall limit, s")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("urls", nargs="+", metavar="URL")
    args = parser.parse_args()
    if args.output:
        os.makedirs(args.output, exist_ok=True)
    start = time.monotonic()
    try:
        failures = asyncio.run(asyncio.wait_for(run(args), args.timeout))
    except (asyncio.TimeoutError, ConnectionError, OSError) as e:
        print(f"aioquic_client: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if args.verbose:
        print(f"{len(args.urls)} requests in {time.monotonic() - start:.3f} s, "
              f"{failures} failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
