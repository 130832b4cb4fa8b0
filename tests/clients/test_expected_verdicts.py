"""Real clients keep their recorded verdicts: one `clients` run per client in tests/clients/expected/
(tests/clients/expected_verdicts.py), every case's verdict compared with the checked-in one. A moved verdict
is either a client case changed (re-record, and say why in the commit) or a regression in the harness.
Wall time: about 35 s per scenario and profile pair (until the server reports sessions, the harness waits
its full 30 s for "connected"), so this is a slow test; two clients run at once."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
from concurrent.futures import Future
from pathlib import Path
from typing import Iterator

import pytest

from tests.clients import expected_verdicts as ev, node_stack
from tests.clients.real_clients import BROWSER_LIBRARIES, CLIENTS
from tests.interop import lab, peers
from tests.suite_run import at_once, selected_params

RECORDED = sorted(path.stem for path in ev.EXPECTED.glob("*.json"))


def _unavailable(name: str) -> str | None:
    """Why `name` cannot run on this machine, or None."""
    client = CLIENTS[name]
    if name == "ffmpeg" and importlib.util.find_spec("av") is None:
        return "PyAV (FFmpeg 8's WHIP muxer) is not installed"
    if client.namespace and (why := lab.namespace_support()):
        return why
    if client.name.rpartition("-")[0] in BROWSER_LIBRARIES and not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "Chromium is not installed (`./run tests` installs it with apt-get when run as root)"
    try:
        client.command()
    except peers.PeerUnavailable as exc:
        return f"{name} could not be built: {exc}"
    return None


@pytest.mark.parametrize("name", RECORDED)
def test_every_non_pass_verdict_names_its_cause(name):
    recorded = json.loads(ev.expected_file(name).read_text())["verdicts"]
    uncaused = [case for case, entry in recorded.items() if entry["verdict"] in ev.FINDINGS and not entry.get("cause")]
    assert not uncaused, f"expected/{name}.json: non-Pass verdicts without a cause: {uncaused}"


# A real client's `clients` run mostly waits (for its session, through its hold, out to a scenario's
# deadline), so AT_ONCE of them run at a time, on the one worker that takes this module.
AT_ONCE = 2


@pytest.fixture(scope="module")
def client_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """The runs of the clients this session selected that can run here (a future per client; a reason
    for the others), started when the first test asks. The peers are built first, one after another."""
    names = [p["name"] for p in selected_params(request.session, "test_real_client_keeps_its_expected_verdicts")]
    reasons = {name: _unavailable(name) for name in names}
    jobs = {name: functools.partial(_run, name) for name in names if reasons[name] is None}
    with at_once(jobs, tmp_path_factory, AT_ONCE) as futures:
        yield {**futures, **{name: why for name, why in reasons.items() if why is not None}}


def _run(name: str, reports_dir: Path) -> tuple[dict, Path]:
    return ev.run(CLIENTS[name], reports_dir, []), reports_dir


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first test's setup builds every selected client's peer (cold: several minutes)
@pytest.mark.parametrize("name", RECORDED)
def test_real_client_keeps_its_expected_verdicts(name, client_runs):
    run = client_runs[name]
    if isinstance(run, str):
        if os.environ.get("CI"):  # .ci/run installs everything these need: a skip there would hide a client
            pytest.fail(f"{name} cannot run in CI: {run}")
        pytest.skip(run)
    got, reports = run.result(timeout=1000)
    diffs = ev.differences(ev.load(name), got)
    assert not diffs, (f"{CLIENTS[name].label}: verdicts moved from expected/{name}.json (re-record with "
                       f"`python -m tests.clients.expected_verdicts record {name}` if a case changed):\n"
                       + "\n".join(diffs) + f"\nreports: {reports}")


def test_a_moved_verdict_is_named_with_expected_and_got():
    expected = {"verdicts": {"t.py::a[p]": {"verdict": "Pass"}, "t.py::b[p]": {"verdict": "Fail", "cause": "x"}}}
    got = {"verdicts": {"t.py::a[p]": {"verdict": "Fail", "message": "no DELETE"}, "t.py::b[p]": {"verdict": "Fail"}}}
    assert ev.differences(expected, got) == ["t.py::a[p]: expected Pass, got Fail — no DELETE"], (
        "only the moved case should be reported, with its expected and got verdicts and the run's message")


@pytest.mark.parametrize("name", ["werift-whip", "werift-whep"])
def test_werift_is_skipped_with_a_reason_without_namespaces(name, monkeypatch):
    monkeypatch.setattr(lab, "namespace_support", lambda: "the interop lab needs root (unshare -n and a veth pair)")
    assert _unavailable(name) == "the interop lab needs root (unshare -n and a veth pair)", (
        "werift skips loopback for ICE: without a namespace its run cannot connect, so it must be skipped")


@pytest.mark.parametrize("name", ["werift-whip", "werift-whep"])
def test_werift_is_skipped_with_a_reason_without_npm(name, monkeypatch):
    def no_npm() -> None:
        raise peers.PeerUnavailable("missing Debian packages ['nodejs', 'npm'] and not root with apt-get to install them")

    monkeypatch.setattr(lab, "namespace_support", lambda: None)
    monkeypatch.setattr(node_stack, "node_clients", no_npm)
    why = _unavailable(name)
    assert why is not None and "npm" in why and name in why, (
        f"without npm (or its registry) the werift packages cannot be installed: a skip naming why, got {why!r}")
