"""Against a target that hangs, resets, answers garbage, redirects in a loop or drips bytes, the
suite ends in bounded time with a clear verdict naming the cause."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from .processes import listening_socket, stop
from .suite_run import REPO


@pytest.fixture
def bad_server(request):
    """The port is this test's: the child serves a socket already listening, so no output is waited for."""
    with listening_socket() as listener:
        proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "misbehaving_server.py"), request.param,
                                 str(listener.fileno())], pass_fds=[listener.fileno()])
        port = listener.getsockname()[1]
    yield request.param, f"http://127.0.0.1:{port}/whip/endpoint"
    stop(proc)


@pytest.mark.parametrize("bad_server", ["hang", "reset", "garbage", "drip"], indirect=True)
def test_unusable_target_exits_6_in_bounded_time(bad_server, tmp_path):
    mode, url = bad_server
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--endpoint={url}",
                          "--timeout-s=1", f"--reports-dir={tmp_path}", "suites"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    doc = json.loads((tmp_path / "results.json").read_text())
    assert run.returncode == 6, (mode, run.stdout[-1500:])
    assert doc["error"] and "unreachable or not a WHIP/WHEP endpoint" in doc["error"], doc["error"]
    assert elapsed < 60, f"{mode}: the run took {elapsed:.0f} s"


@pytest.mark.parametrize("bad_server", ["redirect-loop"], indirect=True)
def test_redirecting_target_fails_with_the_status_it_got(bad_server, tmp_path):
    _, url = bad_server
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--endpoint={url}",
                          "--timeout-s=1", f"--reports-dir={tmp_path}", "suites/whip/test_4_2_ingest_session_setup.py"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    doc = json.loads((tmp_path / "results.json").read_text())
    assert run.returncode == 1
    first = next(c for c in doc["cases"] if c["name"] == "test_offer_is_answered_201_created")
    assert first["verdict"] == "Fail" and "307" in first["message"], first
