"""A real browser against the reference server: headless Chromium (the Debian package, driven by
Playwright) runs the demo page, publishes its fake camera over WHIP with a preferred codec, and a
second page and an aiortc player decode it over WHEP.

The page is served from another origin (its own port) than the API and the WHIP/WHEP endpoints,
so every CORS preflight and exposed header is exercised as browsers enforce them. The browser is the
client tests' harness (tests/clients/browser_harness.py: its flags, no ICE server, nothing off
loopback, requests observed and never routed). A missing Chromium fails these tests: `./run tests`
installs it with apt.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness.embedded import EmbeddedServer
from tests.clients.browser_harness import ChromiumHarness, harness, pc_index, serve_folder, video_stats  # noqa: F401 (a fixture)
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness.player import Player

STATIC = Path(__file__).resolve().parent.parent / "whip_whep_conformance" / "reference_server" / "static"
FRAMES = 30
# A whole scenario's deadline: Playwright's evaluate() of a promise waits without one of its own.
SCENARIO_TIMEOUT_S = 120


@pytest.fixture
def server(make_server):
    return make_server(token=True)


@pytest.fixture(scope="module")
def page_origin():
    """The demo page's files on another origin than the server (a different port)."""
    with serve_folder({"/": STATIC}) as url:
        yield url


async def _close(pages: list) -> None:
    for page in pages:
        await page.context.close()


async def _publish_from_demo_page(harness: ChromiumHarness, origin: str, query: dict, seen: dict, pages: list):
    """A demo page that creates a live input and publishes to it: (page, the live input's API record)."""
    publisher = await harness.new_page()
    pages.append(publisher)
    publisher.on("pageerror", lambda e: seen["errors"].append(str(e)))
    await publisher.goto(f"{origin}/demo.html?{urlencode(query)}")
    live = await publisher.evaluate("() => window.demo.createInput()")
    await publisher.evaluate("() => window.demo.publish()")
    return publisher, live


async def _scenario(harness: ChromiumHarness, server: EmbeddedServer, origin: str, codec: str) -> dict:
    seen: dict = {"errors": []}
    query = {"server": server.base_url, "apiToken": server.api_token, "token": server.token, "codec": codec}
    pages: list = []
    try:
        publisher, live = await _publish_from_demo_page(harness, origin, query, seen, pages)
        query.update(whepUrl=live["webRTCPlayback"]["url"])
        watcher = await harness.new_page()
        pages.append(watcher)
        watcher.on("pageerror", lambda e: seen["errors"].append(str(e)))
        await watcher.goto(f"{origin}/demo.html?{urlencode(query)}")
        await watcher.evaluate("() => window.demo.play()")
        await watcher.wait_for_function(f"() => window.demo.decodedFrames() >= {FRAMES}", timeout=15_000)
        seen["browser_size"] = await watcher.evaluate("() => window.demo.videoSize()")
        sent = await video_stats(publisher, "outbound-rtp", await pc_index(publisher, "window.demo.sessions.publish.pc"))
        seen["sent_codec"] = (sent or {}).get("codec")
        seen["aiortc"] = await _aiortc_viewer(live["webRTCPlayback"]["url"], server.token)
        await publisher.evaluate("() => window.demo.stop('publish')")
        seen["player_state_after"] = await watcher.wait_for_function(
            "() => ['closed', 'failed', 'disconnected'].includes(document.getElementById('playState').textContent)",
            timeout=15_000) and await watcher.text_content("#playState")
        seen["page_errors"] = [await p.text_content("#error") for p in (publisher, watcher)]
    finally:
        await _close(pages)
    async with httpx.AsyncClient(timeout=10) as http:
        stats = await http.get(f"{server.base_url}/client/v4/stats", headers={"Authorization": f"Bearer {server.api_token}"})
        seen["sessions_left"] = stats.json()["result"]["sessions"]
    return seen


async def _aiortc_viewer(url: str, token: str | None, while_playing=None) -> dict:
    """An aiortc player of `url`: what it decoded, and what `while_playing(viewer)` returned once it played."""
    viewer = Player([])
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            posted = await http.post(url, content=await peer.local_offer(viewer.pc),
                                     headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"})
        await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
        decoded = await viewer.wait_frames("video", FRAMES, 15)
        seen = {"decoded": decoded, "codecs": sorted(str(viewer.codec_name(pt)) for pt in viewer.streams["video"].payload_types),
                "audio": viewer.streams["audio"].frames > 0}
        if while_playing is not None and decoded:
            seen["while_playing"] = await while_playing(viewer)
        return seen
    finally:
        await viewer.close()


@pytest.mark.parametrize("codec", ["VP8", "VP9", "H264"])
def test_browser_publishes_and_browser_and_aiortc_play(harness, server, page_origin, codec):
    seen = harness.run(_scenario(harness, server, page_origin, codec), SCENARIO_TIMEOUT_S,
                       f"the demo page publishing {codec}, a second one and aiortc playing")
    assert not seen["errors"] and seen["page_errors"] == ["", ""], f"errors on the pages: {seen}"
    assert seen["sent_codec"] == f"video/{codec}", f"the browser sent {seen['sent_codec']}, preferred {codec}"
    assert seen["browser_size"] == [320, 240], f"the browser player decoded {seen['browser_size']}: {seen}"
    assert seen["aiortc"] == {"decoded": True, "codecs": [f"video/{codec}"], "audio": True}, seen["aiortc"]
    assert seen["sessions_left"] == 0, f"stopping the publisher (DELETE) left sessions: {seen}"


async def _simulcast_scenario(harness: ChromiumHarness, server: EmbeddedServer, origin: str) -> dict:
    """Chromium publishes VP8 as two simulcast streams; an aiortc player decodes what the relay forwards."""
    seen: dict = {"errors": []}
    query = {"server": server.base_url, "apiToken": server.api_token, "token": server.token, "codec": "VP8", "simulcast": "1"}
    pages: list = []
    try:
        publisher, live = await _publish_from_demo_page(harness, origin, query, seen, pages)
        seen["answer"] = [line for line in (await publisher.evaluate(
            "() => window.demo.sessions.publish.pc.remoteDescription.sdp")).splitlines()
            if line.startswith(("a=simulcast", "a=rid"))]
        # The streams with packets sent, as soon as both are (a browser turns its upper stream on once
        # its bandwidth estimate allows), else what was sent by the deadline.
        seen["streams_sent"] = await publisher.evaluate(
            """async (deadlineMs) => { const until = Date.now() + deadlineMs; let rids = [];
               while (true) {
                 const stats = await window.demo.sessions.publish.pc.getStats(); rids = [];
                 stats.forEach(s => { if (s.type === 'outbound-rtp' && s.kind === 'video' && s.packetsSent > 0)
                   rids.push(s.rid); });
                 if (rids.length >= 2 || Date.now() > until) return rids.sort();
                 await new Promise(resolve => setTimeout(resolve, 200)); } }""", 15_000)

        async def turn_each_stream_off(viewer: Player) -> dict:
            """Stop one stream, then the other: whichever the relay forwards, it must move to the one left."""
            frames_after = {}
            for off in ("h", "l"):
                await publisher.evaluate(
                    """async (off) => { const sender = window.demo.sessions.publish.pc.getSenders()
                         .find(s => s.track && s.track.kind === 'video');
                       const parameters = sender.getParameters();
                       parameters.encodings.forEach(e => { e.active = e.rid !== off; });
                       await sender.setParameters(parameters); }""", off)
                video = viewer.streams["video"]
                before = video.frames
                await viewer.wait_for("video", lambda stream: stream.frames >= before + FRAMES, 15)
                frames_after[f"{off} off"] = video.frames - before
            return frames_after

        seen["aiortc"] = await _aiortc_viewer(live["webRTCPlayback"]["url"], server.token, turn_each_stream_off)
        await publisher.evaluate("() => window.demo.stop('publish')")
        seen["page_errors"] = [await publisher.text_content("#error")]
    finally:
        await _close(pages)
    return seen


def test_browser_publishes_simulcast_and_aiortc_plays(harness, server, page_origin):
    """RFC 9725 §4.8 on the media plane: the reference server takes up a browser's simulcast offer, and
    its relay forwards one of the streams to a player, which decodes it, and goes on decoding when the
    browser turns off the stream forwarded (the relay moves to the other)."""
    seen = harness.run(_simulcast_scenario(harness, server, page_origin), SCENARIO_TIMEOUT_S,
                       "the demo page publishing simulcast, aiortc playing")
    assert not seen["errors"] and seen["page_errors"] == [""], f"errors on the page: {seen}"
    assert seen["answer"] == ["a=rid:h recv", "a=rid:l recv", "a=simulcast:recv h;l"], f"the answer: {seen['answer']}"
    assert seen["streams_sent"] == ["h", "l"], f"the browser sent streams {seen['streams_sent']}: the relay's choice was not exercised"
    switches = seen["aiortc"].pop("while_playing", {})
    assert seen["aiortc"] == {"decoded": True, "codecs": ["video/VP8"], "audio": True}, seen["aiortc"]
    assert all(frames >= FRAMES for frames in switches.values()) and len(switches) == 2, \
        f"with one stream turned off, then the other, the player decoded {switches} more frames (wanted {FRAMES} each)"
