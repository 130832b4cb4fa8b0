"""The browser-library adapter (tests/clients/browser_client.py) and the observation rule it made
necessary: a browser's CORS preflight is not a request of the client's."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from tests.clients import browser_client
from tests.clients.real_clients import BROWSER_LIBRARIES, CLIENTS
from whip_whep_conformance.harness.clients.observatory import Request

STOP_DEADLINE_S = browser_client.STOP_TIMEOUT_S + 30  # the relay's own deadline, and its last kill


def _request(method: str, headers: list[tuple[str, str]]) -> Request:
    return Request(listener="main", method=method, path="/via/x", headers=headers, body=b"", sent_at=0.0)


def test_a_cors_preflight_is_told_from_the_clients_own_options():
    preflight = _request("OPTIONS", [("Origin", "http://127.0.0.1:1"), ("Access-Control-Request-Method", "POST")])
    own = _request("OPTIONS", [("Origin", "http://127.0.0.1:1")])  # e.g. Eyevinn's ICE-server discovery
    assert (preflight.is_preflight(), own.is_preflight()) == (True, False), (
        "an OPTIONS naming Access-Control-Request-Method is the browser's preflight (Fetch §4.8); one without is the client's")


def test_every_browser_client_names_a_library_the_adapter_runs():
    named = {c.name.rpartition("-")[0] for c in CLIENTS.values() if c.name.rpartition("-")[0] in BROWSER_LIBRARIES}
    assert named == set(browser_client.LIBRARIES) == set(BROWSER_LIBRARIES), (
        f"real_clients names {sorted(named)}, the adapter runs {sorted(browser_client.LIBRARIES)}")


def test_the_adapter_refuses_an_unknown_library_as_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "tests.clients.browser_client", "nosuch", "whip", "http://127.0.0.1:9/"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr, (
        f"an unknown library must be refused before any browser starts: exit {done.returncode}, {done.stderr[-500:]}")


# A stand-in for the browser session: says it runs, waits for the stop line, then takes longer than a
# second to end, as a page's stop() (pc.close(), then the DELETE's round trip) may.
_SLOW_STOPPING_INNER = (
    "import sys, time\n"
    "print('inner running', flush=True)\n"
    "line = sys.stdin.readline().strip()\n"
    "time.sleep(1.5)\n"
    "print('inner stopped on', line, flush=True)\n")


def test_the_relay_gives_the_page_its_whole_stop_deadline_from_the_signal():
    """The outer process passes a SIGINT on as a line and then waits STOP_TIMEOUT_S (+20 s) for the page.
    It used to poll in 1-second waits and take the poll's own timeout for the deadline's, killing the
    browser up to a second after the signal: a stop() slower than that lost its DELETE (exit 247)."""
    relay = ("import sys; from tests.clients.browser_client import outer; "
             f"sys.exit(outer([], [sys.executable, '-c', {_SLOW_STOPPING_INNER!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", relay], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready and proc.stdout.readline().strip() == "inner running", "the stand-in never started"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=STOP_DEADLINE_S)
        output = proc.stdout.read()
    finally:
        proc.kill()
    assert (code, "killed" in output) == (0, False) and "inner stopped on SIGINT" in output, (
        f"the page's stop took 1.5 s of its {browser_client.STOP_TIMEOUT_S} s: exit {code}, output {output!r}")


# A stand-in for a page whose stop never returns (whip-web-client's destroy() after a refused POST waits for
# a session URL that never comes): it reads the stop line and hangs; its pid lets the test clean up.
# Like Playwright's, it starts a "browser" detached, in a process group of its own.
_NEVER_STOPPING_INNER = (
    "import os, subprocess, sys, threading\n"
    "browser = subprocess.Popen(['sleep', '120'], start_new_session=True)\n"
    "print('inner running', os.getpid(), browser.pid, flush=True)\n"
    "sys.stdin.readline()\n"
    "threading.Event().wait()\n")
TOLD_AGAIN_S = 5  # well inside the relay's own deadline (STOP_TIMEOUT_S + 20): only the second signal ends it


def test_a_second_signal_kills_the_browser_session_at_once():
    """The harness's SIGTERM after its grace (or a second Ctrl-C) means stop now: the relay kills the browser
    session and exits. It used to ignore the second signal and wait out its own deadline, so the harness
    SIGKILLed it and the browser, in a session of its own, went on running into the next scenario."""
    relay = ("import sys; from tests.clients.browser_client import outer; "
             f"sys.exit(outer([], [sys.executable, '-c', {_NEVER_STOPPING_INNER!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", relay], stdout=subprocess.PIPE, text=True)
    inner_pid = browser_pid = 0
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        words = proc.stdout.readline().split() if ready else []
        assert words[:2] == ["inner", "running"], "the stand-in never started"
        inner_pid, browser_pid = int(words[2]), int(words[3])
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=TOLD_AGAIN_S)
        output = proc.stdout.read()
        browser_left = _running(browser_pid)
    finally:
        proc.kill()
        for pid in (inner_pid, browser_pid):
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert (code, "told to stop again (SIGTERM)" in output, browser_left) == (-signal.SIGKILL % 256, True, False), (
        f"after SIGINT then SIGTERM the relay should kill the page and its detached browser at once: exit {code}, "
        f"browser still running: {browser_left}, output {output!r}")


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
