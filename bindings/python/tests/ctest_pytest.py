#!/usr/bin/env python3
"""Runs this directory's pytest suite for CTest: `ctest_pytest.py [PYTEST ARGS...]`.

Sets H3Q_CTEST=1, so that a passing run which skipped a test for a missing peer exits 77
(CTest's SKIP_RETURN_CODE) after a line "SKIPPED: <reasons>" (conftest.py); exits 77 the
same way when this Python has no pytest. Writes no cache into the source tree.
"""

import os
import sys

SKIP_EXIT = 77


def main():
    try:
        import pytest
    except ImportError:
        print(f"SKIPPED: pytest is not importable by {sys.executable} "
              f"({sys.executable} -m pip install pytest; scripts/test.sh does)", flush=True)
        return SKIP_EXIT
    os.environ["H3Q_CTEST"] = "1"
    here = os.path.dirname(os.path.abspath(__file__))
    return pytest.main(["-p", "no:cacheprovider", "-ra", here, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
