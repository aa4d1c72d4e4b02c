#!/usr/bin/env python3
"""h3q-server --workers 1 against --workers N: spread, server CPU per request, throughput.

    bench_workers.py --h3q-server PATH [--gtlsclient PATH] [--workers 2] [--clients 4]
                     [--connections 200] [--requests 40] [--bulk-connections 8]
                     [--bulk-mb 10] [--rounds 3] [--pin auto|on|off] [--work DIR]

Use a release build of h3q-server (cmake -DCMAKE_BUILD_TYPE=Release). Not part of the test
command: it prints figures, it checks nothing. On 127.0.0.1, each round starts the server
with --workers 1 and with --workers N (the order alternating between rounds) and drives it
with ngtcp2's gtlsclient, --clients processes at a time:

  small   --connections client processes, one connection each, each sending --requests
          GETs of /1024 (1 KiB generated bodies): requests per second (wall clock), and the
          server's CPU time per request
  bulk    --bulk-connections processes, each downloading /<bulk-mb MiB> twice on its
          connection: MB per second, and the server's CPU time per MB

The server's CPU time is the sum over its threads of the scheduler's count in nanoseconds
(/proc/PID/task/*/schedstat) before and after each phase. Connections per worker come from
the server's SIGUSR1 report (each worker's "N accepted").

Pinning (--pin): with `on`, the server runs on the first N cores (taskset) and the clients on
the others; `auto` (the default) does so when the machine has at least N + 2 cores. Without
pinning, clients and workers share every core: on a 2-core machine the clients take about
as much CPU as the server, so throughput cannot double; what must hold there is the spread
(each worker 40-60 % of the connections) and the CPU per request (N workers / 1 worker
<= 1.1: no cost for being several). With enough cores to pin, the target is >= 1.6 x the
small-request throughput from 1 to 2 workers, e.g. on 8 cores:

    python3 tests/interop/bench_workers.py --h3q-server build/rel/examples/h3q-server \\
        --workers 2 --clients 6 --pin on
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from proc_stats import schedstat  # beside this script

SMALL = 1024


def server_cpu(pid):
    """CPU seconds all threads of `pid` have run so far (proc_stats.schedstat)."""
    return schedstat(pid)[0]


class H3qServer:
    def __init__(self, binary, workers, work, cpus):
        self.workers = workers
        self.out = os.path.join(work, f"server-w{workers}.out")
        self.err = os.path.join(work, f"server-w{workers}.err")
        argv = [binary, "--listen", "127.0.0.1:0", "--workers", str(workers)]
        if cpus:
            argv = ["taskset", "-c", cpus, *argv]
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.port = None
        deadline = time.monotonic() + 20
        while self.port is None and time.monotonic() < deadline:
            with open(self.out, errors="replace") as f:
                m = re.match(r"listening on .*:(\d+)$", f.readline().strip())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                sys.exit(f"h3q-server exited at start: {open(self.err).read()}")
            else:
                time.sleep(0.05)
        if self.port is None:
            self.stop()
            sys.exit("h3q-server printed no port")

    def accepted(self):
        """Connections each worker accepted so far (SIGUSR1 report), or [total] for one."""
        before = os.path.getsize(self.err)
        self.proc.send_signal(signal.SIGUSR1)
        want = self.workers if self.workers > 1 else 1
        for _ in range(100):
            time.sleep(0.05)
            with open(self.err, errors="replace") as f:
                f.seek(before)
                text = f.read()
            if self.workers == 1 and "stats:" in text:
                return None
            found = re.findall(r"worker (\d+): \d+ connection\(s\) open, (\d+) accepted", text)
            if len(found) >= want:
                counts = [0] * self.workers
                for w, n in found:
                    counts[int(w)] = int(n)
                return counts
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_clients(argvs, parallel, cpus):
    """Runs the argvs, `parallel` at a time; returns (failures, wall seconds)."""
    if cpus:
        argvs = [["taskset", "-c", cpus, *a] for a in argvs]
    failures, running, start = 0, [], time.monotonic()
    pending = list(argvs)
    while pending or running:
        while pending and len(running) < parallel:
            running.append(subprocess.Popen(pending.pop(0), stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL,
                                            stdin=subprocess.DEVNULL))
        still = []
        for p in running:
            if p.poll() is None:
                still.append(p)
            elif p.returncode != 0:
                failures += 1
        running = still
        time.sleep(0.002)
    return failures, time.monotonic() - start


def gtlsclient(args, port, path, count):
    return [args.gtlsclient, "--quiet", "--exit-on-all-streams-close", "--timeout=60s",
            "-n", str(count), "--max-data=256M", "--max-stream-data-bidi-local=64M",
            "127.0.0.1", str(port), f"https://127.0.0.1:{port}{path}"]


def measure(args, workers, work, pin):
    """One server run: small then bulk; returns a dict of figures."""
    server_cpus, client_cpus = pin if pin else (None, None)
    s = H3qServer(args.h3q_server, workers, work, server_cpus)
    try:
        r = {}
        cpu0 = server_cpu(s.proc.pid)
        small = [gtlsclient(args, s.port, f"/{SMALL}", args.requests)] * args.connections
        fails, wall = run_clients(small, args.clients, client_cpus)
        time.sleep(0.2)  # the last acknowledgements and closes
        cpu1 = server_cpu(s.proc.pid)
        requests = args.connections * args.requests
        r["small_failures"] = fails
        r["req_per_s"] = requests / wall
        r["us_per_req"] = (cpu1 - cpu0) / requests * 1e6
        size = args.bulk_mb << 20
        bulk = [gtlsclient(args, s.port, f"/{size}", 2)] * args.bulk_connections
        fails, wall = run_clients(bulk, args.clients, client_cpus)
        time.sleep(0.2)
        cpu2 = server_cpu(s.proc.pid)
        mb = args.bulk_connections * 2 * size / 1e6
        r["bulk_failures"] = fails
        r["mb_per_s"] = mb / wall
        r["ms_per_mb"] = (cpu2 - cpu1) / mb * 1e3
        r["per_worker"] = s.accepted()
        return r
    finally:
        s.stop()


def describe(workers, r):
    spread = ""
    if r["per_worker"]:
        total = sum(r["per_worker"])
        spread = ", connections per worker " + " / ".join(
            f"{n} ({100 * n / total:.0f} %)" for n in r["per_worker"])
    fails = r["small_failures"] + r["bulk_failures"]
    return (f"--workers {workers}: small {r['req_per_s']:.0f} req/s, {r['us_per_req']:.1f} "
            f"us CPU/req; bulk {r['mb_per_s']:.0f} MB/s, {r['ms_per_mb']:.2f} ms CPU/MB"
            f"{spread}{f', {fails} CLIENT FAILURES' if fails else ''}")


def span(values, fmt):
    return (f"median {fmt.format(statistics.median(values))} (range "
            f"{fmt.format(min(values))}-{fmt.format(max(values))}, {len(values)} rounds)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--h3q-server", required=True)
    parser.add_argument("--gtlsclient", default=shutil.which("gtlsclient"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4, help="client processes at a time")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--requests", type=int, default=40, help="per small connection")
    parser.add_argument("--bulk-connections", type=int, default=8)
    parser.add_argument("--bulk-mb", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pin", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--work")
    args = parser.parse_args()
    if not args.gtlsclient:
        sys.exit("bench_workers.py needs ngtcp2's gtlsclient (Debian ngtcp2-client)")
    cores = os.cpu_count() or 1
    n = args.workers
    pin = None
    if args.pin == "on" or (args.pin == "auto" and cores >= n + 2):
        if cores < n + 1:
            sys.exit(f"--pin on needs more than {n} cores; this machine has {cores}")
        pin = (f"0-{n - 1}", f"{n}-{cores - 1}")
    work = args.work or tempfile.mkdtemp(prefix="h3q-bench-workers-")
    print(f"{cores} cores; server on {'cores ' + pin[0] if pin else 'any core'}, clients on "
          f"{'cores ' + pin[1] if pin else 'any core'}; {args.clients} clients at a time; small: "
          f"{args.connections} connections x {args.requests} GETs of {SMALL} B; bulk: "
          f"{args.bulk_connections} connections x 2 x {args.bulk_mb} MiB", flush=True)
    cpu_ratio, small_ratio, bulk_ratio, shares = [], [], [], []
    for rnd in range(args.rounds):
        order = [1, n] if rnd % 2 == 0 else [n, 1]
        res = {w: measure(args, w, work, pin) for w in order}
        for w in order:
            print(f"round {rnd + 1}: {describe(w, res[w])}", flush=True)
        one, many = res[1], res[n]
        cpu_ratio.append(many["us_per_req"] / one["us_per_req"])
        small_ratio.append(many["req_per_s"] / one["req_per_s"])
        bulk_ratio.append(many["mb_per_s"] / one["mb_per_s"])
        if many["per_worker"]:
            total = sum(many["per_worker"])
            shares += [100 * c / total for c in many["per_worker"]]
    print(f"\nserver CPU per request, {n} workers / 1: {span(cpu_ratio, '{:.2f}')} "
          f"(target <= 1.10)")
    print(f"small-request throughput, {n} workers / 1: {span(small_ratio, '{:.2f}')}"
          + (" (target >= 1.6 with pinning)" if pin else
             " (clients share the cores: no target)"))
    print(f"bulk throughput, {n} workers / 1: {span(bulk_ratio, '{:.2f}')}")
    if shares:
        print(f"connections per worker: {min(shares):.0f}-{max(shares):.0f} % of each "
              f"round's (target within 40-60 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
