#!/usr/bin/env python3
"""Headless Chromium loads a page from h3q-server over HTTP/3, and priorities decide which
of its responses completes first (CTest: browser_chromium_priorities).

    chromium_priorities.py --h3q-server PATH [--chromium PATH] [--chromedriver PATH]
                           [--work DIR] [--download-mb N]

What happens:
  1. A CA and a leaf certificate for localhost / 127.0.0.1 (openssl); Chromium is told to
     trust the leaf by the SHA-256 of its public key (--ignore-certificate-errors-spki-list)
     and to speak QUIC to the server's origin from the first request
     (--origin-to-force-quic-on), so no TCP is involved at all.
  2. A document root: page.html, whose inline script starts fetch() of a generated 20 MB
     body (/20000000) and, once its response headers are in, adds a stylesheet
     (page.css, 1 MB) to the page: the stylesheet is requested while the download is in
     flight, on a later stream.
  3. h3q-server -v on an ephemeral 127.0.0.1 port serves it; Chromium (through
     chromedriver's WebDriver protocol, spoken here with the standard library) opens the
     page and waits for the download to finish.
  4. Checks, from the browser's Resource Timing entries and the server's log:
       - the page, the stylesheet and the download came over HTTP/3 ("h3"), the download
         whole (20,000,000 bytes) and the stylesheet whole;
       - Chromium asked for the stylesheet at a more urgent priority than the download
         (the server's -v log shows each request's urgency as h3q read it);
       - the stylesheet was requested before the download completed (they overlapped),
         completed before it, and took less than 0.4 of the download's time from request
         to last byte (see RATIO_LIMIT).
     Without scheduling by priority the stylesheet would wait behind the download: h3q
     sends responses of one urgency one after another in stream order.

Exit status: 0 on success, 1 on a failure, 77 (CTest's SKIP_RETURN_CODE) after a line
"SKIPPED: ..." when Chromium, chromedriver or openssl is missing (Debian: apt-get install
chromium chromium-driver openssl). Every process started is stopped at the end.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_matrix as rm  # noqa: E402  (servers, certificates, process cleanup)

CSS_BYTES = 1 << 20
# From request to last byte, the stylesheet must take less than this share of the
# download's time. Measured on a 2-core machine: 0.10-0.20 with priorities; 0.46-0.82 with
# every request read at the default priority (one after another in stream order), where
# the stylesheet still completed first in 2 runs of 3, because Chromium's flow control
# holds the download back. A share, not a time: a slow machine stretches both.
RATIO_LIMIT = 0.4
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>h3q priorities</title>
<script>
// The download starts first; the stylesheet is added once the download's response
// headers are in, so both are in flight together and the stylesheet is the later stream.
// The page counts the download's bytes as they arrive.
window.h3qResult = null;
var received = 0;
fetch("/%(download)d").then(function (response) {
  var link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/page.css";
  link.onerror = function () { window.h3qResult = {error: "the stylesheet failed"}; };
  document.head.appendChild(link);
  var reader = response.body.getReader();
  return (function next() {
    return reader.read().then(function (part) {
      if (part.done) return;
      received += part.value.byteLength;
      return next();
    });
  })();
}).then(function () {
  window.h3qResult = {bytes: received};
}, function (error) {
  window.h3qResult = {error: String(error)};
});
</script></head>
<body><h1>h3q</h1><p>A page, its stylesheet and a download, over HTTP/3.</p></body></html>
"""


class Failure(Exception):
    pass


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(77)


def find(given, names):
    if given:
        return given if os.access(given, os.X_OK) else None
    for name in names:
        path = shutil.which(name) or shutil.which(name, path="/usr/lib/chromium:/usr/bin")
        if path:
            return path
    return None


def spki_sha256(cert_path):
    """Base64 SHA-256 of the certificate's DER SubjectPublicKeyInfo, as Chromium wants."""
    pem = subprocess.run(["openssl", "x509", "-in", cert_path, "-pubkey", "-noout"],
                         check=True, capture_output=True, timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem,
                         check=True, capture_output=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few WebDriver commands this test needs, over chromedriver's HTTP API."""

    def __init__(self, chromedriver, work):
        self.port = free_tcp_port()
        self.log = open(os.path.join(work, "chromedriver.log"), "wb")
        self.proc = subprocess.Popen([chromedriver, f"--port={self.port}"],
                                     stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        rm.PROCS.append(self.proc)
        self.session = None
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.call("GET", "/status")["value"].get("ready"):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise Failure("chromedriver did not become ready (see chromedriver.log)")
            time.sleep(0.1)

    def call(self, method, path, body=None, timeout=90):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            raise Failure(f"WebDriver {method} {path}: HTTP {e.code}: {detail}") from None

    def start(self, chromium, args):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}}
        self.session = self.call("POST", "/session", caps)["value"]["sessionId"]
        self.call("POST", f"/session/{self.session}/timeouts", {"script": 60000})

    def navigate(self, url):
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def run_async(self, script):
        return self.call("POST", f"/session/{self.session}/execute/async",
                         {"script": script, "args": []})["value"]

    def stop(self):
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=20)
            except (Failure, OSError):
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


WAIT_AND_MEASURE = """
var done = arguments[arguments.length - 1];
(function check() {
  if (!window.h3qResult) { setTimeout(check, 50); return; }
  var pick = function (e) {
    return {name: e.name, start: e.startTime, requestStart: e.requestStart,
            responseStart: e.responseStart, end: e.responseEnd,
            protocol: e.nextHopProtocol, size: e.encodedBodySize};
  };
  done({result: window.h3qResult,
        page: pick(performance.getEntriesByType("navigation")[0]),
        resources: performance.getEntriesByType("resource").map(pick)});
})();
"""


def requests_in_log(log_path):
    """path -> (urgency, incremental) for each request the server's -v log shows."""
    seen = {}
    pattern = re.compile(r"GET (\S+) \(stream \d+, u=(\d)(,i)?\)")
    with open(log_path, errors="replace") as f:
        for line in f:
            m = pattern.search(line)
            if m:
                seen[m.group(1)] = (int(m.group(2)), bool(m.group(3)))
    return seen


def check(measured, requests, download, download_path):
    if "error" in measured["result"]:
        raise Failure(f"the download failed in the page: {measured['result']['error']}")
    if measured["result"]["bytes"] != download:
        raise Failure(f"the download had {measured['result']['bytes']} bytes, not {download}")
    by_name = {re.sub(r"^https://[^/]+", "", e["name"]): e for e in measured["resources"]}
    css, dl = by_name.get("/page.css"), by_name.get(download_path)
    if not css or not dl:
        raise Failure(f"resource entries missing: {sorted(by_name)}")
    for what, entry in (("the page", measured["page"]), ("the stylesheet", css),
                        ("the download", dl)):
        if entry["protocol"] != "h3":
            raise Failure(f"{what} came over {entry['protocol']!r}, not h3")
    if css["size"] != CSS_BYTES:
        raise Failure(f"the stylesheet had {css['size']} bytes, not {CSS_BYTES}")
    if "/page.css" not in requests or download_path not in requests:
        raise Failure(f"the server's log lacks a request: {requests}")
    css_u, dl_u = requests["/page.css"][0], requests[download_path][0]
    print(f"priorities as the server read them: stylesheet u={css_u}"
          f"{',i' if requests['/page.css'][1] else ''}, download u={dl_u}"
          f"{',i' if requests[download_path][1] else ''}")
    print(f"download: requested at {dl['requestStart']:.0f} ms, first byte "
          f"{dl['responseStart']:.0f} ms, complete {dl['end']:.0f} ms")
    print(f"stylesheet: requested at {css['requestStart']:.0f} ms, first byte "
          f"{css['responseStart']:.0f} ms, complete {css['end']:.0f} ms")
    if css_u >= dl_u:
        raise Failure("Chromium did not ask for the stylesheet at a higher urgency")
    if css["requestStart"] >= dl["end"]:
        raise Failure("the stylesheet was requested after the download completed")
    if css["end"] >= dl["end"]:
        raise Failure("the stylesheet completed after the download")
    css_took = css["end"] - css["requestStart"]
    dl_took = dl["end"] - dl["requestStart"]
    print(f"the stylesheet took {css_took / dl_took:.2f} of the download's time "
          f"(request to last byte)")
    if css_took >= RATIO_LIMIT * dl_took:
        raise Failure(f"the stylesheet took {css_took / dl_took:.2f} of the download's time, "
                      f"not less than {RATIO_LIMIT}: it did not go first")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--h3q-server", required=True)
    ap.add_argument("--chromium")
    ap.add_argument("--chromedriver")
    ap.add_argument("--work")
    ap.add_argument("--download-mb", type=int, default=20)
    args = ap.parse_args()
    chromium = find(args.chromium, ["chromium", "chromium-browser"])
    chromedriver = find(args.chromedriver, ["chromedriver"])
    if not chromium:
        skip("Chromium not found (Debian: apt-get install chromium chromium-driver)")
    if not chromedriver:
        skip("chromedriver not found (Debian: apt-get install chromium-driver)")
    if not shutil.which("openssl"):
        skip("openssl not found (Debian: apt-get install openssl)")
    work = args.work or tempfile.mkdtemp(prefix="h3q-chromium-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    download = args.download_mb * 1000 * 1000
    download_path = f"/{download}"

    certs = rm.make_certs(work)
    root = os.path.join(work, "root")
    os.makedirs(root)
    with open(os.path.join(root, "page.html"), "w") as f:
        f.write(PAGE % {"download": download})
    rule = b"p.h3q-%07d { color: #123456; margin: 1px 2px 3px 4px; }\n"
    css = b"".join(rule % i for i in range(CSS_BYTES // len(rule % 0) + 1))[:CSS_BYTES]
    with open(os.path.join(root, "page.css"), "wb") as f:
        f.write(css)

    server = rm.Server("h3q", [args.h3q_server, "--listen", "127.0.0.1:0", "--cert",
                               certs["cert"], "--key", certs["key"], "--root", root, "-v"])
    server.start(work)
    if server.error:
        raise Failure(server.error)
    origin = f"127.0.0.1:{server.port}"
    profile = os.path.join(work, "profile")
    chrome_args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", f"--user-data-dir={profile}", "--enable-quic",
        f"--origin-to-force-quic-on={origin}",
        f"--ignore-certificate-errors-spki-list={spki_sha256(certs['cert'])}",
    ]
    driver = WebDriver(chromedriver, work)
    try:
        driver.start(chromium, chrome_args)
        t0 = time.monotonic()
        driver.navigate(f"https://{origin}/page.html")
        measured = driver.run_async(WAIT_AND_MEASURE)
        print(f"page and download loaded in {time.monotonic() - t0:.2f} s")
    finally:
        driver.stop()
        status = server.stop()
    if status != 0:
        raise Failure(f"h3q-server exited with status {status}: {server.log_tail()}")
    check(measured, requests_in_log(server.log_path), download, download_path)
    print("ok: the stylesheet (more urgent) completed before the download it overlapped")


if __name__ == "__main__":
    try:
        main()
    except (Failure, subprocess.CalledProcessError) as e:
        print(f"FAIL: {e}")
        sys.exit(1)
