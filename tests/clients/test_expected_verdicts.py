"""Real clients keep their recorded verdicts: one `clients` run per client in tests/clients/expected/
(tests/clients/expected_verdicts.py), every case's verdict compared with the checked-in one. A moved verdict
is either a client case changed (re-record, and say why in the commit) or a regression in the harness.
Wall time: about 35 s per scenario and profile pair (until the server reports sessions, the harness waits
its full 30 s for "connected"), so this is a slow test."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.clients import expected_verdicts as ev, node_stack
from tests.clients.real_clients import CLIENTS
from tests.interop import lab, peers

RECORDED = sorted(path.stem for path in ev.EXPECTED.glob("*.json"))


def _unavailable(name: str) -> str | None:
    """Why `name` cannot run on this machine, or None."""
    client = CLIENTS[name]
    if name == "ffmpeg" and importlib.util.find_spec("av") is None:
        return "PyAV (FFmpeg 8's WHIP muxer) is not installed"
    if client.namespace and (why := lab.namespace_support()):
        return why
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


@pytest.mark.slow
@pytest.mark.parametrize("name", RECORDED)
def test_real_client_keeps_its_expected_verdicts(name, tmp_path):
    why_not = _unavailable(name)
    if why_not:
        pytest.skip(why_not)
    got = ev.run(CLIENTS[name], tmp_path, [])
    diffs = ev.differences(ev.load(name), got)
    assert not diffs, (f"{CLIENTS[name].label}: verdicts moved from expected/{name}.json (re-record with "
                       f"`python -m tests.clients.expected_verdicts record {name}` if a case changed):\n"
                       + "\n".join(diffs) + f"\nreports: {tmp_path}")


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
