"""Cloudflare's example clients — the product brief's own `WHIPClient.js` and `WHEPClient.js` (Cloudflare
Stream's WebRTC template, pinned in ../shared/peers/cloudflare-stream-webrtc-example/, served unmodified)
in headless Chromium, on a page of another origin than the server.

They are plain ES modules with relative imports, so the browser loads them as they are: no bundler.
The template's own pages are not served (they load a script from a public CDN); a page of this test
(pages/cloudflare.html) imports the two classes and calls them as those pages do. The pages run in the
shared browser harness (tests/clients/browser_harness.py), which only observes their requests: it
routes none, so every CORS decision below is the browser's own.

Neither client sends an Authorization header (Cloudflare authorises by URL: the publish URL's secret),
so the server runs without a token — the brief's model.

Teardown is the point of this row of issue 19: `disconnectStream()` DELETEs the publish URL, not the
session's Location. The Cloudflare profile takes it (its CORS preflight allows it, the publisher ends);
the standard profile keeps RFC 9725's 405, so there the browser's preflight refuses the DELETE, the
client throws before closing its connection, and the publisher stays live until the page closes it.
`WHEPClient` sends no DELETE at all: its viewer ends with its publisher, or when its page closes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.clients.browser_harness import (ChromiumHarness, NetworkLog, answered_2xx, harness,  # noqa: F401 (a fixture)
                                           page_report, pc_index, serve_folder, video_stats)
from tests.clients.conftest import wait_sessions
from tests.interop.peers import PeerUnavailable, peers_dir
from tests.plain_shell import new_live_input, stats
from whip_whep_conformance.protocol import profiles

EXAMPLE = "cloudflare-stream-webrtc-example"
PAGES = Path(__file__).resolve().parent / "pages"
FRAMES = 30
SCENARIO_TIMEOUT_S = 90
CONNECT_TIMEOUT_MS = 15_000
# What each client's constructor asks for (the harness's override keeps it from the connection).
HARD_CODED = [{"where": "constructor", "urls": "stun:stun.cloudflare.com:3478"}]


def example_dir() -> Path:
    try:
        folder = peers_dir() / EXAMPLE
    except PeerUnavailable as exc:
        pytest.fail(f"Cloudflare's example clients are not available: {exc}")
    if not (folder / "WHIPClient.js").exists():
        pytest.fail(f"no WHIPClient.js in {folder}")
    return folder


@pytest.fixture(scope="module")
def page_origin():
    """The example's files as they are (under /example/) and the test's page, on another origin than the server."""
    with serve_folder({"/example/": example_dir(), "/": PAGES}) as url:
        yield url


async def _open(harness: ChromiumHarness, origin: str, log: NetworkLog):
    page = await harness.new_page(log)
    await page.goto(f"{origin}/cloudflare.html")
    await page.wait_for_function("() => self.harnessReady === true", timeout=10_000)
    return page


async def _scenario(harness: ChromiumHarness, server, origin: str) -> dict:
    urls = await asyncio.to_thread(new_live_input, server)
    log = NetworkLog()  # what became of the client's DELETEs: a status, or the browser's reason for sending none
    seen: dict = {"log": log}
    publisher = await _open(harness, origin, log)
    await publisher.evaluate("url => { self.client = new WHIPClient(url, document.getElementById('input-video')); }",
                             urls.whip_url)
    await publisher.wait_for_function("() => self.client.peerConnection.connectionState === 'connected'",
                                      timeout=CONNECT_TIMEOUT_MS)
    viewer = await _open(harness, origin, log)
    started = time.monotonic()
    await viewer.evaluate("url => { self.client = new WHEPClient(url, document.getElementById('remote-video')); }",
                          urls.whep_url)
    await viewer.wait_for_function(
        f"() => document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames >= {FRAMES}",
        timeout=CONNECT_TIMEOUT_MS)
    seen["first_frames_s"] = round(time.monotonic() - started, 2)
    seen["frames"] = await viewer.evaluate("() => document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames")
    seen["size"] = await viewer.evaluate("() => { const v = document.getElementById('remote-video'); return [v.videoWidth, v.videoHeight]; }")
    seen["sent_codec"] = ((await video_stats(publisher, "outbound-rtp", await pc_index(publisher, "self.client.peerConnection"))) or {}).get("codec")
    seen["played_codec"] = ((await video_stats(viewer, "inbound-rtp", await pc_index(viewer, "self.client.peerConnection"))) or {}).get("codec")
    seen["ice"] = {name: await page_report(page) for name, page in (("publisher", publisher), ("viewer", viewer))}
    seen["sessions_before"] = (await asyncio.to_thread(stats, server))["sessions"]
    seen["disconnect"] = await publisher.evaluate(
        "() => self.client.disconnectStream().then(() => 'returned', e => `threw ${e.name}: ${e.message}`)")
    seen["publisher_state"] = await publisher.evaluate("() => self.client.peerConnection.connectionState")
    seen["sessions_after_disconnect"] = (await asyncio.to_thread(stats, server))["sessions"]
    # What a page does once disconnectStream() threw: the client's own next step, close() (a no-op
    # where it returned); WHEPClient has no way to stop, so its page closes.
    await publisher.evaluate("() => self.client.peerConnection.close()")
    seen["closed_at"] = time.monotonic()
    await viewer.context.close()
    await publisher.context.close()
    return seen


@pytest.mark.client("Cloudflare example WHIPClient.js / WHEPClient.js (workers-sdk 884e418)", role="both")
def test_cloudflare_example_publishes_plays_and_disconnects(harness, make_server, pair, page_origin, measured):
    """WHIPClient publishes Chromium's fake camera, WHEPClient plays it (decoded frames, the publisher's
    codec), then disconnectStream(): in the Cloudflare profile the publisher's session ends with it; in the
    standard one the DELETE on the publish URL is refused (RFC 9725: 405; a browser cannot even send it) and
    the publisher stays live until its page closes. Either way no session is left once the pages close."""
    server = make_server(pair, token=False)
    cloudflare = pair == profiles.CLOUDFLARE
    started = time.monotonic()
    seen = harness.run(_scenario(harness, server, page_origin), SCENARIO_TIMEOUT_S,
                       "WHIPClient publishing, WHEPClient playing, then disconnectStream()")
    log: NetworkLog = seen["log"]
    deletes, ice = log.statuses("DELETE"), seen["ice"]
    left = wait_sessions(server, 0)
    teardown_s = round(time.monotonic() - seen["closed_at"], 1)
    measured.update(codec=(seen["played_codec"] or "").removeprefix("video/"), frames=seen["frames"],
                    first_frames_s=seen["first_frames_s"], disconnect=seen["disconnect"], deletes=deletes,
                    sessions_after_disconnect=seen["sessions_after_disconnect"],
                    teardown_s=teardown_s, wall_s=round(time.monotonic() - started, 1))
    # (No request left loopback: the harness's run() fails the test otherwise.)
    assert all(not r["survived"] and not r["nonHost"] for r in ice.values()), \
        f"an ICE server survived the override or a non-host candidate was gathered: {ice}"
    assert ice["publisher"]["asked"] == HARD_CODED and ice["viewer"]["asked"] == HARD_CODED, \
        f"the override did not meet the clients' hard-coded STUN server: {ice}"
    # Uncaught errors only: in the standard profile the browser logs its refusal of the DELETE as a console error.
    assert not log.page_errors(), f"errors on the pages: {log.page_errors()}"
    assert seen["frames"] >= FRAMES and seen["size"][0] > 0, f"the WHEP page decoded {seen['frames']} frames, {seen['size']}"
    assert seen["played_codec"] and seen["played_codec"] == seen["sent_codec"], \
        f"the viewer decoded {seen['played_codec']}, the publisher sent {seen['sent_codec']}"
    assert seen["sessions_before"] == 2, f"the server held {seen['sessions_before']} sessions while one published and one played"
    if cloudflare:
        assert len(deletes) == 1 and answered_2xx(deletes[0]), \
            f"the client's DELETE on the publish URL: {deletes} (failed: {log.failures}) (a 2xx wanted)"
        assert seen["disconnect"] == "returned" and seen["publisher_state"] == "closed", \
            f"disconnectStream() {seen['disconnect']}, its connection {seen['publisher_state']!r} (DELETEs: {deletes}, failed: {log.failures})"
        assert seen["sessions_after_disconnect"] == 0, \
            f"after disconnectStream() the server still held {seen['sessions_after_disconnect']} sessions (its viewers end with it)"
    else:
        # RFC 9725: the endpoint does not support DELETE (405), so its preflight does not allow it: the browser
        # never sends the DELETE, fetch() rejects, and the client's own close() is never reached.
        assert not any(isinstance(d, int) for d in deletes), f"a DELETE reached the server: {deletes} (failed: {log.failures})"
        assert seen["disconnect"].startswith("threw TypeError") and seen["publisher_state"] == "connected", \
            f"disconnectStream() {seen['disconnect']}, its connection {seen['publisher_state']!r} (DELETEs: {deletes}, failed: {log.failures})"
        assert seen["sessions_after_disconnect"] == 2, \
            f"the refused DELETE changed the sessions held: {seen['sessions_after_disconnect']}"
    assert left == 0, f"{left} sessions left after disconnectStream() and closing both pages"
