"""pytest setup for the h3q package's tests.

Which h3q is tested: the package in this source tree (bindings/python/h3q, with the
library from $H3Q_LIBRARY or a libh3q.so copied into it), unless H3Q_TEST_INSTALLED=1,
which tests the installed package (CTest python_package: the wheel in a fresh venv) and
fails if `import h3q` would find the source tree instead.

Peers: tests that need an outside program (h3q-server via $H3Q_SERVER, h3q-client via
$H3Q_CLIENT, aioquic, niquests, ngtcp2's gtlsserver, openssl) skip with a reason
"missing peer: ..." when it is absent. Under CTest (H3Q_CTEST=1), a run that passed but
skipped such a test prints "SKIPPED: <reasons>" and exits 77, CTest's SKIP_RETURN_CODE.
"""

import os
import sys

PACKAGE_SOURCE = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
MISSING_PEER = "missing peer: "  # support.MISSING_PEER
SKIP_EXIT = 77

if os.environ.get("H3Q_TEST_INSTALLED") == "1":
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != PACKAGE_SOURCE]
    import h3q

    if os.path.abspath(h3q.__file__).startswith(PACKAGE_SOURCE + os.sep):
        raise RuntimeError(f"H3Q_TEST_INSTALLED=1 but h3q comes from the source tree "
                           f"({h3q.__file__})")
else:
    sys.path.insert(0, PACKAGE_SOURCE)


def _skip_reason(report):
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: "):]
    return reason


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("H3Q_CTEST") != "1" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    missing = []
    for report in reporter.stats.get("skipped", []) if reporter else []:
        reason = _skip_reason(report)
        if reason.startswith(MISSING_PEER) and reason[len(MISSING_PEER):] not in missing:
            missing.append(reason[len(MISSING_PEER):])
    if missing:
        print("\nSKIPPED: " + "; ".join(missing), flush=True)
        session.exitstatus = SKIP_EXIT
