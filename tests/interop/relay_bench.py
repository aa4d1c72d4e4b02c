#!/usr/bin/env python3
"""h3q against ngtcp2 on a bad path: downloads and uploads through tools/faultrelay.py.

    relay_bench.py --h3q-server PATH --h3q-client PATH [--gtlsserver PATH]
                   [--gtlsclient PATH] [--mb 5] [--upload-mb 2] [--delay 50]
                   [--jitter 20] [--runs 3] [--loss 0.3] [--loss-runs 100]
                   [--parts download,upload,loss] [--work DIR]

Use release builds of h3q's examples (cmake -DCMAKE_BUILD_TYPE=Release). Not part of the
test command. Every transfer goes through its own relay, started with a seed (run i of
each cell uses seed i, so the two columns of a row see the same fault pattern as far as
the traffic allows; the cells of a row take turns, seed by seed), over UDP on 127.0.0.1:

  download  --mb MiB GET from h3q-server and from gtlsserver, each through
            --delay ms +- --jitter ms of independent per-datagram delay (netem's
            `delay 50ms 20ms`: heavy reordering); the client is h3q-client for both
            (and gtlsclient for both, as a second opinion). Time: the client's wall time.
  upload    --upload-mb MiB POSTed by h3q-client and by gtlsclient to gtlsserver (which
            reads and discards bodies, and answers with /small.txt's 1,000 bytes) through
            the same jitter.
  loss      --loss-runs GETs of 1,000 bytes by h3q-client through --loss (0.3: 30 %) loss
            each way, to gtlsserver and to h3q-server: how many complete within 120 s,
            the median and the slowest.

A cell prints the median of its runs and their range; a row ends with the ratio of the
medians (h3q / ngtcp2). Exit status 0 unless a tool is missing (77, with SKIPPED) or a
transfer's bytes were wrong (1).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_matrix as rm  # noqa: E402  (servers, certificates, process cleanup)

RELAY = os.path.join(HERE, "..", "..", "tools", "faultrelay.py")
TIMEOUT_S = 300


class Relay:
    """tools/faultrelay.py in front of 127.0.0.1:`upstream_port`, with `faults`."""

    def __init__(self, upstream_port, faults, seed, work):
        self.log = open(os.path.join(work, "relay.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, RELAY, "--upstream", f"127.0.0.1:{upstream_port}",
             "--seed", str(seed), "--max-held", "200000", *faults],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        rm.PROCS.append(self.proc)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the relay did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            counters = self.proc.communicate(timeout=10)[0].decode()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            counters = ""
        self.log.write(counters.encode())
        self.log.close()
        return counters


def run_client(argv, timeout=TIMEOUT_S):
    """Runs a client; returns (seconds, exit status, what it said last)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout)
        status = p.returncode
        said = [line for line in p.stdout.decode(errors="replace").splitlines()
                if line.startswith("FAILED")]
        said += p.stderr.decode(errors="replace").strip().splitlines()[-4:]
    except subprocess.TimeoutExpired:
        status, said = None, ["timed out"]
    return time.monotonic() - t0, status, said


def h3q_get(args, certs, port, path, out_dir):
    return [args.h3q_client, "--ca", certs["ca"], "-v", "--output", out_dir,
            f"https://127.0.0.1:{port}{path}"]


def h3q_post(args, certs, port, data):
    return [args.h3q_client, "--ca", certs["ca"], "--data", data,
            f"https://127.0.0.1:{port}/small.txt"]


def gtls_get(args, port, path, out_dir):
    return [args.gtlsclient, "--quiet", "--exit-on-all-streams-close", "--download", out_dir,
            "--sni=localhost", "--timeout=120s", "127.0.0.1", str(port),
            f"https://localhost:{port}{path}"]


def gtls_post(args, port, data):
    return [args.gtlsclient, "--quiet", "--exit-on-all-streams-close", "-m", "POST",
            "-d", data, "--sni=localhost", "--timeout=120s", "127.0.0.1", str(port),
            f"https://localhost:{port}/small.txt"]


def summary(times):
    if not times:
        return "no run completed"
    return (f"{statistics.median(times):7.2f} s ({min(times):.2f}-{max(times):.2f})")


def transfer(label, server_port, faults, seed, work, make_argv, check=None):
    """One transfer through a fresh relay with `seed`; its time, or None if it failed."""
    relay = Relay(server_port, faults, seed, work)
    seconds, status, tail = run_client(make_argv(relay.port))
    relay.stop()
    if status != 0:
        print(f"    {label}, seed {seed}: failed (status {status}):")
        for line in tail:
            print(f"      {line}")
        return None
    if check and not check():
        print(f"    {label}, seed {seed}: wrong bytes")
        sys.exit(1)
    return seconds


def measure_pair(cells, runs, work):
    """Runs each of `cells` ((label, server port, faults, argv maker, check)) once per
    seed, interleaved (seed 1 of every cell, then seed 2 ...), so that load from elsewhere
    on a shared machine hits them alike; returns the times of each cell."""
    times = [[] for _ in cells]
    for seed in range(1, runs + 1):
        for i, (label, port, faults, make_argv, check) in enumerate(cells):
            t = transfer(label, port, faults, seed, work, make_argv, check)
            if t is not None:
                times[i].append(t)
    return times


def row(name, h3q_times, ng_times):
    ratio = (statistics.median(h3q_times) / statistics.median(ng_times)
             if h3q_times and ng_times else float("nan"))
    print(f"  {name:<44} h3q {summary(h3q_times):<26} ngtcp2 {summary(ng_times):<26} "
          f"ratio {ratio:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h3q-server", required=True)
    ap.add_argument("--h3q-client", required=True)
    ap.add_argument("--gtlsserver", default=rm.which("gtlsserver"))
    ap.add_argument("--gtlsclient", default=rm.which("gtlsclient"))
    ap.add_argument("--mb", type=int, default=5)
    ap.add_argument("--upload-mb", type=int, default=2)
    ap.add_argument("--delay", type=int, default=50)
    ap.add_argument("--jitter", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--loss", type=float, default=0.3)
    ap.add_argument("--loss-runs", type=int, default=100)
    ap.add_argument("--parts", default="download,upload,loss")
    ap.add_argument("--work")
    args = ap.parse_args()
    for tool in ("gtlsserver", "gtlsclient"):
        if not getattr(args, tool):
            print(f"SKIPPED: {tool} not found (apt-get install ngtcp2-server ngtcp2-client)")
            sys.exit(77)
    if not shutil.which("openssl"):
        print("SKIPPED: openssl not found")
        sys.exit(77)
    work = args.work or tempfile.mkdtemp(prefix="h3q-relay-bench-")
    os.makedirs(work, exist_ok=True)
    certs = rm.make_certs(work)
    root = os.path.join(work, "root")
    os.makedirs(root, exist_ok=True)
    size = args.mb << 20
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(size))
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(b"x" * 1000)
    upload = os.path.join(work, "upload.bin")
    with open(upload, "wb") as f:
        f.write(os.urandom(args.upload_mb << 20))
    out = os.path.join(work, "out")

    h3q = rm.Server("h3q", [args.h3q_server, "--listen", "127.0.0.1:0", "--cert",
                            certs["cert"], "--key", certs["key"], "--root", root])
    ng_port = rm.free_udp_port()
    ng = rm.Server("ngtcp2", [args.gtlsserver, "--quiet", "-d", root, "--timeout=120s",
                              "127.0.0.1", str(ng_port), certs["key"], certs["cert"]],
                   port=ng_port, cwd=work)
    for server in (h3q, ng):
        server.start(work)
        if server.error:
            print(f"FAIL: {server.error}")
            sys.exit(1)

    def got_whole():
        path = rm.find_output(out, "/big.bin")
        ok = path is not None and os.path.getsize(path) == size
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out, exist_ok=True)
        return ok

    os.makedirs(out, exist_ok=True)
    jitter = ["--delay", str(args.delay), "--jitter", str(args.jitter)]
    parts = args.parts.split(",")
    print(f"relay: {args.delay} +- {args.jitter} ms one-way (independent per datagram), "
          f"{args.runs} runs per cell, seeds 1-{args.runs}")
    try:
        if "download" in parts:
            print(f"download of {args.mb} MiB (GET /big.bin), h3q-server vs gtlsserver:")
            for client in ("h3q-client", "gtlsclient"):
                def argv_for(port_of_relay, client=client):
                    if client == "h3q-client":
                        return h3q_get(args, certs, port_of_relay, "/big.bin", out)
                    return gtls_get(args, port_of_relay, "/big.bin", out)
                a, b = measure_pair(
                    [(f"{client} <- h3q-server", h3q.port, jitter, argv_for, got_whole),
                     (f"{client} <- gtlsserver", ng.port, jitter, argv_for, got_whole)],
                    args.runs, work)
                row(f"{client} downloading", a, b)
        if "upload" in parts:
            print(f"upload of {args.upload_mb} MiB (POST to gtlsserver), h3q-client vs "
                  "gtlsclient:")
            a, b = measure_pair(
                [("h3q-client -> gtlsserver", ng.port, jitter,
                  lambda p: h3q_post(args, certs, p, upload), None),
                 ("gtlsclient -> gtlsserver", ng.port, jitter,
                  lambda p: gtls_post(args, p, upload), None)],
                args.runs, work)
            row("uploading to gtlsserver", a, b)
        if "loss" in parts:
            print(f"{args.loss_runs} GETs of 1,000 bytes by h3q-client through "
                  f"{args.loss:.0%} loss each way (seeds 1-{args.loss_runs}):")
            loss = ["--loss", str(args.loss)]
            small = (lambda p: h3q_get(args, certs, p, "/small.txt", out))
            both = measure_pair([("h3q-client <- gtlsserver", ng.port, loss, small, None),
                                 ("h3q-client <- h3q-server", h3q.port, loss, small, None)],
                                args.loss_runs, work)
            for name, times in zip(("gtlsserver", "h3q-server"), both):
                slowest = f"{max(times):.1f} s" if times else "-"
                median = f"{statistics.median(times):.1f} s" if times else "-"
                print(f"  to {name:<12} {len(times)}/{args.loss_runs} complete, median "
                      f"{median}, slowest {slowest}")
    finally:
        for server in (h3q, ng):
            server.stop()


if __name__ == "__main__":
    main()
