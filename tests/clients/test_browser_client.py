"""The browser-library adapter (tests/clients/browser_client.py) and the observation rule it made
necessary: a browser's CORS preflight is not a request of the client's."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.clients import browser_client
from tests.clients.real_clients import BROWSER_LIBRARIES, CLIENTS
from whip_whep_conformance.harness.clients.observatory import Request


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


# An inner process that ends 1.5 s after it is told to stop, as a page whose library DELETEs and closes
# its browser does (always more than the outer's 1 s poll has left when the signal comes).
SLOW_TO_END = "import sys, time; print('ready', flush=True); sys.stdin.readline(); time.sleep(1.5); print('ended')"


def test_the_adapter_lets_the_page_end_after_a_signal_instead_of_killing_it():
    """The outer process polls its inner one every second; a poll that timed out just after the SIGINT
    was taken for the stop's deadline, so the browser was killed (exit -9, 247) mid-DELETE, at random."""
    driver = ("import sys; from tests.clients.browser_client import outer; "
              f"sys.exit(outer([], inner_command=[sys.executable, '-c', {SLOW_TO_END!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert (proc.returncode, "killed" in out, "ended" in out) == (0, False, True), (
        f"told to stop, the inner process must be let end by itself: exit {proc.returncode}, output {out!r}")
