#!/usr/bin/env python3
"""faultrelay: a UDP relay that injects network faults between QUIC clients and one server.

Kernel netem is not available everywhere the tests run (it needs CAP_NET_ADMIN and the
sch_netem module), so the test suite puts this relay between h3q-client and h3q-server
instead (tests/relay_cases.sh). Python standard library only.

    client --> [listen socket] relay [one upstream socket per client] --> server

Design
------
* One thread, one ``selectors`` loop (epoll on Linux), every socket non-blocking. The loop
  sleeps until a socket is readable or the earliest scheduled datagram is due, then reads
  each ready socket dry (up to a batch per wake-up, so no socket starves the others) and
  sends what has come due.
* Sessions: every client source address gets its own upstream socket, connected to the
  server, so the server sees one distinct address per client. Replies read from that
  socket go back to the client from the listening socket. Idle sessions are closed after
  ``--idle-timeout`` seconds; at most ``--max-clients`` exist at once.
* Directions: "up" is client -> server, "down" server -> client. Each has its own
  counters, its own fault settings (``--direction`` restricts every fault to one of them)
  and its own random streams.
* The fault pipeline of one datagram, in order: the path MTU (``--mtu``: a datagram
  larger is dropped, as a router drops a don't-fragment packet too large for its
  link), blackhole window (drop), loss (drop),
  duplication (a second copy follows the same path), corruption (one bit of one byte,
  per copy), then for each copy the rate-limited link (a token-bucket serialiser: the
  copy departs when the link has sent everything queued before it, at ``--rate`` Mbit/s;
  if ``--queue-packets`` datagrams are already waiting it is dropped, drop-tail), then the
  propagation delay (``--delay`` +- ``--jitter``, drawn uniformly per datagram, so
  jitter reorders like netem's ``delay D J``), plus ``--reorder-gap`` for the datagrams
  chosen by ``--reorder``. A copy due later than now waits in one heap ordered by due
  time (ties by arrival), which is bounded: by time (the largest delay, plus the rate
  queue's depth) and by ``--max-held`` datagrams (drop when full).
  A direction without any fault skips all of this: a datagram read is sent at once.
* ECN: each datagram's ECN bits (the TOS / traffic class byte, read with IP_RECVTOS) go
  out with it (the sending socket's IP_TOS is set to the last codepoint read in that
  direction; QUIC marks a path's datagrams alike), and the ``ect`` and ``ce`` counters
  say how many arrived ECN-capable or congestion-marked: a path that keeps ECN.
* Reproducibility: every random decision comes from a ``random.Random`` of its own per
  direction and per kind of decision (loss, dup, corrupt, jitter, reorder), seeded from
  ``--seed``. Each enabled stream is drawn exactly once per datagram (corrupt once per
  copy), whatever the other faults decided, so the n-th datagram of a direction gets the
  same fate in every run with the same seed and the same traffic, and changing one
  fault's probability does not change the others' choices. Without ``--seed`` a seed is
  picked at random and printed (stderr) so that a run can be repeated.
* NAT rebinding: with ``--rebind-at BYTES``, once a client's session has delivered that
  many bytes downstream, the relay opens a new upstream socket for it (a new source port
  towards the server) and sends everything after that, delayed datagrams included, from
  it. Datagrams the server still sends to the old port are read and dropped (counted as
  ``stale``), as a NAT that forgot the old mapping would; the old socket is closed a few
  seconds later.
* Counters per direction: ``in``, ``out``, ``lost`` (loss), ``queue_drop`` (rate queue
  full, ``--max-held`` reached or a send error), ``blackholed``, ``dup``, ``corrupt``,
  ``too_big`` (over ``--mtu``),
  ``held`` (given the reorder gap), ``reordered`` (sent after a datagram that arrived
  later), ``queued`` (had to wait behind others on the rate-limited link), ``queue_max``
  (deepest the rate queue got), ``bytes_in`` and ``bytes`` (bytes sent). A third line,
  ``relay:``, gives the seed, the clients seen, the rebinds, the bytes the server sent to
  the new sockets (``rebound_bytes``: it followed), the stale datagrams and what
  the kernel dropped on the relay's own sockets (their receive queues overflowing: non-zero
  would mean the relay, not the configured faults, lost datagrams). They are printed to
  stdout when the relay ends (SIGINT or SIGTERM: exit status 0) and written as JSON to
  ``--stats-file``.
* Rare events (the blackhole starting and ending, a rebind) are logged to stderr with the
  time since the first datagram and the bytes relayed so far, so a test can show that a
  fault struck in the middle of a transfer; ``--progress S`` adds a line every S seconds
  with what each direction sent, dropped and lost since the previous line.

The first line on stdout is ``listening on HOST:PORT`` (the port the kernel picked for
``--listen HOST:0``), flushed at once, as h3q-server prints it.
"""

import argparse
import errno
import heapq
import json
import os
import random
import selectors
import signal
import socket
import sys
import time

UP, DOWN = 0, 1
DIR_NAMES = ("up", "down")
RECV_SIZE = 65535
ANCILLARY_SIZE = 64  # room for the IP_TOS / IPV6_TCLASS control message
BATCH = 256  # datagrams read from one socket per wake-up
SOCKET_BUFFER = 8 << 20  # asked for each socket's send and receive buffers
STALE_CLOSE_S = 5.0  # how long a socket replaced by a rebind keeps being read and drained
COUNTERS = ("in", "out", "lost", "queue_drop", "blackholed", "dup", "corrupt", "held",
            "reordered", "queued", "queue_max", "bytes_in", "bytes", "ect", "ce", "too_big")


class Stop(Exception):
    """Raised by the SIGINT/SIGTERM handler to leave the loop."""


def host_port(text):
    """'HOST:PORT' or '[V6]:PORT' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise argparse.ArgumentTypeError(f"no host in {text!r}")
    return host, int(port)


def probability(text):
    p = float(text)
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"a probability is from 0 to 1, not {text}")
    return p


def non_negative(text):
    v = float(text)
    if not 0 <= v < float("inf"):
        raise argparse.ArgumentTypeError(f"not a number from 0 up: {text}")
    return v


def positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return v


def window(text):
    start, sep, duration = text.partition(":")
    try:
        s, d = float(start), float(duration)
    except ValueError:
        s = d = -1.0
    if not sep or not 0 <= s < float("inf") or not 0 < d < float("inf"):
        raise argparse.ArgumentTypeError(f"not START_S:DURATION_S: {text!r}")
    return s, d


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="faultrelay.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
A UDP relay between clients and one upstream server that injects network faults:
loss, delay, jitter, reordering, duplication, corruption, a rate limit with a
drop-tail queue, a blackhole window, a path MTU and NAT rebinding. Each client address gets
its own upstream socket. The first stdout line is 'listening on HOST:PORT'.
Every fault applies to both directions unless --direction restricts them all to
one (--rebind-at is not a per-direction fault and always applies).""",
        epilog="""\
On SIGINT or SIGTERM it prints to stdout one line of counters per direction
  up|down: in out lost queue_drop blackholed dup corrupt held reordered queued
           queue_max bytes_in bytes ect ce too_big
and one 'relay:' line (seed clients clients_refused rebinds rebound_bytes stale
kernel_drops held_at_exit), writes them to --stats-file as JSON, and exits 0.

Example: faultrelay.py --upstream 127.0.0.1:4433 --loss 0.05 --seed 7
The module docstring of tools/faultrelay.py explains the design.""")
    p.add_argument("--listen", type=host_port, default=("127.0.0.1", 0), metavar="HOST:PORT",
                   help="where clients send to (default 127.0.0.1:0: a free port, printed)")
    p.add_argument("--upstream", type=host_port, required=True, metavar="HOST:PORT",
                   help="the server to relay to (required)")
    p.add_argument("--direction", choices=("up", "down", "both"), default="both",
                   help="apply the faults only to up (client->server) or down "
                        "(server->client) datagrams (default both)")
    p.add_argument("--loss", type=probability, default=0.0, metavar="P",
                   help="drop each datagram with probability P (0..1)")
    p.add_argument("--delay", type=non_negative, default=0.0, metavar="MS",
                   help="one-way delay added to every datagram, in milliseconds")
    p.add_argument("--jitter", type=non_negative, default=0.0, metavar="MS",
                   help="each datagram's delay is drawn uniformly in DELAY +- MS "
                        "(independently, so datagrams reorder; never below 0)")
    p.add_argument("--reorder", type=probability, default=0.0, metavar="P",
                   help="with probability P hold a datagram back an extra --reorder-gap")
    p.add_argument("--reorder-gap", type=non_negative, default=10.0, metavar="MS",
                   help="the extra delay of --reorder (default 10 ms)")
    p.add_argument("--dup", type=probability, default=0.0, metavar="P",
                   help="send a datagram twice with probability P")
    p.add_argument("--corrupt", type=probability, default=0.0, metavar="P",
                   help="flip one random bit of one random byte with probability P")
    p.add_argument("--rate", type=non_negative, default=0.0, metavar="MBIT",
                   help="serialise each direction at MBIT megabits/s (0: no limit)")
    p.add_argument("--queue-packets", type=positive_int, default=1000, metavar="N",
                   help="the rate limiter's drop-tail queue, in datagrams (default 1000)")
    p.add_argument("--blackhole", type=window, metavar="START_S:DURATION_S",
                   help="drop everything from START_S for DURATION_S seconds, counted "
                        "from the first datagram the relay sees")
    p.add_argument("--mtu", type=positive_int, metavar="BYTES",
                   help="drop datagrams whose UDP payload exceeds BYTES (a path MTU; "
                        "what path MTU discovery must find)")
    p.add_argument("--rebind-at", type=positive_int, metavar="BYTES",
                   help="once a client has been sent BYTES bytes, move its upstream "
                        "traffic to a new socket (new source port: NAT rebinding), "
                        "once per client")
    p.add_argument("--seed", type=int,
                   help="seed of every random choice (default: a random one, printed)")
    p.add_argument("--max-held", type=positive_int, default=50000, metavar="N",
                   help="at most N delayed datagrams held at once, both directions "
                        "together (default 50000); more are dropped (queue_drop)")
    p.add_argument("--max-clients", type=positive_int, default=256, metavar="N",
                   help="at most N client sessions at once (default 256); datagrams "
                        "from more clients are ignored")
    p.add_argument("--idle-timeout", type=non_negative, default=120.0, metavar="S",
                   help="close a client's session after S seconds without traffic "
                        "(default 120)")
    p.add_argument("--stats-file", metavar="PATH",
                   help="also write the counters as JSON to PATH on exit")
    p.add_argument("--progress", type=non_negative, default=0.0, metavar="S",
                   help="every S seconds, log the datagrams and bytes sent each way "
                        "since the last such line to stderr (0: never, the default)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log sessions opening and closing to stderr")
    args = p.parse_args(argv)
    if args.jitter > 0 and args.jitter > args.delay:
        # Allowed (delays are clamped at 0), but say so: the spread is then not symmetric.
        log(f"note: --jitter {args.jitter:g} > --delay {args.delay:g}: "
            "delays below 0 are clamped to 0")
    return args


def describe(args):
    """The faults asked for, as one line."""
    parts = [f"{name} {getattr(args, name):g}" for name in ("loss", "delay", "jitter", "dup",
                                                            "corrupt") if getattr(args, name)]
    if args.reorder:
        parts.append(f"reorder {args.reorder:g} gap {args.reorder_gap:g} ms")
    if args.rate:
        parts.append(f"rate {args.rate:g} Mbit/s queue {args.queue_packets}")
    if args.blackhole:
        parts.append(f"blackhole {args.blackhole[0]:g} s for {args.blackhole[1]:g} s")
    if args.mtu:
        parts.append(f"mtu {args.mtu} bytes")
    if args.rebind_at:
        parts.append(f"rebind at {args.rebind_at} bytes")
    return ", ".join(parts) or "none"


def log(message):
    print(f"faultrelay: {message}", file=sys.stderr, flush=True)


def tune(sock):
    """Large socket buffers, so bursts do not overflow the relay's own queues; and each
    datagram's TOS / traffic class byte on receive, whose ECN bits the relay passes on."""
    for level, opt in ((socket.IPPROTO_IP, socket.IP_RECVTOS),
                       (socket.IPPROTO_IPV6, getattr(socket, "IPV6_RECVTCLASS", None))):
        if opt is not None:
            try:
                sock.setsockopt(level, opt, 1)
            except OSError:
                pass
    for force, plain in ((getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF),
                         (getattr(socket, "SO_SNDBUFFORCE", None), socket.SO_SNDBUF)):
        for opt in (force, plain):
            if opt is None:
                continue
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
                break
            except OSError:
                continue
    sock.setblocking(False)


def ecn_of(ancillary):
    """The ECN codepoint (the low two bits of the TOS / traffic class byte) of a datagram
    read with recvmsg, 0 when the kernel gave none."""
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == socket.IP_TOS and data:
            return data[0] & 3
        if level == socket.IPPROTO_IPV6 and kind == getattr(socket, "IPV6_TCLASS", -1):
            return int.from_bytes(data[:4], sys.byteorder) & 3
    return 0


def set_ecn(sock, ecn):
    """Marks what `sock` sends from now on with ECN codepoint `ecn` (IPv4 and IPv6)."""
    for level, opt in ((socket.IPPROTO_IP, socket.IP_TOS),
                       (socket.IPPROTO_IPV6, getattr(socket, "IPV6_TCLASS", None))):
        if opt is not None:
            try:
                sock.setsockopt(level, opt, ecn)
            except OSError:
                pass


def socket_drops():
    """inode -> datagrams the kernel dropped on that UDP socket (Linux; {} elsewhere)."""
    drops = {}
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) >= 13 and fields[9].isdigit():
                drops[int(fields[9])] = int(fields[-1])
    return drops


def inode(sock):
    try:
        return os.fstat(sock.fileno()).st_ino
    except OSError:
        return None


class Direction:
    """The faults, random streams and counters of one direction."""

    def __init__(self, name, args, seed, faulty):
        self.name = name
        self.count = dict.fromkeys(COUNTERS, 0)
        self.loss = args.loss if faulty else 0.0
        self.dup = args.dup if faulty else 0.0
        self.corrupt = args.corrupt if faulty else 0.0
        self.delay = args.delay / 1000.0 if faulty else 0.0
        self.jitter = args.jitter / 1000.0 if faulty else 0.0
        self.reorder = args.reorder if faulty else 0.0
        self.reorder_gap = args.reorder_gap / 1000.0
        self.rate_bps = args.rate * 1e6 if faulty else 0.0
        self.queue_packets = args.queue_packets
        self.blackhole = args.blackhole if faulty else None
        self.mtu = args.mtu if faulty else None
        self.faulty = bool(self.loss or self.dup or self.corrupt or self.delay or self.jitter
                           or self.reorder or self.rate_bps or self.blackhole or self.mtu)

        # One stream per kind of decision (string seeds are hashed the same way in every
        # run, whatever PYTHONHASHSEED says).
        def stream(kind):
            return random.Random(f"faultrelay:{seed}:{name}:{kind}")
        self.rng_loss = stream("loss")
        self.rng_dup = stream("dup")
        self.rng_corrupt = stream("corrupt")
        self.rng_jitter = stream("jitter")
        self.rng_reorder = stream("reorder")
        self.link_free = 0.0  # when the rate-limited link has sent all it was given
        self.departures = []  # departure times of the datagrams on the link, in order
        self.departed = 0  # index of the first one not yet departed
        self.max_sent_seq = -1
        self.in_blackhole = False
        # The ECN codepoint of the last datagram read: what goes out is sent with it. (QUIC
        # marks all of a path's datagrams alike, ECT(0) or not at all, so passing the last
        # one on is passing each one on.)
        self.ecn = 0

    def line(self):
        return f"{self.name}: " + " ".join(f"{k}={v}" for k, v in self.count.items())


class Session:
    """One client: its address and its upstream socket."""

    __slots__ = ("client", "sock", "down_bytes", "rebound", "last_active", "closed")

    def __init__(self, client, sock, now):
        self.client = client
        self.sock = sock
        self.down_bytes = 0
        self.rebound = False
        self.last_active = now
        self.closed = False


class Relay:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(
            1 << 32)
        faulty = {"up": (True, False), "down": (False, True), "both": (True, True)}[
            args.direction]
        self.dirs = (Direction("up", args, self.seed, faulty[0]),
                     Direction("down", args, self.seed, faulty[1]))
        self.selector = selectors.DefaultSelector()
        family, _, _, _, self.upstream = socket.getaddrinfo(
            args.upstream[0], args.upstream[1], type=socket.SOCK_DGRAM)[0]
        self.upstream_family = family
        lfamily, _, _, _, laddr = socket.getaddrinfo(
            args.listen[0], args.listen[1], type=socket.SOCK_DGRAM)[0]
        self.listener = socket.socket(lfamily, socket.SOCK_DGRAM)
        tune(self.listener)
        self.listener.bind(laddr)
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.sessions = {}  # client address -> Session
        self.by_sock = {}  # upstream socket -> Session (stale sockets too)
        self.stale = []  # (close time, socket) replaced by a rebind
        self.heap = []  # (due, tiebreak, direction, seq, data, session)
        self.sent_ecn = {}  # socket -> the ECN codepoint it is set to send with
        self.tiebreak = 0
        self.first = None  # time of the first datagram
        self.clients_seen = 0
        self.clients_refused = 0
        self.rebinds = 0
        self.stale_datagrams = 0
        self.rebound_bytes = 0  # bytes read from the server on sockets opened by a rebind
        self.kernel_drops = 0  # summed over the sockets already closed
        self.next_sweep = 0.0
        self.next_progress = None
        self.last_progress = {}

    def address(self):
        host, port = self.listener.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    # --- sessions -------------------------------------------------------------------

    def upstream_socket(self):
        sock = socket.socket(self.upstream_family, socket.SOCK_DGRAM)
        tune(sock)
        sock.connect(self.upstream)
        return sock

    def session_for(self, client, now):
        s = self.sessions.get(client)
        if s is not None:
            return s
        if len(self.sessions) >= self.args.max_clients:
            self.clients_refused += 1
            return None
        sock = self.upstream_socket()
        s = Session(client, sock, now)
        self.sessions[client] = s
        self.by_sock[sock] = s
        self.selector.register(sock, selectors.EVENT_READ, s)
        self.clients_seen += 1
        if self.args.verbose:
            log(f"session {client[0]}:{client[1]} -> local port {sock.getsockname()[1]}")
        return s

    def close_socket(self, sock):
        drops = socket_drops().get(inode(sock))
        if drops:
            self.kernel_drops += drops
        self.by_sock.pop(sock, None)
        self.sent_ecn.pop(sock, None)
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()

    def rebind(self, s, now):
        old = s.sock
        s.sock = self.upstream_socket()
        s.rebound = True
        self.by_sock[s.sock] = s
        self.selector.register(s.sock, selectors.EVENT_READ, s)
        self.stale.append((now + STALE_CLOSE_S, old))
        self.rebinds += 1
        log(f"rebind at {self.since_first(now):.3f} s: client {s.client[0]}:{s.client[1]} "
            f"after {s.down_bytes} bytes down: local port {old.getsockname()[1]} -> "
            f"{s.sock.getsockname()[1]}")

    def sweep(self, now):
        while self.stale and self.stale[0][0] <= now:
            self.close_socket(heapq.heappop(self.stale)[1])
        limit = self.args.idle_timeout
        if limit > 0:
            for client, s in list(self.sessions.items()):
                if now - s.last_active > limit:
                    if self.args.verbose:
                        log(f"session {client[0]}:{client[1]} idle: closed")
                    del self.sessions[client]
                    s.closed = True
                    self.close_socket(s.sock)

    # --- the fault pipeline ---------------------------------------------------------

    def since_first(self, now):
        return now - self.first if self.first is not None else 0.0

    def ingress(self, d, data, s, now):
        """A datagram read in direction d (a Direction) for session s."""
        c = d.count
        seq = c["in"]
        c["in"] = seq + 1
        c["bytes_in"] += len(data)
        if not d.faulty:
            self.deliver(d, seq, data, s, now)
            return
        if d.mtu and len(data) > d.mtu:
            c["too_big"] += 1
            return
        if d.blackhole is not None:
            start, duration = d.blackhole
            t = now - self.first
            inside = start <= t < start + duration
            if inside != d.in_blackhole:
                d.in_blackhole = inside
                log(f"blackhole {'starts' if inside else 'ends'} ({d.name}) at {t:.3f} s: "
                    + ", ".join(f"{x.name} {x.count['bytes']} bytes sent"
                                for x in self.dirs))
            if inside:
                c["blackholed"] += 1
                return
        if d.loss and d.rng_loss.random() < d.loss:
            c["lost"] += 1
            return
        copies = 1
        if d.dup and d.rng_dup.random() < d.dup:
            copies = 2
            c["dup"] += 1
        for _ in range(copies):
            copy = data
            if d.corrupt and d.rng_corrupt.random() < d.corrupt:
                b = bytearray(data)
                i = d.rng_corrupt.randrange(len(b)) if b else 0
                if b:
                    b[i] ^= 1 << d.rng_corrupt.randrange(8)
                copy = bytes(b)
                c["corrupt"] += 1
            self.schedule(d, seq, copy, s, now)

    def schedule(self, d, seq, data, s, now):
        c = d.count
        due = now
        if d.rate_bps:
            deps, i = d.departures, d.departed
            while i < len(deps) and deps[i] <= now:
                i += 1
            if i > 4096:  # forget the departed
                del deps[:i]
                i = 0
            d.departed = i
            waiting = len(deps) - i
            if waiting >= d.queue_packets:
                c["queue_drop"] += 1
                return
            if waiting:
                c["queued"] += 1
                if waiting + 1 > c["queue_max"]:
                    c["queue_max"] = waiting + 1
            due = max(now, d.link_free) + len(data) * 8 / d.rate_bps
            d.link_free = due
            deps.append(due)
        delay = d.delay
        if d.jitter:
            delay += d.rng_jitter.uniform(-d.jitter, d.jitter)
            if delay < 0:
                delay = 0.0
        if d.reorder and d.rng_reorder.random() < d.reorder:
            delay += d.reorder_gap
            c["held"] += 1
        due += delay
        if due <= now:
            self.deliver(d, seq, data, s, now)
            return
        if len(self.heap) >= self.args.max_held:
            c["queue_drop"] += 1
            return
        self.tiebreak += 1
        heapq.heappush(self.heap, (due, self.tiebreak, d, seq, data, s))

    def deliver(self, d, seq, data, s, now):
        c = d.count
        if s.closed:
            c["queue_drop"] += 1
            return
        try:
            sock = s.sock if d is self.dirs[UP] else self.listener
            if self.sent_ecn.get(sock) != d.ecn:
                set_ecn(sock, d.ecn)
                self.sent_ecn[sock] = d.ecn
            if d is self.dirs[UP]:
                sock.send(data)
            else:
                sock.sendto(data, s.client)
        except OSError:
            # A full socket buffer (EAGAIN, ENOBUFS) or an ICMP error surfacing: the
            # datagram is gone, as on a congested link.
            c["queue_drop"] += 1
            return
        c["out"] += 1
        c["bytes"] += len(data)
        if seq < d.max_sent_seq:
            c["reordered"] += 1
        else:
            d.max_sent_seq = seq
        if d is self.dirs[DOWN]:
            s.down_bytes += len(data)
            rebind_at = self.args.rebind_at
            if rebind_at and not s.rebound and s.down_bytes >= rebind_at:
                self.rebind(s, now)

    # --- the loop -------------------------------------------------------------------

    def read_listener(self, now):
        up = self.dirs[UP]
        recv = self.listener.recvmsg
        for _ in range(BATCH):
            try:
                data, ancillary, _flags, client = recv(RECV_SIZE, ANCILLARY_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue
            if self.first is None:
                self.first = now
            s = self.sessions.get(client) or self.session_for(client, now)
            if s is None:
                continue
            s.last_active = now
            self.note_ecn(up, ancillary)
            self.ingress(up, data, s, now)

    def read_upstream(self, sock, s, now):
        down = self.dirs[DOWN]
        recv = sock.recvmsg
        current = sock is s.sock and not s.closed
        for _ in range(BATCH):
            try:
                data, ancillary, _flags, _addr = recv(RECV_SIZE, ANCILLARY_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # e.g. ECONNREFUSED: the server is not (yet) there
            if not current:
                self.stale_datagrams += 1
                continue
            s.last_active = now
            if s.rebound:
                self.rebound_bytes += len(data)
            self.note_ecn(down, ancillary)
            self.ingress(down, data, s, now)
            if sock is not s.sock:  # this very datagram triggered a rebind
                current = False

    @staticmethod
    def note_ecn(d, ancillary):
        """Counts an ECN-capable (ect) or congestion-marked (ce) datagram read in direction
        d, and sends what follows with its codepoint."""
        d.ecn = ecn_of(ancillary)
        if d.ecn in (1, 2):
            d.count["ect"] += 1
        elif d.ecn == 3:
            d.count["ce"] += 1

    def run(self):
        clock = time.monotonic
        select = self.selector.select
        heap = self.heap
        while True:
            now = clock()
            if heap:
                timeout = min(max(heap[0][0] - now, 0.0), 0.5)
            else:
                timeout = 0.5
            if self.next_progress is not None:
                timeout = min(timeout, max(self.next_progress - now, 0.0))
            for key, _ in select(timeout):
                now = clock()
                if key.data is None:
                    self.read_listener(now)
                else:
                    self.read_upstream(key.fileobj, key.data, now)
            now = clock()
            while heap and heap[0][0] <= now:
                _, _, d, seq, data, s = heapq.heappop(heap)
                self.deliver(d, seq, data, s, now)
            if now >= self.next_sweep:
                self.next_sweep = now + 1.0
                self.sweep(now)
            if self.args.progress and self.first is not None:
                self.progress(now)

    def progress(self, now):
        if self.next_progress is None:
            self.next_progress = self.first + self.args.progress
        if now < self.next_progress:
            return
        self.next_progress += self.args.progress
        parts = []
        for d in self.dirs:
            c = d.count
            last = self.last_progress.get(d.name, {})
            delta = {k: c[k] - last.get(k, 0) for k in ("out", "bytes", "lost", "queue_drop",
                                                        "blackholed")}
            self.last_progress[d.name] = dict(c)
            parts.append(f"{d.name} " + " ".join(f"{k}={v}" for k, v in delta.items()))
        log(f"progress at {self.since_first(now):.3f} s: " + "; ".join(parts))

    # --- the end --------------------------------------------------------------------

    def stats(self):
        drops = socket_drops()
        live = [self.listener] + list(self.by_sock) + [sock for _, sock in self.stale]
        kernel = self.kernel_drops + sum(drops.get(inode(sock), 0) for sock in live)
        relay = {"seed": self.seed, "clients": self.clients_seen,
                 "clients_refused": self.clients_refused, "rebinds": self.rebinds,
                 "rebound_bytes": self.rebound_bytes, "stale": self.stale_datagrams, "kernel_drops": kernel,
                 "held_at_exit": len(self.heap)}
        return {"up": dict(self.dirs[UP].count), "down": dict(self.dirs[DOWN].count),
                "relay": relay}

    def report(self):
        st = self.stats()
        for d in self.dirs:
            print(d.line())
        print("relay: " + " ".join(f"{k}={v}" for k, v in st["relay"].items()), flush=True)
        if self.args.stats_file:
            with open(self.args.stats_file, "w") as f:
                json.dump(st, f, indent=1, sort_keys=True)
                f.write("\n")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        relay = Relay(args)
    except OSError as e:
        log(f"cannot start: {e}")
        return 1

    def stop(signum, _frame):
        raise Stop(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"listening on {relay.address()}", flush=True)
    log(f"{relay.address()} -> {args.upstream[0]}:{args.upstream[1]}, seed {relay.seed}, "
        f"faults ({args.direction}): {describe(args)}")
    status = 0
    try:
        relay.run()
    except Stop:
        pass
    except BaseException:
        status = 1
        raise
    finally:
        # No second signal may cut the report short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            relay.report()
        except OSError as e:
            if e.errno != errno.EPIPE:
                raise
    return status


if __name__ == "__main__":
    sys.exit(main())
