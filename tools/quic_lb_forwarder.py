#!/usr/bin/env python3
"""quic_lb_forwarder: a sketch of a QUIC-LB-aware load balancer, in user space.

    quic_lb_forwarder.py --server HEX=HOST:PORT [--server HEX=HOST:PORT ...]
                         [--listen HOST:PORT] [--stats-file PATH]

It shows, and lets the tests check, the contract a QUIC-LB layer-4 load balancer relies
on (draft-ietf-quic-load-balancers): each server issues connection IDs carrying its server
id in the plaintext layout (h3q_config_set_server_id, `h3q-server --server-id HEX`), so
every packet of a connection can be sent to the server that owns it, whatever address it
comes from. Other servers that issue such IDs: Envoy (its `quic_lb` connection ID
generator extension) and picoquic (picoquic_lb.c); a balancer in front of them is
configured with the same layout and id length. Python standard library only.

Routing of a datagram from a client:
* short header (every packet after the handshake): the destination CID's length comes
  from its first octet (QUIC-LB's self-described length); the server id follows that
  octet. A known id goes to its server, even from a new client address (migration, NAT
  rebinding). An unknown id (a CID a server did not issue through QUIC-LB) falls back to
  the address hash below.
* long header: Handshake packets carry a server-chosen CID and route the same way;
  Initial and 0-RTT packets carry a CID the client chose, so they go to the server the
  client address hashes to (and so do packets whose CID cannot be read).

Sessions: every client address gets its own upstream socket, connected to the server of
its first datagram (and connected again when a later datagram routes elsewhere), so each
server sees one address per client; replies go back from the listening socket. Idle
sessions close after 60 s.

SIGINT or SIGTERM prints the counters (datagrams routed per server id, by CID or by
hash, unroutable) to stdout (and --stats-file as JSON) and exits 0.
"""

import argparse
import json
import selectors
import signal
import socket
import sys
import time
import zlib

IDLE_TIMEOUT_S = 60.0
RECV_SIZE = 65535
BATCH = 128


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def server_arg(text):
    hexid, sep, address = text.partition("=")
    try:
        sid = bytes.fromhex(hexid)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{hexid!r}: not hex") from None
    if not sep or not 1 <= len(sid) <= 15:
        raise argparse.ArgumentTypeError(f"{text!r}: not HEX=HOST:PORT with a 1-15 byte id")
    return sid, host_port(address)


def destination_cid(datagram):
    """The destination connection ID of the first packet, and whether the client chose it
    (Initial, 0-RTT); None when it cannot be read."""
    if not datagram:
        return None, False
    first = datagram[0]
    if first & 0x80:
        if len(datagram) < 6:
            return None, False
        n = datagram[5]
        cid = datagram[6:6 + n]
        if len(cid) != n:
            return None, False
        packet_type = (first >> 4) & 0x03  # QUIC v1: 0 Initial, 1 0-RTT, 2 Handshake
        return cid, packet_type in (0, 1)
    if len(datagram) < 2:
        return None, False
    n = (datagram[1] & 0x1F) + 1
    cid = datagram[1:1 + n]
    return (cid, False) if len(cid) == n else (None, False)


class Forwarder:
    def __init__(self, args):
        self.servers = {sid: addr for sid, addr in args.server}
        self.order = [sid for sid, _ in args.server]
        lengths = {len(sid) for sid in self.servers}
        if len(lengths) != 1:
            sys.exit("quic_lb_forwarder: all server ids must have the same length")
        self.id_len = lengths.pop()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listener.bind(args.listen)
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.sessions = {}  # client address -> [socket, server id, last active]
        self.by_cid = dict.fromkeys(self.order, 0)
        self.by_hash = dict.fromkeys(self.order, 0)
        self.moved = 0  # datagrams whose CID sent them to another server than the session's
        self.unknown_ids = 0

    def route(self, datagram, client):
        cid, client_chosen = destination_cid(datagram)
        if cid is not None and not client_chosen and len(cid) > self.id_len:
            sid = bytes(cid[1:1 + self.id_len])
            if (cid[0] >> 5) != 0b111 and sid in self.servers:
                self.by_cid[sid] += 1
                return sid
            self.unknown_ids += 1
        key = f"{client[0]}:{client[1]}".encode()
        sid = self.order[zlib.crc32(key) % len(self.order)]
        self.by_hash[sid] += 1
        return sid

    def session(self, client, sid, now):
        s = self.sessions.get(client)
        if s is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.connect(self.servers[sid])
            s = self.sessions[client] = [sock, sid, now]
            self.selector.register(sock, selectors.EVENT_READ, client)
        elif s[1] != sid:
            self.moved += 1
            s[0].connect(self.servers[sid])
            s[1] = sid
        s[2] = now
        return s

    def run(self):
        while True:
            now = time.monotonic()
            for key, _ in self.selector.select(timeout=1.0):
                if key.data is None:
                    self.read_clients(now)
                else:
                    self.read_server(key.fileobj, key.data, now)
            for client, s in list(self.sessions.items()):
                if now - s[2] > IDLE_TIMEOUT_S:
                    self.selector.unregister(s[0])
                    s[0].close()
                    del self.sessions[client]

    def read_clients(self, now):
        for _ in range(BATCH):
            try:
                datagram, client = self.listener.recvfrom(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue
            sid = self.route(datagram, client)
            try:
                self.session(client, sid, now)[0].send(datagram)
            except OSError:
                pass  # a full buffer: the datagram is lost, QUIC recovers

    def read_server(self, sock, client, now):
        for _ in range(BATCH):
            try:
                datagram = sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue
            s = self.sessions.get(client)
            if s is not None:
                s[2] = now
            try:
                self.listener.sendto(datagram, client)
            except OSError:
                pass

    def stats(self):
        return {
            "by_cid": {sid.hex(): n for sid, n in self.by_cid.items()},
            "by_hash": {sid.hex(): n for sid, n in self.by_hash.items()},
            "unknown_ids": self.unknown_ids,
            "moved": self.moved,
            "clients": len(self.sessions),
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", type=server_arg, action="append", required=True,
                        metavar="HEX=HOST:PORT", help="a server and its id (repeat)")
    parser.add_argument("--listen", type=host_port, default=("127.0.0.1", 0))
    parser.add_argument("--stats-file", help="also write the counters as JSON here on exit")
    args = parser.parse_args(argv)
    forwarder = Forwarder(args)

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    host, port = forwarder.listener.getsockname()
    print(f"listening on {host}:{port}", flush=True)
    try:
        forwarder.run()
    except KeyboardInterrupt:
        pass
    st = forwarder.stats()
    print(" ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in st.items()),
          flush=True)
    if args.stats_file:
        with open(args.stats_file, "w") as f:
            json.dump(st, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
