#!/usr/bin/env python3
"""CTest python_package: the h3q package installed the way users install it, then tested.

    ctest_package.py --work DIR [PYTEST ARGS...]

1. A fresh venv (DIR/install-venv): `pip install <repo>/bindings/python`, which runs cargo
   (release) and bundles libh3q.so; then, from a directory outside the repository and with
   no H3Q_LIBRARY, `import h3q; print(h3q.version())` must load the bundled library.
2. `pip wheel` of the same directory; only the wheel is copied to DIR/wheel-only and
   installed into a second fresh venv (DIR/wheel-venv), and the setuptools build tree
   (bindings/python/build) is deleted: the package must stand alone.
3. The pytest suite (bindings/python/tests, every test, the 10 MB downloads included) runs
   with the second venv's Python against the installed package (H3Q_TEST_INSTALLED=1).

The venvs reach the test tools and peers (pytest, setuptools, wheel, aioquic...) of the
Python running this script through a .pth file, so nothing is downloaded here; the build
runs with --no-build-isolation for the same reason. CARGO_TARGET_DIR, when set, is the
cargo build directory to reuse. Exits 77 after a "SKIPPED:" line when this Python lacks
pytest, setuptools or wheel (scripts/test.sh installs them), or when pytest skipped a
test for a missing peer.
"""

import argparse
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.normpath(os.path.join(HERE, ".."))
SKIP_EXIT = 77


def step(text):
    print(f"==> {text}", flush=True)


def run(argv, **kwargs):
    start = time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          **kwargs)
    if done.returncode != 0:
        print(done.stdout)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}")
    print(f"    ok in {time.monotonic() - start:.1f} s", flush=True)
    return done.stdout


def make_venv(path):
    """A fresh venv that also sees this Python's packages (after its own)."""
    shutil.rmtree(path, ignore_errors=True)
    run([sys.executable, "-m", "venv", path])
    python = os.path.join(path, "bin", "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, stdout=subprocess.PIPE,
                          text=True).stdout.strip()
    with open(os.path.join(site, "h3q-test-tools.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    return python


def clean_env():
    """The environment without anything that would point h3q at another library."""
    env = dict(os.environ)
    for name in ("H3Q_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH"):
        env.pop(name, None)
    return env


def check_import(python, venv, outside):
    out = run([python, "-c", "import h3q; print(h3q.version()); print(h3q.library_path)"],
              cwd=outside, env=clean_env())
    version, library = out.split()[-2:]
    print(f"    h3q {version} from {library}")
    if not os.path.realpath(library).startswith(os.path.realpath(venv) + os.sep):
        raise SystemExit(f"h3q loaded {library}, not the copy installed in {venv}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    args, pytest_args = parser.parse_known_args()
    missing = [m for m in ("pytest", "setuptools", "wheel")
               if importlib.util.find_spec(m) is None]
    if missing:
        print(f"SKIPPED: {', '.join(missing)} not importable by {sys.executable} "
              f"({sys.executable} -m pip install {' '.join(missing)}; scripts/test.sh "
              "does)", flush=True)
        return SKIP_EXIT
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    outside = os.path.join(work, "cwd")
    os.makedirs(outside, exist_ok=True)
    pip_quiet = ["--disable-pip-version-check", "--no-build-isolation", "--no-deps"]

    step("pip install bindings/python into a fresh venv (cargo build --release)")
    install_venv = os.path.join(work, "install-venv")
    python = make_venv(install_venv)
    run([python, "-m", "pip", "install", *pip_quiet, PACKAGE], cwd=outside)
    check_import(python, install_venv, outside)

    step("pip wheel; only the wheel, installed into a second fresh venv")
    dist = os.path.join(work, "dist")
    shutil.rmtree(dist, ignore_errors=True)
    run([python, "-m", "pip", "wheel", *pip_quiet, "-w", dist, PACKAGE], cwd=outside)
    (wheel,) = glob.glob(os.path.join(dist, "h3q-*.whl"))
    only = os.path.join(work, "wheel-only")
    shutil.rmtree(only, ignore_errors=True)
    os.makedirs(only)
    shutil.copy(wheel, only)
    print(f"    {os.path.basename(wheel)}: {os.path.getsize(wheel) / 1e6:.1f} MB")
    for tree in [os.path.join(PACKAGE, "build")] + glob.glob(os.path.join(PACKAGE,
                                                                          "*.egg-info")):
        shutil.rmtree(tree, ignore_errors=True)
    wheel_venv = os.path.join(work, "wheel-venv")
    python = make_venv(wheel_venv)
    run([python, "-m", "pip", "install", "--disable-pip-version-check", "--no-index",
         "--no-deps", os.path.join(only, os.path.basename(wheel))], cwd=outside)
    check_import(python, wheel_venv, outside)

    step("pytest bindings/python/tests on the installed package")
    env = clean_env()
    env["H3Q_TEST_INSTALLED"] = "1"
    sys.stdout.flush()
    return subprocess.call([python, os.path.join(HERE, "ctest_pytest.py"), *pytest_args],
                           cwd=outside, env=env)


if __name__ == "__main__":
    sys.exit(main())
