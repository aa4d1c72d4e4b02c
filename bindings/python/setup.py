"""The custom build step of the h3q package (see pyproject.toml for the rest).

`pip install bindings/python` (or `pip wheel`) runs build_py, which here also builds the
Rust library with cargo (release profile, `--locked`) from the repository this package sits
in, two directories up, and copies libh3q.so into the built h3q package. The wheel is
tagged py3-none-<platform>: it holds native code for one platform but no Python
extension, so any Python 3 on that platform can use it.

Environment:
  H3Q_SOURCE_DIR    the repository root (default: ../.. from this file)
  CARGO             the cargo to run (default: cargo on PATH, else ~/.cargo/bin/cargo)
  CARGO_TARGET_DIR  cargo's build directory (default: the repository's target/); set it
                    to reuse an earlier build
An sdist cannot be built into a working package (it would lack the Rust sources): build
wheels from the repository.
"""

import json
import os
import re
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 has its own bdist_wheel
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the wheel package's
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "libh3q.so"


def repository_root():
    root = os.environ.get("H3Q_SOURCE_DIR") or os.path.join(HERE, "..", "..")
    root = os.path.normpath(root)
    if not os.path.isfile(os.path.join(root, "Cargo.toml")):
        raise SystemExit(f"h3q: no Cargo.toml in {root}: build this package from the h3q "
                         "repository (bindings/python), or set H3Q_SOURCE_DIR to it")
    return root


def cargo_field(root, name):
    """A string field of Cargo.toml's [package] table (version, license)."""
    with open(os.path.join(root, "Cargo.toml"), encoding="utf-8") as f:
        m = re.search(rf'^{name}\s*=\s*"([^"]+)"', f.read(), re.MULTILINE)
    if not m:
        raise SystemExit(f"h3q: no {name} in Cargo.toml")
    return m.group(1)


def find_cargo():
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if not cargo:
        home = os.path.expanduser("~/.cargo/bin/cargo")
        cargo = home if os.access(home, os.X_OK) else None
    if not cargo:
        raise SystemExit("h3q: cargo not found (install Rust from https://rustup.rs, or set "
                         "CARGO to its path)")
    return cargo


def build_library(root):
    """Runs cargo; returns the path of the release libh3q.so."""
    cargo = find_cargo()
    manifest = os.path.join(root, "Cargo.toml")
    metadata = subprocess.run(
        [cargo, "metadata", "--format-version", "1", "--no-deps", "--manifest-path",
         manifest], check=True, stdout=subprocess.PIPE)
    target_dir = json.loads(metadata.stdout)["target_directory"]
    print(f"h3q: cargo build --release (target directory {target_dir})", flush=True)
    subprocess.run([cargo, "build", "--release", "--locked", "--lib", "--manifest-path",
                    manifest], check=True)
    path = os.path.join(target_dir, "release", LIBRARY)
    if not os.path.isfile(path):
        raise SystemExit(f"h3q: cargo finished but {path} does not exist")
    return path


class build_py_with_library(build_py):
    """build_py, then the Rust library copied into the built package."""

    def run(self):
        super().run()
        library = build_library(repository_root())
        self.copy_file(library, os.path.join(self.build_lib, "h3q", LIBRARY))


class DistributionWithLibrary(Distribution):
    """Says the package holds native code, so the wheel is a platform wheel."""

    def has_ext_modules(self):
        return True


class bdist_wheel_for_platform(bdist_wheel):
    """A platform wheel (it holds libh3q.so) for any Python 3: py3-none-<platform>."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(
    version=cargo_field(repository_root(), "version"),
    license=cargo_field(repository_root(), "license"),
    distclass=DistributionWithLibrary,
    cmdclass={"build_py": build_py_with_library, "bdist_wheel": bdist_wheel_for_platform},
)
