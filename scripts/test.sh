#!/usr/bin/env bash
# Runs every h3q test: the Rust quality gates and tests, then the C suite (CTest) under
# AddressSanitizer + UBSan and again under valgrind. Exits non-zero on the first failure.
#
#   scripts/test.sh
#
# Needs: Rust (cargo, rustfmt, clippy), a C/C++ compiler, CMake >= 3.20, pkg-config,
# valgrind, Python 3 with venv, doxygen and groff (the documentation tests); for the HTTP/3
# interop matrix, ngtcp2's example programs (Debian ngtcp2-server, ngtcp2-client) and
# openssl. Interop peers from PyPI (pylsqpack, aioquic, niquests) and pytest, setuptools,
# wheel (the Python package's tests and build) are installed into build/venv. The build
# trees go to build/asan and build/valgrind; cargo's to target/.
#
# The QPACK interop corpus is read from $H3Q_QIFS_DIR (default: ../shared/qifs beside the
# repository); its tests are skipped, with a line saying so, when it is absent, unless
# H3Q_REQUIRE_CORPUS=1 (which .ci/run sets under CI), which makes absence a failure. The
# browser test needs Debian's chromium and chromium-driver; it is skipped without them
# unless H3Q_REQUIRE_BROWSER=1 (.ci/run installs them and sets it under CI). Every other
# test that needs an outside peer gets it from this script, so it must not skip here.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
log_dir=build/logs
mkdir -p "$log_dir"

step() { printf '\n==> %s\n' "$*"; }

export H3Q_QIFS_DIR="${H3Q_QIFS_DIR:-$PWD/../shared/qifs}"
if [ -d "$H3Q_QIFS_DIR/qifs" ]; then
  echo "QPACK interop corpus: $H3Q_QIFS_DIR"
else
  echo "QPACK interop corpus: not found at $H3Q_QIFS_DIR (its tests will be skipped)"
fi

step "Python venv with interop peers (build/venv)"
venv=build/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# pytest runs bindings/python's tests; setuptools and wheel build the h3q package offline
# (pip --no-build-isolation) in CTest python_package.
for package in pylsqpack aioquic niquests pytest setuptools wheel; do
  "$venv/bin/python" -c "import $package" 2>/dev/null ||
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package"
  "$venv/bin/python" -c "import importlib.metadata as m; print('$package', m.version('$package'))"
done
for tool in gtlsserver gtlsclient openssl; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
    echo "warning: $tool not found: the interop matrix will fail (.ci/run installs it)"
done
for tool in doxygen groff; do
  command -v "$tool" >/dev/null 2>&1 ||
    echo "warning: $tool not found: the documentation tests will fail (.ci/run installs it)"
done
pkg-config --exists libngtcp2 libngtcp2_crypto_gnutls gnutls 2>/dev/null ||
  echo "warning: libngtcp2 / libngtcp2_crypto_gnutls / gnutls (-dev) not found: h3q-ngtcp2-client and its tests will not be built (.ci/run installs them)"
pkg-config --exists libnghttp3 2>/dev/null ||
  echo "warning: libnghttp3 (-dev) not found: the QPACK bench against it and its test will not be built (.ci/run installs it)"
for tool in chromium chromedriver; do
  command -v "$tool" >/dev/null 2>&1 ||
    echo "note: $tool not found: the browser test will be skipped (.ci/run installs it)"
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings (also fails if include/h3q.h is stale)"
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --all-targets --features fuzzing -- -D warnings

step "cargo test"
rm -f "$log_dir/skipped.log"
# The fuzzing feature adds the fuzz corpus replay and the tests that share its test doubles.
cargo test --locked --features fuzzing 2>&1 | tee "$log_dir/cargo-test.log"
grep -o 'SKIPPED .*' "$log_dir/cargo-test.log" | sed 's/^SKIPPED /skipped (cargo test): /' \
  >>"$log_dir/skipped.log" || true

step "hostile-peer floods: peak heap each one cost before the connection closed"
cargo test --locked --features fuzzing --test h3_floods_memory -- --nocapture 2>&1 |
  grep -E "closed|test result"

step "aborted exchanges: the heap they leave behind"
cargo test --locked --test h3_aborts_memory -- --nocapture 2>&1 |
  grep -E "aborted exchanges|test result"

ctest_suite() { # name, extra cmake options...
  local name=$1
  shift
  step "C tests: $name"
  cmake -S . -B "build/$name" -DCMAKE_BUILD_TYPE=Debug \
    -DH3Q_CARGO_TARGET_DIR="$PWD/target" "$@" >"$log_dir/cmake-$name.log"
  cmake --build "build/$name" -j "$jobs" >>"$log_dir/cmake-$name.log" 2>&1 ||
    { cat "$log_dir/cmake-$name.log"; return 1; }
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs" 2>&1 |
    tee "$log_dir/ctest-$name.log"
  check_skips "$name"
}

# Prints each test CTest skipped in build/NAME with the reason it gave (its "SKIPPED:"
# line); fails when a skip was not allowed: only the QPACK corpus tests may skip, while
# H3Q_REQUIRE_CORPUS is not 1, and the browser test, while H3Q_REQUIRE_BROWSER is not 1.
check_skips() {
  local name=$1 test reason bad=0
  for test in $(sed -n 's/.*Test *#[0-9]*: \([^ ]*\) .*\*\*\*Skipped.*/\1/p' \
    "$log_dir/ctest-$name.log"); do
    reason=$(awk -v t="$test" '$0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { found = 1 }
      found && /SKIPPED/ { sub(/^.*SKIPPED:? */, ""); print; exit }' \
      "build/$name/Testing/Temporary/LastTest.log")
    echo "skipped ($name): $test: ${reason:-no reason given}" | tee -a "$log_dir/skipped.log"
    case "$test" in
    qpack_interop_*) [ "${H3Q_REQUIRE_CORPUS:-}" = 1 ] && bad=1 ;;
    browser_*) [ "${H3Q_REQUIRE_BROWSER:-}" = 1 ] && bad=1 ;;
    *) bad=1 ;;
    esac
  done
  if [ $bad = 1 ]; then
    echo "error: a test was skipped that this script provides everything for (see above)"
    return 1
  fi
}

ctest_suite asan -DH3Q_SANITIZE=ON -DH3Q_INTEROP_PYTHON="$PWD/$venv/bin/python" \
  -DH3Q_QIFS_DIR="$H3Q_QIFS_DIR"
ctest_suite valgrind -DH3Q_VALGRIND=ON -DH3Q_INTEROP_PYTHON="$PWD/$venv/bin/python"

step "the shipped library exports only h3q_* symbols"
others=$(nm -D --defined-only target/debug/libh3q.so | grep -vc ' h3q_' || true)
echo "symbols not named h3q_*: $others"
[ "$others" = 0 ] || { nm -D --defined-only target/debug/libh3q.so | grep -v ' h3q_'; exit 1; }

step "interop matrix (CTest interop_matrix, ASan build)"
awk '/Test: interop_matrix$/ { found = 1 } found && /^client -> server/ { show = 1 }
     show && /^<end of output>/ { exit } show' build/asan/Testing/Temporary/LastTest.log

step "summary"
awk '/^test result:/ { p += $4; f += $6 } END { printf "Rust tests: %d passed, %d failed\n", p, f }' \
  "$log_dir/cargo-test.log"
for name in asan valgrind; do
  grep -h "tests passed" "$log_dir/ctest-$name.log" | sed "s/^/C tests ($name): /"
done
if [ -s "$log_dir/skipped.log" ]; then
  echo "Skipped: $(wc -l <"$log_dir/skipped.log") tests"
  sed 's/^/  /' "$log_dir/skipped.log"
else
  echo "Skipped: none"
fi
