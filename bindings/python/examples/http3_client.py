#!/usr/bin/env python3
"""An HTTP/3 client on h3q.asyncio, written as aioquic's examples/http3_client.py is.

    http3_client.py [--ca-certs FILE | -k] [--output-dir DIR] [-d DATA] [--server-name NAME]
                    [--timeout S] [-v] URL...

Fetches the URLs (all of one host and port) over one connection, all at once: GET, or POST
of DATA with -d. For each response it prints one line on stdout,

    <status> <bytes> sha256=<hex> <url>

and with --output-dir writes the body to DIR/<last path segment> ("index.html" for "/").
--ca-certs trusts the CA certificates of a PEM file (default: the system's), -k/--insecure
does not verify the server's certificate. Exit status: 0 when every response was 2xx, 1
otherwise (or on a connection failure or the timeout), 2 on a usage error.

Ported from aioquic by changing the imports: the protocol subclasses
QuicConnectionProtocol, makes its own H3Connection over `self._quic`, and feeds it
every QUIC event in quic_event_received(), as aioquic's example does.
"""

import argparse
import asyncio
import hashlib
import os
import ssl
import sys
import time
from typing import Dict, Optional
from urllib.parse import urlsplit

from h3q import (
    H3_ALPN,
    DataReceived,
    H3Connection,
    HeadersReceived,
    QuicConfiguration,
    StreamReset,
)
from h3q.asyncio import QuicConnectionProtocol, connect
from h3q.quic_events import ConnectionTerminated, QuicEvent

USER_AGENT = "h3q-python-example"


class Response:
    """One request's response as it arrives: status, size, SHA-256, optional file."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path: Optional[str]):
        self.status: Optional[int] = None
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.file = open(path, "wb") if path else None
        self.done: "asyncio.Future[None]" = loop.create_future()

    def add(self, data: bytes) -> None:
        self.size += len(data)
        self.sha256.update(data)
        if self.file is not None:
            self.file.write(data)

    def finish(self, error: Optional[Exception] = None) -> None:
        if self.file is not None:
            self.file.close()
        if not self.done.done():
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)


class HttpClient(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._http = H3Connection(self._quic)
        self._responses: Dict[int, Response] = {}

    async def request(self, method: str, url: str, data: Optional[bytes],
                      output: Optional[str]) -> Response:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        stream_id = self._quic.get_next_available_stream_id()
        headers = [(b":method", method.encode()), (b":scheme", b"https"),
                   (b":authority", parts.netloc.encode()), (b":path", path.encode()),
                   (b"user-agent", USER_AGENT.encode())]
        if data is not None:
            headers.append((b"content-length", str(len(data)).encode()))
        response = Response(self._loop, output)
        self._responses[stream_id] = response
        self._http.send_headers(stream_id, headers, end_stream=data is None)
        if data is not None:
            self._http.send_data(stream_id, data, end_stream=True)
        self.transmit()
        await response.done
        return response

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ConnectionTerminated):
            for response in self._responses.values():
                response.finish(ConnectionError(
                    f"connection closed: 0x{event.error_code:x} {event.reason_phrase}"))
        for http_event in self._http.handle_event(event):
            response = self._responses.get(http_event.stream_id)
            if response is None:
                continue
            if isinstance(http_event, HeadersReceived):
                for name, value in http_event.headers:
                    if name == b":status":
                        response.status = int(value)
            elif isinstance(http_event, DataReceived):
                response.add(http_event.data)
            elif isinstance(http_event, StreamReset):
                response.finish(ConnectionError(
                    f"stream reset with 0x{http_event.error_code:x}"))
            if getattr(http_event, "stream_ended", False):
                response.finish()


def output_path(directory: Optional[str], url: str) -> Optional[str]:
    if directory is None:
        return None
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    return os.path.join(directory, name)


async def run(args: argparse.Namespace) -> int:
    first = urlsplit(args.url[0])
    if first.scheme != "https" or not first.hostname:
        print(f"error: {args.url[0]}: not an https:// URL", file=sys.stderr)
        return 2
    for url in args.url[1:]:
        parts = urlsplit(url)
        if (parts.hostname, parts.port) != (first.hostname, first.port):
            print(f"error: {url}: not on {first.netloc} (one server per run)", file=sys.stderr)
            return 2
    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN,
                                      server_name=args.server_name)
    if args.insecure:
        configuration.verify_mode = ssl.CERT_NONE
    elif args.ca_certs:
        configuration.load_verify_locations(args.ca_certs)
    data = args.data.encode() if args.data is not None else None
    method = "POST" if data is not None else "GET"
    failed = 0
    start = time.monotonic()
    async with connect(first.hostname, first.port or 443, configuration=configuration,
                       create_protocol=HttpClient) as client:
        assert isinstance(client, HttpClient)
        results = await asyncio.gather(
            *(client.request(method, url, data, output_path(args.output_dir, url))
              for url in args.url), return_exceptions=True)
    for url, result in zip(args.url, results):
        if isinstance(result, BaseException):
            print(f"error: {url}: {result}", file=sys.stderr)
            failed += 1
            continue
        print(f"{result.status} {result.size} sha256={result.sha256.hexdigest()} {url}",
              flush=True)
        if result.status is None or not 200 <= result.status < 300:
            failed += 1
    if args.verbose:
        elapsed = time.monotonic() - start
        print(f"{len(args.url)} requests, {failed} failed, {elapsed:.3f} s", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description="HTTP/3 client on h3q.asyncio")
    parser.add_argument("url", nargs="+", help="https:// URLs, all of one host and port")
    parser.add_argument("--ca-certs", help="trust the CA certificates in this PEM file")
    parser.add_argument("-k", "--insecure", action="store_true",
                        help="do not verify the server's certificate")
    parser.add_argument("-d", "--data", help="POST this data with every request")
    parser.add_argument("--output-dir", help="write each body to DIR/<last path segment>")
    parser.add_argument("--server-name", help="the name to verify (default: the URL's host)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="give up after this many seconds (default 60)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.output_dir is not None and not os.path.isdir(args.output_dir):
        parser.error(f"--output-dir {args.output_dir}: not a directory")

    async def bounded() -> int:
        return await asyncio.wait_for(run(args), args.timeout)

    try:
        return asyncio.run(bounded())
    except asyncio.TimeoutError:
        print(f"error: timed out after {args.timeout} s", file=sys.stderr)
    except (ConnectionError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
    except Exception as e:  # h3q.H3QError (TLS settings...) and the like: one line, exit 1
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
