"""Against a production target the suite leaves nothing behind (Ctrl-C included) and can run read-only;
the server reaps a publisher that vanished without DELETE, and its viewers with it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.harness.leftovers import Leftovers

from .processes import child_env, read_line, stop
from .suite_run import REPO


@pytest.fixture
def server():
    s = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[], extra_args=["--media-timeout", "1"])
    s.start()
    yield s
    s.stop()


def _stats(s: EmbeddedServer) -> dict:
    return httpx.get(f"{s.base_url}/client/v4/stats", headers={"Authorization": f"Bearer {s.api_token}"}).json()["result"]


def _until(condition, timeout_s: float) -> bool:
    """A bounded wait on another process's state (it offers no event to wait on)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _suite(s: EmbeddedServer, tmp_path, *args: str) -> subprocess.Popen:
    collection = f"{s.base_url}/client/v4/accounts/vendor/stream/live_inputs"
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--live-inputs={collection}",
         f"--api-token={s.api_token}", f"--reports-dir={tmp_path}", *args, "whip_whep_conformance/suites"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )


@pytest.mark.parametrize("concurrency", [1, 3])
def test_ctrl_c_leaves_no_session_or_live_input_behind(server, tmp_path, concurrency):
    run = _suite(server, tmp_path, f"--max-concurrency={concurrency}", "-k", "test_publication_is_decoded_by_several_viewers")
    try:
        assert _until(lambda: _stats(server)["sessions"] >= 2, 60), "the media case never got going"
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole job, workers included
        run.wait(60)
    finally:
        run.kill()
    assert _until(lambda: _stats(server)["sessions"] == 0 and _stats(server)["live_inputs"] == 0, 30), _stats(server)
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["cleanup"]["not_deleted"] == []


def test_no_create_creates_nothing(server, tmp_path):
    run = _suite(server, tmp_path, "--no-create", "-k", "session_setup or live_inputs")
    out, _ = run.communicate(timeout=120)
    doc = json.loads((tmp_path / "results.json").read_text())
    assert run.returncode == 0, out[-2000:]
    assert {c["verdict"] for c in doc["cases"]} == {"Not applicable"}
    assert "read-only (--no-create)" in doc["cases"][0]["message"]
    listing = httpx.get(f"{server.base_url}/client/v4/accounts/vendor/stream/live_inputs",
                        headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]
    assert listing == [] and _stats(server)["sessions"] == 0


async def _watch_viewer(play_url: str, ended: asyncio.Event) -> player.Player:
    viewer = player.Player([])
    async with httpx.AsyncClient(timeout=10) as http:
        posted = await http.post(play_url, content=await peer.local_offer(viewer.pc), headers={"Content-Type": "application/sdp"})
    await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
    viewer.pc.on("connectionstatechange", lambda: viewer.pc.connectionState in ("closed", "failed") and ended.set())
    return viewer


def test_vanished_publisher_is_reaped_with_its_viewers(server):
    live = httpx.post(f"{server.base_url}/client/v4/accounts/a/stream/live_inputs",
                      headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]
    publisher = subprocess.Popen([sys.executable, str(REPO / "tests" / "publisher_process.py"), live["webRTC"]["url"]],
                                 stdout=subprocess.PIPE, env=child_env())
    try:
        state, location = read_line(publisher, 30).split()
        assert state == "connected"

        async def scenario() -> str:
            peer.restrict_host_addresses(["127.0.0.1"])
            ended = asyncio.Event()
            viewer = await _watch_viewer(live["webRTCPlayback"]["url"], ended)
            assert await viewer.wait_frames("video", 5, 10), "the viewer never got media"
            publisher.send_signal(signal.SIGKILL)  # gone: no DELETE, no DTLS close_notify
            try:
                await asyncio.wait_for(ended.wait(), 15)
            finally:
                state = viewer.pc.connectionState
                await viewer.close()
                peer.restrict_host_addresses(None)
            return state

        assert asyncio.run(scenario()) in ("closed", "failed")
        gone = httpx.delete(str(httpx.URL(live["webRTC"]["url"]).join(location)))
        assert gone.status_code == 404, "the vanished publisher's session was not reaped"
    finally:
        stop(publisher)


def test_sweep_deletes_the_runs_unregistered_live_inputs(server):
    """A live input whose create a Ctrl-C cut off was never registered: the run-end sweep finds it by the
    run's name in the collection, and leaves everyone else's inputs alone."""
    collection = f"{server.base_url}/client/v4/accounts/vendor/stream/live_inputs"
    auth = {"Authorization": f"Bearer {server.api_token}"}
    run = Leftovers()
    for name in (run.live_input_name, "someone else's input", f"{run.live_input_name}0"):
        httpx.post(collection, json={"meta": {"name": name}}, headers=auth).raise_for_status()
    found, failed = run.sweep_collection(collection, auth, timeout_s=10)
    mine = (run.live_input_name, "someone else's input", f"{run.live_input_name}0")
    names = sorted(item["meta"]["name"] for item in httpx.get(collection, headers=auth).json()["result"]
                   if item["meta"].get("name") in mine)
    assert (found, failed, names) == (1, [], sorted(mine[1:])), (found, failed, names)
