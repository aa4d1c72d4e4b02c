"""The asyncio example programs (bindings/python/examples) against other HTTP/3 stacks.

http3_client.py downloads 10 MB (GET /10000000, which h3q-server and aioquic's server
both generate as 64-byte lines of letters) and its SHA-256 must be right, from h3q-server
($H3Q_SERVER), aioquic's server (tests/interop/aioquic_server.py) and ngtcp2's gtlsserver
(GET /ten-mb.bin, the same bytes from a document root: gtlsserver generates other bytes
for /<N>). http3_server.py serves the same 10 MB to h3q-client
($H3Q_CLIENT) and to aioquic's client (tests/interop/aioquic_client.py). Certificates: a
CA and a leaf for localhost / 127.0.0.1 made with openssl, as the interop matrix makes
them; the clients verify against the CA. A missing peer skips its test with the reason.
"""

import hashlib
import importlib.util
import os
import re
import subprocess
import sys
import time

import pytest

from support import (
    EXAMPLES,
    INTEROP,
    MISSING_PEER,
    generated,
    pip_hint,
    run_server,
    stop_server,
)

sys.path.insert(0, INTEROP)
from run_matrix import free_udp_port, make_certs, which  # noqa: E402

pytestmark = pytest.mark.download

SIZE = 10_000_000
PATH = f"/{SIZE}"
DIGEST = hashlib.sha256(generated(SIZE)).hexdigest()
TIMEOUT = 120


def need(available, what):
    if not available:
        pytest.skip(MISSING_PEER + what)


def example_env():
    """The environment for the example programs: they import the h3q under test."""
    env = dict(os.environ)
    import h3q

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(h3q.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent,
                                                      env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    need(which("openssl"), "openssl not found (apt-get install openssl)")
    return make_certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def document_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    (root / "ten-mb.bin").write_bytes(generated(SIZE))
    return str(root)


def fetch_with_example_client(port, certs, out_dir, path=PATH):
    url = f"https://127.0.0.1:{port}{path}"
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "http3_client.py"), "--ca-certs",
         certs["ca"], "--output-dir", str(out_dir), "--timeout", str(TIMEOUT), url],
        capture_output=True, text=True, timeout=TIMEOUT + 30, env=example_env())
    elapsed = time.monotonic() - start
    assert run.returncode == 0, f"http3_client.py: {run.stdout}{run.stderr}"
    assert run.stdout.split() == ["200", str(SIZE), f"sha256={DIGEST}", url], run.stdout
    with open(os.path.join(out_dir, path[1:]), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == DIGEST
    print(f"10 MB in {elapsed:.2f} s ({SIZE * 8 / elapsed / 1e6:.0f} Mbit/s)")


def test_client_from_h3q_server(certs, tmp_path):
    server = os.environ.get("H3Q_SERVER")
    need(server, "H3Q_SERVER (the path of the h3q-server example) is not set; CTest sets it")
    proc, port = run_server([server, "--listen", "127.0.0.1:0", "--cert", certs["cert"],
                             "--key", certs["key"]])
    try:
        fetch_with_example_client(port, certs, tmp_path)
    finally:
        assert stop_server(proc) == 0


def test_client_from_aioquic_server(certs, tmp_path):
    need(importlib.util.find_spec("aioquic"), pip_hint("aioquic"))
    proc, port = run_server([sys.executable, os.path.join(INTEROP, "aioquic_server.py"),
                             "--listen", "127.0.0.1:0", "--cert", certs["cert"],
                             "--key", certs["key"]])
    try:
        fetch_with_example_client(port, certs, tmp_path)
    finally:
        assert stop_server(proc) == 0


def test_client_from_ngtcp2_gtlsserver(certs, document_root, tmp_path):
    gtlsserver = which("gtlsserver")
    need(gtlsserver, "ngtcp2's gtlsserver not found (apt-get install ngtcp2-server)")
    port = free_udp_port()
    proc = subprocess.Popen([gtlsserver, "--quiet", "-d", document_root, "--timeout=30s",
                             "127.0.0.1", str(port), certs["key"], certs["cert"]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    try:
        time.sleep(0.5)  # gtlsserver prints nothing when ready
        assert proc.poll() is None, "gtlsserver exited at once"
        fetch_with_example_client(port, certs, tmp_path, "/ten-mb.bin")
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def example_server(certs):
    proc, port = run_server([sys.executable, os.path.join(EXAMPLES, "http3_server.py"),
                             "--host", "127.0.0.1", "--port", "0", "-c", certs["cert"],
                             "-k", certs["key"]], env=example_env())
    yield port
    assert stop_server(proc) == 0, "http3_server.py did not exit 0 on SIGINT"


def test_server_to_h3q_client(certs, example_server, tmp_path):
    client = os.environ.get("H3Q_CLIENT")
    need(client, "H3Q_CLIENT (the path of the h3q-client example) is not set; CTest sets it")
    url = f"https://127.0.0.1:{example_server}"
    run = subprocess.run([client, "--ca", certs["ca"], "--sha256", "--output", str(tmp_path),
                          f"{url}{PATH}", f"{url}/"],
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(rf"\b200\b.*\b{SIZE}\b.*{DIGEST}", run.stdout + run.stderr), run.stdout
    with open(os.path.join(tmp_path, str(SIZE)), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == DIGEST


def test_server_to_aioquic_client(certs, example_server, tmp_path):
    need(importlib.util.find_spec("aioquic"), pip_hint("aioquic"))
    url = f"https://127.0.0.1:{example_server}{PATH}"
    run = subprocess.run([sys.executable, os.path.join(INTEROP, "aioquic_client.py"), "--ca",
                          certs["ca"], "--server-name", "localhost", "--output",
                          str(tmp_path), "--timeout", str(TIMEOUT), url],
                         capture_output=True, text=True, timeout=TIMEOUT + 30)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"200 {SIZE} sha256={DIGEST} {url}" in run.stderr, run.stderr
