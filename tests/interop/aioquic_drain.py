#!/usr/bin/env python3
"""aioquic's HTTP/3 client against a draining h3q-server (CTest: examples_drain_aioquic).

    aioquic_drain.py --server H3Q_SERVER --work DIR [--requests N] [--size BYTES]

Starts h3q-server --listen 127.0.0.1:0 --drain-timeout 20 -v, opens one aioquic
connection and starts N downloads of /SIZE on it. Once the server has every request (its
-v log says so) and none is complete, SIGINT goes to the server, which drains: GOAWAY, and the
requests it accepted complete. aioquic ignores GOAWAY frames, so this shows that a client
which does not know about them still gets every response whole (size and SHA-256 of the
server's generated pattern). Then the server must exit 0 within the drain timeout, having
logged N complete downloads and no aborted request.

Exits 0 on success, 1 on failure (with the server's log), 77 after a "SKIPPED: ..." line
when aioquic cannot be imported.
"""

import argparse
import asyncio
import hashlib
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time

try:
    from aioquic.asyncio.client import connect
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.events import ConnectionTerminated, StreamReset
except ImportError:
    print(f"SKIPPED: aioquic is not importable by {sys.executable} "
          f"({sys.executable} -m pip install aioquic)")
    sys.exit(77)

DRAIN_TIMEOUT = 20


class Failure(Exception):
    pass


def generated_body_sha256(size):
    """The SHA-256 of h3q-server's /<size>: lines of 63 letters and a newline."""
    line = bytes(ord("a") + (i % 26) for i in range(63)) + b"\n"
    h = hashlib.sha256()
    whole, rest = divmod(size, len(line))
    block = line * 1024
    for _ in range(whole // 1024):
        h.update(block)
    h.update(line * (whole % 1024))
    h.update(line[:rest])
    return h.hexdigest()


class Download:
    def __init__(self):
        self.status = None
        self.size = 0
        self.sha = hashlib.sha256()
        self.done = asyncio.get_running_loop().create_future()
        # A failure is reported once, by main(): not again as "never retrieved".
        self.done.add_done_callback(lambda f: f.cancelled() or f.exception())

    def fail(self, why):
        if not self.done.done():
            self.done.set_exception(Failure(why))


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.downloads = {}

    def get(self, authority, path):
        stream_id = self._quic.get_next_available_stream_id()
        d = Download()
        self.downloads[stream_id] = d
        self.h3.send_headers(stream_id, [(b":method", b"GET"), (b":scheme", b"https"),
                                         (b":authority", authority.encode()),
                                         (b":path", path.encode())], end_stream=True)
        self.transmit()
        return d

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated):
            for d in self.downloads.values():
                d.fail(f"connection closed: 0x{event.error_code:x} {event.reason_phrase!r}")
            return
        if isinstance(event, StreamReset) and event.stream_id in self.downloads:
            self.downloads[event.stream_id].fail(f"stream reset: 0x{event.error_code:x}")
        for ev in self.h3.handle_event(event):
            d = self.downloads.get(getattr(ev, "stream_id", None))
            if d is None or getattr(ev, "push_id", None) is not None:
                continue
            if isinstance(ev, HeadersReceived) and d.status is None:
                d.status = int(dict(ev.headers).get(b":status", b"0"))
            elif isinstance(ev, DataReceived):
                d.size += len(ev.data)
                d.sha.update(ev.data)
            if getattr(ev, "stream_ended", False) and not d.done.done():
                d.done.set_result(None)


def start_server(args, log):
    proc = subprocess.Popen([args.server, "--listen", "127.0.0.1:0", "--drain-timeout",
                             str(DRAIN_TIMEOUT), "-v"], stdout=subprocess.PIPE,
                            stderr=log, stdin=subprocess.DEVNULL)
    line = proc.stdout.readline().decode(errors="replace")
    m = re.match(r"listening on .*:(\d+)$", line.strip())
    if not m:
        proc.kill()
        raise Failure(f"h3q-server printed no port: {line!r}")
    out_path = os.path.join(args.work, "server.out")

    def drain_stdout():  # the request log, kept in a file (a full pipe would block it)
        with open(out_path, "ab") as f:
            for chunk in iter(lambda: proc.stdout.readline(), b""):
                f.write(chunk)
                f.flush()

    thread = threading.Thread(target=drain_stdout, daemon=True)
    thread.start()
    return proc, int(m.group(1)), thread


async def server_has_requests(args, count):
    """Waits until the server's -v log shows `count` requests for /SIZE."""
    pattern = f": GET /{args.size} (stream "
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(os.path.join(args.work, "server.err"), errors="replace") as f:
            if f.read().count(pattern) >= count:
                return
        await asyncio.sleep(0.02)
    raise Failure(f"the server did not log {count} requests within 30 s")


async def fetch_while_draining(args, server, port):
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, idle_timeout=30.0)
    config.verify_mode = ssl.CERT_NONE
    config.max_data = 64 << 20
    config.max_stream_data = 16 << 20
    path = f"/{args.size}"
    async with connect("127.0.0.1", port, configuration=config,
                       create_protocol=Client) as client:
        downloads = [client.get(f"127.0.0.1:{port}", path) for _ in range(args.requests)]
        await server_has_requests(args, args.requests)
        running = sum(1 for d in downloads if not d.done.done())
        if running < args.requests:
            raise Failure(f"only {running} of {args.requests} downloads still running at the "
                          f"signal: make --size larger")
        server.send_signal(signal.SIGINT)
        print(f"SIGINT with {running} downloads running")
        await asyncio.wait_for(asyncio.gather(*(d.done for d in downloads)), DRAIN_TIMEOUT)
        want = generated_body_sha256(args.size)
        for i, d in enumerate(downloads):
            if d.status != 200 or d.size != args.size or d.sha.hexdigest() != want:
                raise Failure(f"download {i}: status {d.status}, {d.size} bytes, "
                              f"sha256 {d.sha.hexdigest()} (want 200, {args.size}, {want})")
        print(f"ok: all {args.requests} downloads complete during the drain, SHA-256 right")
        client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="the h3q-server program")
    parser.add_argument("--work", required=True, help="directory for the logs")
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--size", type=int, default=4000000)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    err_path = os.path.join(args.work, "server.err")
    for name in ("server.out", "server.err"):
        if os.path.exists(os.path.join(args.work, name)):
            os.remove(os.path.join(args.work, name))
    server = None
    try:
        with open(err_path, "wb") as log:
            server, port, reader = start_server(args, log)
            print(f"h3q-server on port {port}")
            asyncio.run(fetch_while_draining(args, server, port))
            start = time.monotonic()
            try:
                status = server.wait(DRAIN_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise Failure(f"h3q-server did not exit within {DRAIN_TIMEOUT} s of SIGINT")
            reader.join(5)
            if status != 0:
                raise Failure(f"h3q-server exited with status {status}")
            print(f"ok: h3q-server exit 0, {time.monotonic() - start:.3f} s after the downloads")
        with open(err_path, errors="replace") as f:
            err = f.read()
        with open(os.path.join(args.work, "server.out"), errors="replace") as f:
            out = f.read()
        # The server counts the responses it is still feeding to h3q; some may be handed
        # over whole already (the client's flow-control window is large) while the client
        # is still receiving them: what was running is checked on the client's side.
        if not re.search(r"draining 1 connection\(s\), [1-9]\d* request\(s\) in progress", err):
            raise Failure("the server did not drain the downloads")
        if "GOAWAY (final)" not in err:
            raise Failure("the server sent no final GOAWAY")
        complete = len(re.findall(rf"GET /{args.size} 200 {args.size} .* ms$", out, re.M))
        if complete != args.requests:
            raise Failure(f"the server logged {complete} complete downloads")
        if " ms (" in out:
            raise Failure("the server logged an aborted request")
        print("ok: the server logged every download complete, none aborted")
    except (Failure, asyncio.TimeoutError, ConnectionError, OSError) as e:
        print(f"FAIL: {type(e).__name__}: {e}")
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        for name in ("server.out", "server.err"):
            try:
                with open(os.path.join(args.work, name), errors="replace") as f:
                    print(f"--- {name} (last lines)\n" + "".join(f.readlines()[-20:]))
            except OSError:
                pass
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
