#!/usr/bin/env python3
"""Instructions per request and per MB, h3q-server against gtlsserver, under callgrind.

    bench_instructions.py --h3q-server PATH [--gtlsserver PATH] [--gtlsclient PATH]
                          [--requests 2000] [--downloads 2] [--mb 5] [--runs 2] [--work DIR] [--keep]
                          [--max-udp-payload N]

bench_cpu.py measures CPU time, the figure issue 19's targets are about; on a shared
2-core machine its ratios move by 30 % between rounds. This bench counts the user-space
instructions each server executes for the same work instead (valgrind's callgrind): the
count barely depends on what else the machine runs, so a change of 1 % shows, and the
ratio h3q / ngtcp2 it prints has tracked bench_cpu.py's per-request ratio within a few
per cent. What it does not see: the kernel (about a quarter of a small request's CPU, the
half of a bulk transfer's), cache misses, and how the two run at full speed (under
callgrind each server is some 50 times slower, so packets batch differently).

Each server runs under callgrind; one warm-up connection of 100 requests, then per run:
zero the counters (callgrind_control -z), let ngtcp2's gtlsclient make --requests GETs of
a 1 KiB file on one connection (its handshake included), dump the counters; then the same
for --downloads downloads of an --mb MiB file. Both servers as in bench_cpu.py: one
thread, quiet, 128 concurrent bidirectional streams.

With --keep the dumps stay in --work for `callgrind_annotate`: callgrind.<h3q|ngtcp2>.<pid>.<n>,
odd n a run's requests, even n its downloads.
"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_matrix as rm  # noqa: E402  (servers, certificates, helpers)
from bench_cpu import SMALL, gtlsclient_argv, make_root, payload_args  # noqa: E402


def callgrind_total(path):
    """The instruction count of one callgrind dump ("summary:" or "totals:" line)."""
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"{path}: no summary line")


class Counted:
    """A server under callgrind whose counters can be zeroed and dumped."""

    def __init__(self, name, argv, port, work):
        self.name = name
        self.prefix = os.path.join(work, f"callgrind.{name}")
        self.server = rm.Server(name, ["valgrind", "--tool=callgrind", "--compress-strings=no",
                                       f"--callgrind-out-file={self.prefix}.%p"] + argv,
                                port=port, cwd=work, stdout_to_log=True)
        self.dumps = 0

    def control(self, flag):
        subprocess.run(["callgrind_control", flag, str(self.server.proc.pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    def measure(self, argv, timeout):
        """Instructions the server executed while the client `argv` ran (None: failed)."""
        self.control("-z")
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout)
        self.control("-d")
        self.dumps += 1
        dump = f"{self.prefix}.{self.server.proc.pid}.{self.dumps}"
        for _ in range(50):  # the dump is written by the server's next scheduled step
            if os.path.exists(dump):
                break
            time.sleep(0.1)
        if p.returncode != 0 or not os.path.exists(dump):
            print(f"  {self.name}: run failed (client status {p.returncode})", flush=True)
            return None
        return callgrind_total(dump)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--h3q-server", required=True)
    parser.add_argument("--gtlsserver", default=rm.which("gtlsserver"))
    parser.add_argument("--gtlsclient", default=rm.which("gtlsclient"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--downloads", type=int, default=2)
    parser.add_argument("--mb", type=int, default=5)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--work", help="directory for the certificates, files and dumps")
    parser.add_argument("--keep", action="store_true",
                        help="keep the callgrind dumps in --work (callgrind_annotate reads them)")
    parser.add_argument("--max-udp-payload", type=int, default=0,
                        help="the same ceiling on UDP payloads for the servers and the client "
                             "(as bench_cpu.py's)")
    args = parser.parse_args()
    if args.max_udp_payload and not 1200 <= args.max_udp_payload <= 65527:
        sys.exit("--max-udp-payload: from 1200 to 65527")
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            sys.exit(f"bench_instructions.py needs {tool} (Debian valgrind)")
    if not args.gtlsserver or not args.gtlsclient:
        sys.exit("bench_instructions.py needs ngtcp2's gtlsserver and gtlsclient")

    work = args.work or tempfile.mkdtemp(prefix="h3q-bench-instructions-")
    root = make_root(work, args.mb)
    certs = rm.make_certs(work)
    h3q_port, ng_port = rm.free_udp_port(), rm.free_udp_port()
    servers = [
        Counted("h3q", [os.path.abspath(args.h3q_server), "--listen", f"127.0.0.1:{h3q_port}", "--cert",
                        certs["cert"], "--key", certs["key"], "--root", root,
                        "--workers", "1", "--quiet", *payload_args(args, "h3q")], h3q_port,
                work),
        Counted("ngtcp2", [args.gtlsserver, "--quiet", "-d", root, "--timeout=60s",
                           *payload_args(args, "ngtcp2"),
                           "--max-streams-bidi=128", "127.0.0.1", str(ng_port),
                           certs["key"], certs["cert"]], ng_port, work),
    ]
    mb = args.downloads * args.mb * (1 << 20) / 1e6
    small = {s.name: [] for s in servers}
    bulk = {s.name: [] for s in servers}
    try:
        for s in servers:
            s.server.start(work)
            if s.server.error:
                sys.exit(s.server.error)
            # Up under valgrind (seconds) and past its first connection's one-off work.
            warm = gtlsclient_argv(args, s.server.port, "/small.bin", 100)
            for _ in range(30):
                if subprocess.run(warm, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  timeout=args.timeout).returncode == 0:
                    break
                time.sleep(1)
            else:
                sys.exit(f"{s.name} under callgrind never answered")
        for run in range(args.runs):
            for s in servers:
                port = s.server.port
                n = s.measure(gtlsclient_argv(args, port, "/small.bin", args.requests),
                              args.timeout)
                if n is not None:
                    small[s.name].append(n / args.requests)
                n = s.measure(gtlsclient_argv(args, port, "/big.bin", args.downloads),
                              args.timeout)
                if n is not None:
                    bulk[s.name].append(n / mb)
            print(f"run {run + 1}: " + ", ".join(
                f"{s.name} {small[s.name][-1] if small[s.name] else float('nan'):,.0f} "
                f"instructions/request, {bulk[s.name][-1] if bulk[s.name] else float('nan'):,.0f}"
                f"/MB" for s in servers), flush=True)
    finally:
        for s in servers:
            s.server.stop()
        rm.kill_all()
        if not args.keep:
            for path in glob.glob(os.path.join(work, "callgrind.*")):
                os.remove(path)

    print(f"\nuser-space instructions (callgrind), gtlsclient driving both servers: "
          f"{args.requests} x {SMALL} B requests, {args.downloads} x {args.mb} MiB downloads, "
          f"{args.runs} runs, "
          + (f"UDP payloads up to {args.max_udp_payload} B" if args.max_udp_payload
             else "default UDP payload sizes"))
    for what, table, unit in (("per request", small, "request"), ("per MB", bulk, "MB")):
        if not table["h3q"] or not table["ngtcp2"]:
            print(f"{what}: no complete run")
            continue
        ratios = [a / b for a, b in zip(table["h3q"], table["ngtcp2"])]
        print(f"{what}: h3q {statistics.median(table['h3q']):,.0f}, ngtcp2 "
              f"{statistics.median(table['ngtcp2']):,.0f} instructions/{unit}; ratio median "
              f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
