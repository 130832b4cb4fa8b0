"""The project's tests as a user runs them, in a shell with none of a CI's or an IDE's variables
(no PYTHONUNBUFFERED above all): every fixture that starts a helper process sets up, in bounded time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .suite_run import REPO

# What a login shell has; nothing else (env -i PATH=$PATH HOME=$HOME).
PLAIN = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}


def test_fixtures_with_helper_processes_set_up_in_a_plain_environment():
    """The browser tests' page server and the misbehaving targets: set up and torn down, no test body run."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--setup-only", "-q",
         "tests/test_browser.py", "tests/test_bad_targets.py"],
        cwd=REPO, env=PLAIN, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"setting up in a plain environment: exit {run.returncode}\n{run.stdout[-2000:]}{run.stderr[-1000:]}"


def cli_in_plain_environment(args: list[str], cwd, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """`whip-whep-conformance ARGS` as a user's shell runs it."""
    import shutil

    exe = shutil.which("whip-whep-conformance", path=str(Path(sys.executable).parent))
    assert exe, f"whip-whep-conformance is not installed beside {sys.executable}"
    return subprocess.run([exe, *args], cwd=cwd, env=PLAIN, capture_output=True, text=True, timeout=timeout_s)


def test_tox_gives_what_follows_dashes_to_pytest_in_place_of_tests():
    """`tox -e tests -- tests/test_sdp.py` runs that file alone (tox substitutes {posargs:DEFAULT})."""
    import configparser

    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    command = tox["testenv:tests"]["commands"].split()
    assert command[-1] == "{posargs:tests}" and "tests" not in command[:-1], f"tox -e tests runs: {command}"
