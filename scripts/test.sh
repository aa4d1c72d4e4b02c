#!/usr/bin/env bash
# Runs every h3q test: the Rust quality gates and tests, then the C suite (CTest) under
# AddressSanitizer + UBSan and again under valgrind. Exits non-zero on the first failure.
#
#   scripts/test.sh
#
# Needs: Rust (cargo, rustfmt, clippy), a C/C++ compiler, CMake >= 3.20, pkg-config,
# valgrind, Python 3 with venv; for the HTTP/3 interop matrix, ngtcp2's example programs
# (Debian ngtcp2-server, ngtcp2-client) and openssl. Interop peers from PyPI (pylsqpack,
# aioquic) are installed into build/venv. The build trees go to build/asan and build/valgrind; cargo's to target/.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
log_dir=build/logs
mkdir -p "$log_dir"

step() { printf '\n==> %s\n' "$*"; }

step "Python venv with interop peers (build/venv)"
venv=build/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import pylsqpack" 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check pylsqpack
"$venv/bin/python" -c "import pylsqpack; print('pylsqpack', pylsqpack.__version__)" 2>/dev/null ||
  "$venv/bin/python" -c "import pylsqpack; print('pylsqpack ready')"
"$venv/bin/python" -c "import aioquic" 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check aioquic
"$venv/bin/python" -c "import aioquic; print('aioquic', aioquic.__version__)"
for tool in gtlsserver gtlsclient openssl; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
    echo "warning: $tool not found: the interop matrix will fail (.ci/run installs it)"
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings (also fails if include/h3q.h is stale)"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test"
cargo test --locked 2>&1 | tee "$log_dir/cargo-test.log"

step "hostile-peer floods: peak heap each one cost before the connection closed"
cargo test --locked --test h3_floods_memory -- --nocapture 2>&1 | grep -E "closed|test result"

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
}

ctest_suite asan -DH3Q_SANITIZE=ON -DH3Q_INTEROP_PYTHON="$PWD/$venv/bin/python"
ctest_suite valgrind -DH3Q_VALGRIND=ON

step "interop matrix (CTest interop_matrix, ASan build)"
awk '/Test: interop_matrix$/ { found = 1 } found && /^client -> server/ { show = 1 }
     show && /^<end of output>/ { exit } show' build/asan/Testing/Temporary/LastTest.log

step "summary"
awk '/^test result:/ { p += $4; f += $6 } END { printf "Rust tests: %d passed, %d failed\n", p, f }' \
  "$log_dir/cargo-test.log"
for name in asan valgrind; do
  grep -h "tests passed" "$log_dir/ctest-$name.log" | sed "s/^/C tests ($name): /"
done
