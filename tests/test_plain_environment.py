"""The project's tests as a user runs them, in a shell with none of a CI's or an IDE's variables
(no PYTHONUNBUFFERED above all): every fixture that starts a helper process sets up, in bounded time."""

from __future__ import annotations

import os
import subprocess
import sys

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
