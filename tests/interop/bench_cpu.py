#!/usr/bin/env python3
"""CPU per byte and per request, h3q against ngtcp2 + nghttp3, with an independent client.

    bench_cpu.py --h3q-server PATH --h3q-client PATH [--gtlsserver PATH] [--gtlsclient PATH]
                 [--downloads 10] [--mb 20] [--requests 2000] [--rounds 3] [--work DIR]
                 [--max-udp-payload N]

Use release builds of h3q's examples (cmake -DCMAKE_BUILD_TYPE=Release). Not part of the
test command. On 127.0.0.1, three measurements per round:

  server bulk    ngtcp2's gtlsclient fetches a --mb MiB file --downloads times on one
                 connection from h3q-server, then from gtlsserver: each server's CPU time
                 (from /proc/PID/schedstat before and after, in nanoseconds) per MB sent
  server small   gtlsclient sends --requests GETs of a 1 KiB file on one connection: each
                 server's CPU time per request
  client bulk    h3q-client and gtlsclient each fetch the same downloads from gtlsserver,
                 bodies to /dev/null (h3q-client discards them; gtlsclient without
                 --download does): each client's CPU time (rusage) per MB

Both servers grant the same stream credit (128 concurrent bidirectional streams: h3q's
default, --max-streams-bidi for gtlsserver) and serve from the same files; both are started
once and measured by the difference of their CPU counters around each run, so their start-up
and certificate work is not counted. Rounds alternate which side goes first. Each target
prints the ratio h3q / ngtcp2 per round, then its median and range; the wave-2 targets are
0.8 or less for each.

--max-udp-payload N gives all four programs the same ceiling on UDP payloads (h3q's
--max-udp-payload, ngtcp2's --max-udp-payload-size): with 8952, loopback carries
datagrams of a 9,000-byte MTU (jumbo frames), and the per-packet costs shrink next to the
per-byte ones. Without it each keeps its default (h3q: 1,452 sent; ngtcp2: 1,452 too).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_matrix as rm  # noqa: E402  (servers, certificates, helpers)
from proc_stats import schedstat  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
SMALL = 1024


def cpu_seconds(pid):
    """CPU seconds process `pid` has run so far, all its threads (proc_stats.schedstat;
    h3q-server runs with --workers 1 here, as gtlsserver has one thread), or from
    /proc/PID/stat's coarser ticks where schedstat is missing."""
    stats = schedstat(pid)
    if stats is not None and stats[0] > 0:
        return stats[0]
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state is fields[0]; utime and stime are stat's 14 and 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


def run_client(argv, timeout):
    """Runs a client; returns (ok, its CPU seconds, wall seconds, the tail of stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    try:
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, 0.0, timeout, "timed out"
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = " | ".join(p.stderr.decode(errors="replace").strip().splitlines()[-2:])
    return p.returncode == 0, cpu, wall, tail


def make_root(work, mb):
    """WORK/root with the files both servers serve: big.bin (`mb` MiB) and small.bin
    (SMALL bytes), random bytes. Returns its path."""
    root = os.path.join(work, "root")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(mb << 20))
    with open(os.path.join(root, "small.bin"), "wb") as f:
        f.write(os.urandom(SMALL))
    return root


def gtlsclient_argv(args, port, path, count):
    return [args.gtlsclient, "--quiet", "--exit-on-all-streams-close", "--timeout=60s",
            *payload_args(args, "ngtcp2"),
            "--sni=localhost", "-n", str(count), "--max-data=256M",
            "--max-stream-data-bidi-local=64M", "127.0.0.1", str(port),
            f"https://localhost:{port}{path}"]


def payload_args(args, side):
    """The --max-udp-payload option in the spelling of `side`'s programs, or nothing."""
    if not args.max_udp_payload:
        return []
    if side == "h3q":
        return ["--max-udp-payload", str(args.max_udp_payload)]
    return [f"--max-udp-payload-size={args.max_udp_payload}"]


def h3q_client_argv(args, certs, port, path, count):
    return [args.h3q_client, *payload_args(args, "h3q"), "--ca", certs["ca"], "--repeat",
            str(count),
            "--parallel", str(count), f"https://localhost:{port}{path}"]


def server_cpu(server, argv, timeout):
    """The server's CPU seconds for one client run (None if the run failed)."""
    before = cpu_seconds(server.proc.pid)
    ok, _, wall, tail = run_client(argv, timeout)
    if not ok:
        print(f"  run failed against {server.name} ({wall:.1f} s): {tail}", flush=True)
        return None
    time.sleep(0.2)  # the server's last acknowledgements and close
    return cpu_seconds(server.proc.pid) - before


def summary(name, ratios, unit_h3q, unit_ng, unit):
    if not ratios:
        print(f"{name}: no complete round")
        return
    med = statistics.median(ratios)
    print(f"{name}: h3q {statistics.median(unit_h3q):.3f} {unit}, ngtcp2 "
          f"{statistics.median(unit_ng):.3f} {unit}; ratio median {med:.2f} "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds; target <= 0.80: "
          f"{'met' if med <= 0.8 else 'not met'})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--h3q-server", required=True)
    parser.add_argument("--h3q-client", required=True)
    parser.add_argument("--gtlsserver", default=rm.which("gtlsserver"))
    parser.add_argument("--gtlsclient", default=rm.which("gtlsclient"))
    parser.add_argument("--downloads", type=int, default=10)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--work")
    parser.add_argument("--max-udp-payload", type=int, default=0,
                        help="the same ceiling on UDP payloads for all four programs "
                             "(1200 to 65527; default: each program's own)")
    args = parser.parse_args()
    if args.max_udp_payload and not 1200 <= args.max_udp_payload <= 65527:
        sys.exit("--max-udp-payload: from 1200 to 65527")
    if not args.gtlsserver or not args.gtlsclient:
        sys.exit("bench_cpu.py needs ngtcp2's gtlsserver and gtlsclient (Debian ngtcp2-server, "
                 "ngtcp2-client)")

    work = args.work or tempfile.mkdtemp(prefix="h3q-bench-cpu-")
    root = make_root(work, args.mb)
    certs = rm.make_certs(work)
    ng_port = rm.free_udp_port()
    servers = {
        # One worker, as gtlsserver has one thread; no line per request, as gtlsserver
        # runs --quiet.
        "h3q": rm.Server("h3q", [args.h3q_server, "--listen", "127.0.0.1:0", "--cert",
                                 certs["cert"], "--key", certs["key"], "--root", root,
                                 "--workers", "1", "--quiet", *payload_args(args, "h3q")]),
        "ngtcp2": rm.Server("ngtcp2", [args.gtlsserver, "--quiet", "-d", root,
                                       *payload_args(args, "ngtcp2"),
                                       "--timeout=60s", "--max-streams-bidi=128",
                                       "127.0.0.1", str(ng_port), certs["key"], certs["cert"]],
                            port=ng_port, cwd=work, stdout_to_log=True),
    }
    mb = args.downloads * args.mb * (1 << 20) / 1e6
    results = {k: [] for k in ("bulk_h3q", "bulk_ng", "small_h3q", "small_ng",
                               "client_h3q", "client_ng")}
    bulk_r, small_r, client_r = [], [], []
    try:
        for s in servers.values():
            s.start(work)
            if s.error:
                sys.exit(s.error)
        for rnd in range(args.rounds):
            order = ["h3q", "ngtcp2"] if rnd % 2 == 0 else ["ngtcp2", "h3q"]
            bulk, small = {}, {}
            for name in order:
                s = servers[name]
                bulk[name] = server_cpu(s, gtlsclient_argv(args, s.port, "/big.bin",
                                                          args.downloads), args.timeout)
                small[name] = server_cpu(s, gtlsclient_argv(args, s.port, "/small.bin",
                                                           args.requests), args.timeout)
            if bulk["h3q"] and bulk["ngtcp2"]:
                a, b = bulk["h3q"] / mb * 1000, bulk["ngtcp2"] / mb * 1000
                results["bulk_h3q"].append(a)
                results["bulk_ng"].append(b)
                bulk_r.append(a / b)
            if small["h3q"] and small["ngtcp2"]:
                a = small["h3q"] / args.requests * 1e6
                b = small["ngtcp2"] / args.requests * 1e6
                results["small_h3q"].append(a)
                results["small_ng"].append(b)
                small_r.append(a / b)
            port = servers["ngtcp2"].port
            clients = {
                "h3q": h3q_client_argv(args, certs, port, "/big.bin", args.downloads),
                "ngtcp2": gtlsclient_argv(args, port, "/big.bin", args.downloads),
            }
            cpu = {}
            for name in order:
                ok, seconds, wall, tail = run_client(clients[name], args.timeout)
                cpu[name] = seconds if ok else None
                if not ok:
                    print(f"  {name} client failed ({wall:.1f} s): {tail}", flush=True)
            if cpu["h3q"] and cpu["ngtcp2"]:
                a, b = cpu["h3q"] / mb * 1000, cpu["ngtcp2"] / mb * 1000
                results["client_h3q"].append(a)
                results["client_ng"].append(b)
                client_r.append(a / b)
            print(f"round {rnd + 1}: server ms/MB "
                  f"{bulk_r[-1] if bulk_r else float('nan'):.2f}x, server us/request "
                  f"{small_r[-1] if small_r else float('nan'):.2f}x, client ms/MB "
                  f"{client_r[-1] if client_r else float('nan'):.2f}x", flush=True)
    finally:
        for s in servers.values():
            s.stop()
        rm.kill_all()
    payload = (f"UDP payloads up to {args.max_udp_payload} B" if args.max_udp_payload
               else "default UDP payload sizes")
    print(f"\n{args.downloads} x {args.mb} MiB downloads, {args.requests} x {SMALL} B "
          f"requests, gtlsclient driving both servers, {payload}; server CPU from schedstat, "
          "client CPU from rusage (user + system)")
    summary("server CPU per MB (h3q-server / gtlsserver)", bulk_r, results["bulk_h3q"],
            results["bulk_ng"], "ms/MB")
    summary("server CPU per request (h3q-server / gtlsserver)", small_r,
            results["small_h3q"], results["small_ng"], "us/request")
    summary("client CPU per MB (h3q-client / gtlsclient, from gtlsserver)", client_r,
            results["client_h3q"], results["client_ng"], "ms/MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
