#!/usr/bin/env python3
"""HTTP/3 interop matrix: h3q's example programs against aioquic and ngtcp2, both ways,
and niquests as a third, independent client.

    run_matrix.py --h3q-server PATH --h3q-client PATH --python PATH
                  [--gtlsserver PATH] [--gtlsclient PATH] [--work DIR] [--big-mb N]
                  [--rows LIST] [-v]

Builds nothing. --python is an interpreter with aioquic and niquests installed
(build/venv/bin/python); it runs tests/interop/aioquic_server.py, aioquic_client.py and
niquests_client.py. gtlsserver / gtlsclient are ngtcp2's example programs (Debian
ngtcp2-server / ngtcp2-client), found on PATH (and in /usr/sbin) unless given.

Rows (client -> server):  h3q -> aioquic, h3q -> ngtcp2, aioquic -> h3q, ngtcp2 -> h3q,
niquests -> h3q, niquests -> aioquic, niquests -> ngtcp2 (the last two show that the
niquests client script is right), and h3q -> h3q as the reference. Columns, each run as one
client invocation over UDP on 127.0.0.1 against a server listening on an ephemeral port:

  GET small    /small.txt (1000 bytes from the document root) arrives byte for byte
  GET 10 MB    /big.bin (10 MiB of random bytes): SHA-256 of what arrives equals the
               SHA-256 of the file the server serves
  POST echo    1 MiB of random bytes POSTed to /echo come back identical
  100 parallel /p000 ... /p099 (100 files, 1-8 KiB) requested at once (--parallel 100 or all
               URLs in one invocation), every body identical to its file

All servers get the same certificate (a leaf for localhost / 127.0.0.1 signed by a CA made
with openssl for this run) and the same document root. Clients that verify certificates
(h3q-client, aioquic_client.py, niquests_client.py) trust that CA; gtlsclient does not
verify certificates.

Cells: "ok", "FAIL", "n.a." or "skipped", with a reason listed under the table. A row is
skipped when a peer it needs is missing (aioquic or niquests not importable by --python,
gtlsserver or gtlsclient not found; without openssl every row is); the other rows still
run. Ends with the line "N passed, N failed, N skipped". Exit status: 1 on any failure;
otherwise 77 (CTest's SKIP_RETURN_CODE) when anything was skipped, after a last line
"SKIPPED: <what is missing and how to install it>"; else 0. Every process started is
killed at the end, every step has a time limit.
"""

import argparse
import atexit
import hashlib
import os
import random
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKS = ["GET small", "GET 10 MB", "POST echo", "100 parallel"]
ECHO_BYTES = 1 << 20
PARALLEL = 100
STEP_TIMEOUT = {"GET small": 30, "GET 10 MB": 90, "POST echo": 60, "100 parallel": 60}
VERBOSE = False
PROCS = []
SKIP_EXIT = 77  # CTest's SKIP_RETURN_CODE for this test


def log(*args):
    if VERBOSE:
        print(*args, file=sys.stderr, flush=True)


def kill_all():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(kill_all)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fixtures ---------------------------------------------------------------------------------


def make_root(root, big_mb):
    os.makedirs(root, exist_ok=True)
    rng = random.Random(0x4833)
    files = {}

    def put(name, data):
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        files[name] = hashlib.sha256(data).hexdigest()

    put("small.txt", bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz\n") for _ in range(1000)))
    put("big.bin", os.urandom(big_mb << 20))
    for i in range(PARALLEL):
        put(f"p{i:03d}", os.urandom(rng.randint(1024, 8192)))
    return files


def make_certs(work):
    """A CA and a leaf for localhost / 127.0.0.1 signed by it (openssl); returns paths."""
    d = os.path.join(work, "certs")
    os.makedirs(d, exist_ok=True)
    ca_key, ca, key, csr, cert, ext = (os.path.join(d, n) for n in (
        "ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem", "leaf.ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    for cmd in (
        ["genpkey", *ec, "-out", ca_key],
        ["req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=h3q interop CA", "-days", "2",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign", "-out", ca],
        ["genpkey", *ec, "-out", key],
        ["req", "-new", "-key", key, "-subj", "/CN=localhost", "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "2", "-extfile", ext, "-out", cert],
    ):
        subprocess.run(["openssl", *cmd], check=True, capture_output=True, timeout=30)
    return {"ca": ca, "key": key, "cert": cert}


# --- servers ----------------------------------------------------------------------------------


class Server:
    """A running server; `port` is where it listens on 127.0.0.1."""

    def __init__(self, name, argv, port=None, cwd=None, stdout_to_log=False):
        """With a known `port`, `stdout_to_log` sends stdout straight to the log file
        instead of through a pipe this process drains (benchmarks: no reader thread
        competing for the CPU)."""
        self.name = name
        self.stdout_to_log = stdout_to_log and port is not None
        self.argv = argv
        self.log_path = None
        self.proc = None
        self.port = port
        self.error = None
        self.cwd = cwd

    def start(self, work):
        self.log_path = os.path.join(work, f"server-{self.name}.log")
        err = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                self.argv, stdout=err if self.stdout_to_log else subprocess.PIPE, stderr=err,
                stdin=subprocess.DEVNULL, cwd=self.cwd)
        except OSError as e:
            self.error = f"cannot start {self.argv[0]}: {e}"
            return
        finally:
            err.close()
        PROCS.append(self.proc)
        if self.port is None:
            # The first stdout line carries the bound port ("... 127.0.0.1:PORT").
            ready, _, _ = select.select([self.proc.stdout], [], [], 20)
            line = self.proc.stdout.readline().decode(errors="replace") if ready else ""
            m = re.search(r":(\d+)\s*$", line.strip()) or re.search(r"\b(\d{2,5})\b", line)
            if not m:
                self.error = f"{self.name} printed no port (first line {line.strip()!r})"
                self.stop()
                return
            self.port = int(m.group(1))
        else:
            time.sleep(0.5)
        # Keep reading stdout (servers log one line per request) so the server never
        # blocks on a full pipe; the lines go to its log file.
        if not self.stdout_to_log:
            threading.Thread(target=self._drain, daemon=True).start()
        if self.proc.poll() is not None:
            self.error = f"{self.name} exited at start with status {self.proc.returncode}"
        log(f"{self.name} server on port {self.port}")

    def _drain(self):
        try:
            with open(self.log_path, "ab") as f:
                for line in self.proc.stdout:
                    f.write(b"stdout: " + line)
        except (OSError, ValueError):
            pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGINT, then up to 10 s for a clean exit; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_tail(self, n=5):
        try:
            with open(self.log_path, errors="replace") as f:
                return " | ".join(f.read().strip().splitlines()[-n:])
        except OSError:
            return ""


# --- clients ----------------------------------------------------------------------------------


class Client:
    """Runs one request batch: GET (or POST `data`) of `paths`, bodies into `out_dir`."""

    name = ""

    def __init__(self, args, certs):
        self.args = args
        self.certs = certs

    def argv(self, port, paths, out_dir, data, parallel):
        raise NotImplementedError

    def check_log(self, check, stderr):
        """None, or why the client's own report (stderr) shows the check did not happen as
        intended even though the bodies are right."""
        return None

    def run(self, port, paths, out_dir, data=None, parallel=1, timeout=60):
        os.makedirs(out_dir, exist_ok=True)
        argv = self.argv(port, paths, out_dir, data, parallel)
        log("  $ " + " ".join(argv[:12]) + (" ..." if len(argv) > 12 else ""))
        start = time.monotonic()
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return None, time.monotonic() - start, (e.stderr or b"").decode(errors="replace")
        except OSError as e:
            return None, 0.0, str(e)
        return p.returncode, time.monotonic() - start, p.stderr.decode(errors="replace")


def url(port, path):
    return f"https://127.0.0.1:{port}{path}"


class H3qClient(Client):
    name = "h3q"

    def argv(self, port, paths, out_dir, data, parallel):
        a = [self.args.h3q_client, "--ca", self.certs["ca"], "--output", out_dir,
             "--parallel", str(parallel)]
        if data:
            a += ["--data", data]
        return a + [url(port, p) for p in paths]


class AioquicClient(Client):
    name = "aioquic"

    def argv(self, port, paths, out_dir, data, parallel):
        a = [self.args.python, os.path.join(HERE, "aioquic_client.py"), "--ca",
             self.certs["ca"], "--server-name", "localhost", "--output", out_dir,
             "--parallel", str(parallel), "--timeout", "100"]
        if data:
            a += ["--data", data]
        return a + [url(port, p) for p in paths]


class NiquestsClient(Client):
    name = "niquests"

    def argv(self, port, paths, out_dir, data, parallel):
        # HTTP/3 only; --parallel > 1 is niquests' multiplexed mode on one connection.
        a = [self.args.python, os.path.join(HERE, "niquests_client.py"), "--ca",
             self.certs["ca"], "--output", out_dir, "--parallel", str(parallel),
             "--timeout", "60"]
        if data:
            a += ["--data", data]
        return a + [url(port, p) for p in paths]

    def check_log(self, check, stderr):
        # Every response over HTTP/3, and the 100 requests really in flight together.
        lines = [ln for ln in stderr.splitlines() if " sha256=" in ln]
        if any(" HTTP/3 " not in ln for ln in lines):
            return "a response did not come over HTTP/3"
        if check == "100 parallel":
            m = re.search(r"at most (\d+) in flight", stderr)
            if not m or int(m.group(1)) != PARALLEL:
                return (f"niquests did not send the {PARALLEL} requests at once "
                        f"({m.group(0) if m else 'no in-flight count'})")
        return None


class Ngtcp2Client(Client):
    name = "ngtcp2"

    def argv(self, port, paths, out_dir, data, parallel):
        # gtlsclient sends every URI at once (up to the server's stream limit).
        a = [self.args.gtlsclient, "--quiet", "--exit-on-all-streams-close",
             "--download", out_dir, "--sni=localhost", "--timeout=20s"]
        if data:
            a += ["-m", "POST", "-d", data]
        return a + ["127.0.0.1", str(port)] + [f"https://localhost:{port}{p}" for p in paths]


def find_output(out_dir, path):
    """The file a client wrote for `path` (named after the last path segment)."""
    name = path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    direct = os.path.join(out_dir, name)
    if os.path.isfile(direct):
        return direct
    for base, _, names in os.walk(out_dir):
        for n in names:
            if n == name or n.endswith("_" + name) or n.endswith("-" + name):
                return os.path.join(base, n)
    return None


# --- the matrix -------------------------------------------------------------------------------


class Cell:
    def __init__(self, state, reason="", seconds=None):
        self.state, self.reason, self.seconds = state, reason, seconds


def compare(out_dir, expected):
    """None if every path's output matches its SHA-256, else a short reason."""
    bad = []
    for path, digest in expected.items():
        f = find_output(out_dir, path)
        if f is None:
            bad.append(f"{path}: no output")
        else:
            got = sha256_file(f)
            if got != digest:
                bad.append(f"{path}: sha256 {got[:12]}.. != {digest[:12]}.. "
                           f"({os.path.getsize(f)} bytes)")
    if not bad:
        return None
    more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
    return f"{len(bad)}/{len(expected)} wrong: " + "; ".join(bad[:3]) + more


def run_check(check, client, server, work, files, echo_file, echo_digest):
    tag = f"{client.name}-{server.name}-{check.replace(' ', '_')}"
    out_dir = os.path.join(work, "out", tag)
    shutil.rmtree(out_dir, ignore_errors=True)
    timeout = STEP_TIMEOUT[check]
    note = None
    if check == "GET small":
        paths, data, parallel = ["/small.txt"], None, 1
        expected = {"/small.txt": files["small.txt"]}
    elif check == "GET 10 MB":
        paths, data, parallel = ["/big.bin"], None, 1
        expected = {"/big.bin": files["big.bin"]}
    elif check == "POST echo":
        data, parallel = echo_file, 1
        if server.name == "ngtcp2":
            # gtlsserver has no echo: it reads and discards request bodies and answers
            # with the file at the path. Still check that the upload goes through.
            paths, expected = ["/small.txt"], {"/small.txt": files["small.txt"]}
            note = ("gtlsserver has no echo route (it discards request bodies); "
                    f"instead a {ECHO_BYTES >> 20} MiB POST to /small.txt was answered "
                    "with the file: {}")
        else:
            paths, expected = ["/echo"], {"/echo": echo_digest}
    else:
        paths = [f"/p{i:03d}" for i in range(PARALLEL)]
        data, parallel = None, PARALLEL
        expected = {p: files[p[1:]] for p in paths}

    if not server.alive():
        return Cell("FAIL", f"{server.name} server not running "
                            f"({server.error or 'exited'}; {server.log_tail()})")
    rc, seconds, err = client.run(server.port, paths, out_dir, data, parallel, timeout)
    err_tail = " | ".join(err.strip().splitlines()[-2:])
    if rc is None:
        reason = f"timed out after {timeout} s" if seconds else f"did not start: {err}"
        return Cell("FAIL", f"{client.name} client {reason}; {err_tail}".strip("; "), seconds)
    mismatch = compare(out_dir, expected)
    if mismatch:
        return Cell("FAIL", f"{mismatch}; exit status {rc}; {err_tail}".strip("; "), seconds)
    if rc != 0:
        return Cell("FAIL", f"bodies right but {client.name} client exited {rc}: {err_tail}",
                    seconds)
    wrong = client.check_log(check, err)
    if wrong:
        return Cell("FAIL", f"bodies right but {wrong}", seconds)
    if note:
        return Cell("n.a.", note.format("ok"), seconds)
    return Cell("ok", "", seconds)


def print_table(rows, results):
    notes = []  # a reason shared by several cells (a missing peer) is listed once
    head = ["client -> server"] + CHECKS
    table = []
    for row in rows:
        cells = [row]
        for check in CHECKS:
            c = results[(row, check)]
            text = c.state
            if c.state == "ok" and c.seconds is not None:
                text += f" {c.seconds:.1f}s"
            if c.reason:
                if c.reason not in notes:
                    notes.append(c.reason)
                text += f" [{notes.index(c.reason) + 1}]"
            cells.append(text)
        table.append(cells)
    widths = [max(len(r[i]) for r in [head] + table) for i in range(len(head))]
    line = "+".join("-" * (w + 2) for w in widths)
    fmt = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    print(fmt(head))
    print(line)
    for r in table:
        print(fmt(r))
    if notes:
        print()
        for i, n in enumerate(notes, 1):
            print(f"[{i}] {n}")


def which(name, extra=("/usr/sbin", "/usr/local/sbin", "/sbin")):
    path = shutil.which(name)
    if path:
        return path
    for d in extra:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def python_can_import(python, module):
    """True if `python -c "import module"` succeeds."""
    try:
        return subprocess.run([python, "-c", f"import {module}"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def missing_peers(args):
    """{peer: what is missing and how to install it} for every peer that is not there."""
    missing = {}
    pip = f"{args.python} -m pip install"
    for module in ("aioquic", "niquests"):
        if not python_can_import(args.python, module):
            missing[module] = f"{module} is not importable by {args.python} ({pip} {module})"
    if not args.gtlsserver or not os.access(args.gtlsserver, os.X_OK):
        missing["gtlsserver"] = ("ngtcp2's gtlsserver not found "
                                 "(apt-get install ngtcp2-server, or --gtlsserver PATH)")
    if not args.gtlsclient or not os.access(args.gtlsclient, os.X_OK):
        missing["gtlsclient"] = ("ngtcp2's gtlsclient not found "
                                 "(apt-get install ngtcp2-client, or --gtlsclient PATH)")
    if not which("openssl"):
        missing["openssl"] = "openssl not found (apt-get install openssl)"
    return missing


# The peers each end of a row needs (besides openssl, which makes every row's certificate).
CLIENT_PEERS = {"h3q": [], "aioquic": ["aioquic"], "ngtcp2": ["gtlsclient"],
                "niquests": ["niquests"]}
SERVER_PEERS = {"h3q": [], "aioquic": ["aioquic"], "ngtcp2": ["gtlsserver"]}


def main():
    global VERBOSE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--h3q-server", required=True)
    parser.add_argument("--h3q-client", required=True)
    parser.add_argument("--python", required=True,
                        help="Python with aioquic and niquests installed")
    parser.add_argument("--gtlsserver", default=which("gtlsserver"))
    parser.add_argument("--gtlsclient", default=which("gtlsclient"))
    parser.add_argument("--work", help="work directory (default: a temporary one, removed)")
    parser.add_argument("--big-mb", type=int, default=10)
    parser.add_argument("--h3q-server-args", default="",
                        help="more options for h3q-server, one string (e.g. '--retry --0rtt')")
    parser.add_argument("--rows", help="comma-separated subset of the rows, e.g. 'h3q -> aioquic'")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    VERBOSE = args.verbose
    started = time.monotonic()

    rows = ["h3q -> aioquic", "h3q -> ngtcp2", "aioquic -> h3q", "ngtcp2 -> h3q",
            "niquests -> h3q", "niquests -> aioquic", "niquests -> ngtcp2", "h3q -> h3q"]
    if args.rows:
        wanted = [r.strip() for r in args.rows.split(",")]
        rows = [r for r in rows if r in wanted]
    # Rows whose peers are missing are skipped; the others run.
    missing = missing_peers(args)
    results = {}
    runnable = []
    absent_peers = []  # the missing peers some row needed, in order
    for row in rows:
        cname, sname = row.split(" -> ")
        absent = [p for p in ["openssl"] + CLIENT_PEERS[cname] + SERVER_PEERS[sname]
                  if p in missing]
        absent_peers += [p for p in absent if p not in absent_peers]
        if absent:
            for check in CHECKS:
                results[(row, check)] = Cell("skipped", "; ".join(missing[p] for p in absent))
        else:
            runnable.append(row)
    skip_line = "SKIPPED: " + "; ".join(missing[p] for p in absent_peers)
    if not runnable:
        print_table(rows, results)
        print(f"\n0 passed, 0 failed, {len(results)} skipped")
        print(skip_line, flush=True)
        return SKIP_EXIT

    work = args.work or tempfile.mkdtemp(prefix="h3q-interop-")
    os.makedirs(work, exist_ok=True)
    root = os.path.join(work, "root")
    files = make_root(root, args.big_mb)
    certs = make_certs(work)
    echo_file = os.path.join(work, "echo.bin")
    with open(echo_file, "wb") as f:
        f.write(os.urandom(ECHO_BYTES))
    echo_digest = sha256_file(echo_file)

    servers = {
        "h3q": Server("h3q", [args.h3q_server, "--listen", "127.0.0.1:0", "--cert",
                              certs["cert"], "--key", certs["key"], "--root", root]
                      + shlex.split(args.h3q_server_args)),
        "aioquic": Server("aioquic", [args.python, os.path.join(HERE, "aioquic_server.py"),
                                      "--listen", "127.0.0.1:0", "--cert", certs["cert"],
                                      "--key", certs["key"], "--root", root]),
    }
    ng_port = free_udp_port()
    servers["ngtcp2"] = Server("ngtcp2", [args.gtlsserver or "gtlsserver", "--quiet",
                                          "-d", root, "--timeout=30s", "127.0.0.1",
                                          str(ng_port), certs["key"], certs["cert"]],
                               port=ng_port, cwd=work)
    clients = {"h3q": H3qClient(args, certs), "aioquic": AioquicClient(args, certs),
               "ngtcp2": Ngtcp2Client(args, certs), "niquests": NiquestsClient(args, certs)}

    exit_notes = []
    try:
        needed = {r.split(" -> ")[1] for r in runnable}
        for name in needed:
            servers[name].start(work)
        for row in runnable:
            cname, sname = row.split(" -> ")
            for check in CHECKS:
                log(f"{row}: {check}")
                results[(row, check)] = run_check(check, clients[cname], servers[sname], work,
                                                  files, echo_file, echo_digest)
                log(f"  -> {results[(row, check)].state} {results[(row, check)].reason}")
    finally:
        for name in ("h3q", "aioquic", "ngtcp2"):
            s = servers[name]
            was_running = s.alive()
            status = s.stop()
            if name == "h3q" and was_running and status != 0:
                exit_notes.append(f"h3q-server exited with status {status} on SIGINT "
                                  f"(expected 0): {s.log_tail()}")
        kill_all()

    print_table(rows, results)
    passed = sum(1 for c in results.values() if c.state == "ok")
    failed = sum(1 for c in results.values() if c.state == "FAIL") + len(exit_notes)
    na = sum(1 for c in results.values() if c.state == "n.a.")
    skipped = sum(1 for c in results.values() if c.state == "skipped")
    for n in exit_notes:
        print(f"FAIL: {n}")
    print(f"\n{na} n.a.; work directory {work}; {time.monotonic() - started:.1f} s")
    if not args.work and failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    if failed:
        return 1
    if skipped:
        print(skip_line, flush=True)
        return SKIP_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
