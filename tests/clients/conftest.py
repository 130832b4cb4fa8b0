"""The client tests' shared fixtures: the profile pair a test runs in, and the record of what it measured.

A client test is parametrised over both profile pairs the reference server offers (standard, and
Cloudflare's whip-06 + murillo-01) through the `pair` fixture, and says what it measured through
`measured` (e.g. `measured["codec"] = "VP8"`, `measured["frames"] = 30`). After each test its outcome,
the pair and the figures are written to `build/clients/<test id>.json`; `python -m tests.clients.table`
reads those files into the README's table of tested clients.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from whip_whep_conformance.protocol import profiles

REPO = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO / "build" / "clients"
PAIRS = {"standard": profiles.STANDARD, "cloudflare": profiles.CLOUDFLARE}
_MEASURED = pytest.StashKey[dict]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "client(name, role): an independent client this test runs (role: publish, play or both)")


@pytest.fixture(params=list(PAIRS), ids=list(PAIRS))
def pair(request: pytest.FixtureRequest) -> profiles.ProfilePair:
    """The profile pair the reference server runs in for this test."""
    return PAIRS[request.param]


@pytest.fixture
def measured(request: pytest.FixtureRequest) -> dict:
    """Figures the test measured (codec, frames decoded, hold time…): shown in the client table."""
    figures: dict = {}
    request.node.stash[_MEASURED] = figures
    return figures


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("client")
    if marker is None or report.when not in ("setup", "call"):
        return
    if report.when == "setup" and report.passed:
        return  # the call phase records it
    callspec = getattr(item, "callspec", None)
    pair = callspec.params.get("pair") if callspec else None
    record = {
        "test": item.nodeid,
        "client": marker.args[0],
        "role": marker.kwargs.get("role", "both"),
        "pair": pair,
        "outcome": "xfailed" if hasattr(report, "wasxfail") else report.outcome,
        "measured": item.stash.get(_MEASURED, {}),
    }
    if report.failed:
        record["why"] = str(report.longrepr).strip().splitlines()[-1][:300] if report.longrepr else ""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(record, indent=1, default=str))


def wait_sessions(server, count: int = 0, timeout_s: float = 15.0) -> int:
    """Wait until the reference server holds `count` sessions (default none); return what it holds.

    Teardown is judged by what the server says (`/client/v4/stats`), not by what the client sent: a
    client's DELETE answered 2xx and a session still held would be a leak. Polls another process's
    state: there is no event to wait on across the process boundary.
    """
    import time

    from tests.plain_shell import stats

    deadline = time.monotonic() + timeout_s
    held = stats(server)["sessions"]
    while held != count and time.monotonic() < deadline:
        time.sleep(0.2)
        held = stats(server)["sessions"]
    return held
