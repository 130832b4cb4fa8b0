"""Against a target that hangs, resets, answers garbage, redirects in a loop or drips bytes, the
suite ends in bounded time with a clear verdict naming the cause."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from .plain_shell import free_port, plain_env, run_cli, wait_listening
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
                          "--timeout-s=1", f"--reports-dir={tmp_path}", "whip_whep_conformance/suites"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    doc = json.loads((tmp_path / "results.json").read_text())
    assert run.returncode == 6, (mode, run.stdout[-1500:])
    assert doc["error"] and "unreachable or not a WHIP/WHEP endpoint" in doc["error"], doc["error"]
    assert elapsed < 60, f"{mode}: the run took {elapsed:.0f} s"


@pytest.mark.parametrize("bad_server, reason", [
    ("redirect-loop", "its answers redirect in a loop"),
    ("html", "answered 200 OK (text/html): a web page"),
], indirect=["bad_server"])
def test_a_target_that_is_no_endpoint_exits_6_before_any_case(bad_server, reason, tmp_path):
    """A redirect loop or a web page is not a WHIP endpoint: one probe says so, and no case runs."""
    _, url = bad_server
    run = run_cli([f"--endpoint={url}", "--timeout-s=2", f"--reports-dir={tmp_path}"], tmp_path, timeout_s=120)
    assert run.returncode == 6, run.output
    assert reason in run.doc["error"] and reason in run.stdout, run.doc["error"]
    assert run.doc["cases"] == [], "cases ran against a target that is no endpoint"


@pytest.fixture
def web_server(tmp_path):
    """`python3 -m http.server` on loopback, a port picked here: it answers POST and OPTIONS 501 with an HTML page."""
    port = free_port()
    (tmp_path / "site").mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(tmp_path / "site")],
                            env=plain_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port)
        yield proc, f"http://127.0.0.1:{port}/whip"
    finally:
        proc.kill()
        proc.wait()


def test_a_plain_web_server_is_not_a_whip_endpoint(web_server, tmp_path):
    proc, url = web_server
    started = time.monotonic()
    run = run_cli([f"--endpoint={url}", f"--reports-dir={tmp_path}/r"], tmp_path, timeout_s=120)
    assert run.returncode == 6, run.output
    assert "is not a WHIP endpoint" in run.doc["error"] and "answered 501" in run.doc["error"], run.doc["error"]
    assert run.doc["error"] in run.stdout and run.doc["cases"] == [], run.output
    assert time.monotonic() - started < 60


def test_read_only_probe_of_a_web_server_sends_no_post(web_server, tmp_path):
    """--no-create: the probe is OPTIONS only, and a 501 to it is enough to stop."""
    proc, url = web_server
    run = run_cli([f"--endpoint={url}", "--no-create", f"--reports-dir={tmp_path}/r"], tmp_path, timeout_s=120)
    proc.kill()
    log = proc.stderr.read()
    assert run.returncode == 6 and "OPTIONS answered 501" in run.doc["error"], run.output
    assert '"OPTIONS /whip' in log and '"POST ' not in log, log[-2000:]
