#!/usr/bin/env python3
"""The hold test: one h3q-server holds many concurrent HTTP/3 connections from h3q-load.

    hold.py [--build DIR | --server PATH --load PATH] [--work DIR]
            [--connections N] [--duration S] [--interval S] [--rate N] [--per-socket N]
            [--path PATH] [--workers N] [--short] [--max-rss-per-conn KB]

Starts h3q-server on 127.0.0.1 (a port the kernel picks; --workers N threads, default 1:
one endpoint on one socket, what "one server" means here), lets h3q-load open --connections
(default 10,000) at --rate a second (default 500), each making a GET of --path (default
/100) every --interval seconds (default 3, +-25 %), holds them --duration seconds (default
60) once all are opened, then closes them. Meanwhile it reads the server's VmRSS and VmHWM
from /proc/PID/status every second. Prints: connections established, the server's RSS
before the load (baseline), at its peak, over the hold (first and last sample), after the
closes, RSS per connection ((peak - baseline) / N), the server's CPU time per request,
requests completed (client) and served (the server's log lines), errors, and the client's
figures (latency percentiles, its own peak RSS).

Fails (exit 1) on any error: a connection not established, a handshake failure, a
connection error, a request that is not a complete 200, the server dying or logging a
problem, or not exiting with status 0 after SIGTERM; or on more than --max-rss-per-conn kB (default 256) of server RSS per connection,
a ceiling well above the measured figure that catches unbounded growth, not a few percent.

--short is the CTest version (test hold_short): 300 connections, a request every second,
5 s of holding. With H3Q_HOLD=1 in the environment --short is ignored and the full size
runs. Without --server/--load the binaries come from --build (default build/release: a
release build, cmake -DCMAKE_BUILD_TYPE=Release, is what the figures are for).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from proc_stats import schedstat  # beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TICKS = os.sysconf("SC_CLK_TCK")


def status_kb(pid, field):
    """A field of /proc/PID/status in kB (VmRSS, VmHWM), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """User + system CPU seconds of the process so far, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def udp_drops():
    """Per UDP socket on this machine: (local port, inode, datagrams dropped because its
    receive queue was full), from /proc/net/udp."""
    rows = []
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                fields = line.split()
                rows.append((int(fields[1].split(":")[1], 16), fields[9], int(fields[-1])))
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return rows


def socket_inodes(pid):
    """The inodes of the sockets process `pid` has open."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


class Sampler(threading.Thread):
    """Every second: VmRSS of `pid` ((seconds since start, kB) pairs), its CPU time over the
    second (per-second CPU shares, 1.0 = one core), and the datagrams dropped at the server's
    socket (on `port`) and at the sockets of the process `load_pid` (h3q-load), whose
    sockets close when it ends."""

    def __init__(self, pid, port):
        super().__init__(daemon=True)
        self.pid = pid
        self.port = port
        self.load_pid = None
        self.samples = []
        self.cpu_shares = []
        self.server_drops_by_socket = {}
        self.load_drops = {}
        self.stop = threading.Event()

    @property
    def server_drops(self):
        return sum(self.server_drops_by_socket.values())

    def count_drops(self):
        load_inodes = socket_inodes(self.load_pid) if self.load_pid else set()
        for port, inode, drops in udp_drops():
            if port == self.port:  # every worker's socket has the port
                old = self.server_drops_by_socket.get(inode, 0)
                self.server_drops_by_socket[inode] = max(old, drops)
            elif inode in load_inodes:
                self.load_drops[inode] = max(self.load_drops.get(inode, 0), drops)

    def run(self):
        start = time.monotonic()
        last = (start, cpu_seconds(self.pid))
        while not self.stop.is_set():
            rss = status_kb(self.pid, "VmRSS")
            now, cpu = time.monotonic(), cpu_seconds(self.pid)
            if rss is not None:
                self.samples.append((now - start, rss))
            if cpu is not None and last[1] is not None and now > last[0]:
                self.cpu_shares.append((cpu - last[1]) / (now - last[0]))
            last = (now, cpu)
            self.count_drops()
            self.stop.wait(1.0)


def server_log(path):
    """The server's stdout: its first line, how many request lines followed (one per request
    served), and up to 50 of those that are not a 200 (nor the certificate's fingerprint).
    The log goes to a file, not a pipe: a pipe that the reader empties late (this script on
    a loaded machine) would block the server's writes and, with them, its event loop."""
    first, lines, odd = None, 0, []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode(errors="replace").rstrip("\n")
            if first is None:
                first = line
                continue
            lines += 1
            if " 200 " not in line and "fingerprint" not in line and len(odd) < 50:
                odd.append(line)
    return first, lines, odd


def wait_for_listening(path, server, timeout=10.0):
    """The port from the server's first line ("listening on ADDRESS:PORT"), once written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        with open(path, "rb") as f:
            line = f.readline().decode(errors="replace")
        if line.endswith("\n"):
            if not line.startswith("listening on "):
                sys.exit(f"hold.py: the server did not start: {line.strip()!r}")
            return int(line.strip().rsplit(":", 1)[1])
        time.sleep(0.05)
    sys.exit("hold.py: the server did not say where it listens")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    p.add_argument("--server", help="h3q-server (default: in --build)")
    p.add_argument("--load", help="h3q-load (default: in --build)")
    p.add_argument("--work", help="directory for the logs (default: a temporary one)")
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--interval", type=float, default=3)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--per-socket", type=int, default=1000)
    p.add_argument("--path", default="/100")
    p.add_argument("--workers", type=int, default=1,
                   help="h3q-server's --workers (default 1; RSS is the whole process's)")
    p.add_argument("--short", action="store_true",
                   help="300 connections, a request a second, 5 s (unless H3Q_HOLD=1)")
    p.add_argument("--max-rss-per-conn", type=float, default=256,
                   help="kB of server RSS per connection above which the test fails")
    a = p.parse_args()
    if a.short and os.environ.get("H3Q_HOLD") != "1":
        a.connections, a.duration, a.interval = 300, 5, 1
    a.server = a.server or os.path.join(a.build, "examples", "h3q-server")
    a.load = a.load or os.path.join(a.build, "tools", "h3q-load", "h3q-load")
    for path in (a.server, a.load):
        if not os.access(path, os.X_OK):
            sys.exit(f"hold.py: no program at {path} (build it, or give --server/--load)")
    return a


def main():
    a = parse_args()
    work = a.work or tempfile.mkdtemp(prefix="h3q-hold-")
    os.makedirs(work, exist_ok=True)
    server_err = open(os.path.join(work, "server.stderr"), "wb")
    out_path = os.path.join(work, "server.stdout")
    server_out = open(out_path, "wb")
    server = subprocess.Popen([a.server, "--listen", "127.0.0.1:0", "--workers", str(a.workers)],
                              stdout=server_out, stderr=server_err, stdin=subprocess.DEVNULL)
    failures = []
    try:
        port = wait_for_listening(out_path, server)
        time.sleep(0.5)
        baseline = status_kb(server.pid, "VmRSS")
        cpu_before = cpu_seconds(server.pid)
        sched_before = schedstat(server.pid)
        load_before = os.getloadavg()[0]
        sampler = Sampler(server.pid, port)
        sampler.start()
        load_cmd = [a.load, "--server", f"127.0.0.1:{port}", "--host", "localhost",
                    "--insecure", "--connections", str(a.connections), "--rate", str(a.rate),
                    "--interval", str(a.interval), "--duration", str(a.duration),
                    "--per-socket", str(a.per_socket), "--path", a.path, "--progress", "5"]
        print("hold.py: " + " ".join(load_cmd), flush=True)
        limit = a.connections / a.rate + a.duration + 120
        load = subprocess.Popen(load_cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        sampler.load_pid = load.pid
        try:
            load_out = load.communicate(timeout=limit)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            load.kill()
            load.wait()
            sys.exit(f"hold.py: h3q-load did not finish within {limit:.0f} s")
        cpu_after = cpu_seconds(server.pid)
        sched_after = schedstat(server.pid)
        sampler.count_drops()
        drops = sampler.server_drops
        load_after = os.getloadavg()[0]
        time.sleep(2)  # the closes drain; the server frees the connections
        after_close = status_kb(server.pid, "VmRSS")
        hwm = status_kb(server.pid, "VmHWM")
        sampler.stop.set()
        sampler.join()
        if server.poll() is not None:
            failures.append(f"the server exited (status {server.returncode}) during the run")
        server_err.flush()
        with open(os.path.join(work, "server.stderr"), "rb") as f:
            problems = f.read().decode(errors="replace").strip()
        if problems:
            failures.append(f"the server's stderr: {problems[:500]}")
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        server_err.close()
        server_out.close()
    _, served, odd_lines = server_log(out_path)
    # SIGTERM drains and exits 0 (a sanitizer's report, a leak included, makes it fail).
    if server.returncode != 0:
        with open(os.path.join(work, "server.stderr"), "rb") as f:
            tail = f.read().decode(errors="replace")[-500:]
        failures.append(f"the server exited with status {server.returncode}: {tail}")

    sys.stdout.write(load_out)
    result = None
    for line in load_out.splitlines():
        if line.startswith("json "):
            result = json.loads(line[5:])
    if result is None:
        sys.exit(f"hold.py: h3q-load printed no summary (exit status {load.returncode})")

    n = a.connections
    peak = max([kb for _, kb in sampler.samples] + [baseline])
    # The hold, on the sampler's clock (started just before the load): from the end of the
    # ramp plus one interval (every connection has made its first request) to its end.
    hold_start = result["ramp_s"] + a.interval
    hold_end = result["ramp_s"] + result["hold_s"]
    hold = [kb for t, kb in sampler.samples if hold_start <= t <= hold_end]
    per_conn = (peak - baseline) / n
    cpu = (cpu_after or 0) - (cpu_before or 0)
    completed = result["completed"]
    print(f"server: RSS baseline {baseline} kB, peak {peak} kB (VmHWM {hwm} kB), "
          f"{per_conn:.1f} kB per connection ((peak - baseline) / {n})")
    if hold:
        print(f"server: RSS over the hold: first {hold[0]} kB, last {hold[-1]} kB, "
              f"min {min(hold)} kB, max {max(hold)} kB ({len(hold)} samples)")
    series = [kb for t, kb in sampler.samples][::10]
    print("server: RSS every 10 s from the load's start (kB): " + ", ".join(map(str, series)))
    print(f"server: RSS {after_close} kB 2 s after the connections closed")
    print(f"server: CPU {cpu:.1f} s during the run, "
          f"{(cpu / completed * 1e6) if completed else 0:.0f} us per request; "
          f"{served} log lines (requests served)")
    busiest = max(sampler.cpu_shares, default=0)
    waited = None
    if sched_before and sched_after:
        waited = sched_after[1] - sched_before[1]
    print(f"server: busiest second {busiest * 100:.0f} % of a core; waited {waited or 0:.1f} s "
          f"for a CPU while runnable; {drops} datagrams dropped at its socket (receive "
          f"queue full); machine load average {load_before:.1f} before, {load_after:.1f} after")
    load_drops = sum(sampler.load_drops.values())
    print(f"client: {load_drops} datagrams dropped at h3q-load's {len(sampler.load_drops)} "
          f"sockets (receive queues full; counted until its last second)")
    summary = {"connections": n, "established": result["established"],
               "server_rss_baseline_kb": baseline, "server_rss_peak_kb": peak,
               "server_vmhwm_kb": hwm, "server_rss_per_conn_kb": round(per_conn, 2),
               "server_rss_hold_first_kb": hold[0] if hold else None,
               "server_rss_hold_last_kb": hold[-1] if hold else None,
               "server_rss_after_close_kb": after_close,
               "server_cpu_s": round(cpu, 2),
               "server_busiest_second_cpu": round(busiest, 2),
               "server_runqueue_wait_s": round(waited, 2) if waited is not None else None,
               "server_socket_drops": drops, "client_socket_drops": load_drops,
               "load_average": [round(load_before, 1), round(load_after, 1)],
               "requests_completed": completed,
               "requests_failed": result["failed"],
               "errors": result["handshake_failures"] + result["connection_errors"]
               + result["failed"]}
    print("hold " + json.dumps(summary))

    if result["established"] != n:
        failures.append(f"{result['established']} of {n} connections established")
    for key in ("handshake_failures", "connection_errors", "failed"):
        if result[key]:
            failures.append(f"{result[key]} {key.replace('_', ' ')}")
    if result["failures"]:
        failures.append(f"failures by reason: {result['failures']}")
    if load.returncode != 0:
        failures.append(f"h3q-load exited with status {load.returncode}")
    if odd_lines:
        failures.append("the server logged other than 200s: " + "; ".join(odd_lines[:5]))
    if per_conn > a.max_rss_per_conn:
        failures.append(f"{per_conn:.1f} kB of server RSS per connection, over "
                        f"{a.max_rss_per_conn:g} kB")
    if failures:
        for f in failures:
            print(f"hold.py: FAILED: {f}")
        return 1
    print(f"hold.py: OK: {n} connections held {result['hold_s']:.0f} s, "
          f"{completed} requests, no error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
