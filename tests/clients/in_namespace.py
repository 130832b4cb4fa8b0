"""Run a command in a network namespace of its own with the interop lab's veth pair (nseth0 ⇄ nseth1,
10.77.0.1, tests/interop/lab.py): for a `clients` run grading a libnice client, which never gathers
loopback candidates. Loopback is up inside too, so the harness's HTTP front and server still listen there.

    python -m tests.clients.in_namespace -- CMD ARGS...   # exit code of CMD
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.interop import lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def command(args: list[str]) -> list[str]:
    """`args` wrapped: unshare -n, then the veth pair, then `args` (exec'd, so signals reach it)."""
    return ["unshare", "-n", "--", sys.executable, "-m", "tests.clients.in_namespace", "--inside", "--", *args]


def main(argv: list[str]) -> int:
    inside = argv[:1] == ["--inside"]
    args = argv[argv.index("--") + 1:] if "--" in argv else argv[int(inside):]
    if not inside:
        return subprocess.run(command(args), cwd=REPO).returncode
    lab._network()
    os.execvp(args[0], args)
    return 127  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
