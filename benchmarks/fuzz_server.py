"""Fuzz every entry point of the reference server with thousands of generated inputs (run on purpose).

Runs tests/test_fuzz_server.py with FUZZ_EXAMPLES per entry point (5 generated entry points, so
--examples 2000 sends over 10,000 inputs) and prints the count of inputs, of 5xx answers and whether
the server survived. The same test runs in CI with a small budget.

    .venv/bin/python benchmarks/fuzz_server.py --examples 2000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2000, help="generated inputs per entry point")
    args = parser.parse_args()
    env = {**os.environ, "FUZZ_EXAMPLES": str(args.examples)}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "tests/test_fuzz_server.py"]
    return subprocess.run(cmd, cwd=REPO, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
