"""Cloudflare's example clients — the product brief's own `WHIPClient.js` and `WHEPClient.js` (Cloudflare
Stream's WebRTC template, pinned in ../shared/peers/cloudflare-stream-webrtc-example/, served unmodified)
in headless Chromium, on a page of another origin than the server.

They are plain ES modules with relative imports, so the browser loads them as they are: no bundler.
The template's own pages are not served (they load a script from a public CDN); a page of this test
imports the two classes and calls them as those pages do.

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
import http.server
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import async_playwright

from tests.clients.conftest import wait_sessions
from tests.interop.peers import PeerUnavailable, peers_dir
from tests.plain_shell import new_live_input, stats
from tests.test_browser import CHROMIUM_FLAGS, chromium
from whip_whep import profiles

EXAMPLE = "cloudflare-stream-webrtc-example"
FRAMES = 30
SCENARIO_TIMEOUT_S = 90
# No host name resolves (only 127.0.0.1, the test's own loopback, is left alone): a request or
# STUN server by name that slipped past the overrides below goes nowhere.
BROWSER_FLAGS = [*CHROMIUM_FLAGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
CONNECT_TIMEOUT_MS = 15_000
PAGE = "/conformance-harness.html"
# Loads the two classes the way the template's index.html does, and nothing else.
HARNESS = b"""<!doctype html><html><body>
<video id="input-video" autoplay muted playsinline></video>
<video id="remote-video" autoplay muted playsinline></video>
<script type="module">
import WHIPClient from "./WHIPClient.js";
import WHEPClient from "./WHEPClient.js";
Object.assign(self, { WHIPClient, WHEPClient, harnessReady: true });
</script></body></html>"""
# Before any page script: every RTCPeerConnection gets no ICE server, whatever the page asks for (the
# clients hard-code stun.cloudflare.com; nothing may contact a public address). What was asked is kept.
NO_ICE_SERVERS = """(() => {
  const Native = self.RTCPeerConnection;
  const asked = [];
  const strip = (config) => { asked.push((config && config.iceServers) || []);
                              return Object.assign({}, config || {}, { iceServers: [] }); };
  class NoIceServers extends Native {
    constructor(config, ...rest) { super(strip(config), ...rest); }
    setConfiguration(config) { return super.setConfiguration(strip(config)); }
  }
  self.RTCPeerConnection = NoIceServers;
  self.webkitRTCPeerConnection = NoIceServers;
  self.iceServersAsked = asked;
})();"""
VIDEO_CODEC = """async (pc, direction) => { const stats = await pc.getStats(); let found = null;
  stats.forEach(s => { if (s.type === direction && s.kind === 'video' && s.codecId) found = stats.get(s.codecId).mimeType; });
  return found; }"""


def example_dir() -> Path:
    try:
        folder = peers_dir() / EXAMPLE
    except PeerUnavailable as exc:
        pytest.fail(f"Cloudflare's example clients are not available: {exc}")
    if not (folder / "WHIPClient.js").exists():
        pytest.fail(f"no WHIPClient.js in {folder}")
    return folder


def _handler(folder: Path) -> type[http.server.SimpleHTTPRequestHandler]:
    class ExampleFiles(http.server.SimpleHTTPRequestHandler):
        """The example's files as they are, and the harness page."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self) -> None:
            if urlsplit(self.path).path != PAGE:
                return super().do_GET()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(HARNESS)))
            self.end_headers()
            self.wfile.write(HARNESS)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
            pass

    return ExampleFiles


@pytest.fixture
def page_origin():
    """The example's files on another origin than the server, from a thread of this process on a socket bound here."""
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(example_dir()))
    thread = threading.Thread(target=files.serve_forever, name="cloudflare example files", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{files.server_address[1]}"
    files.shutdown()
    files.server_close()
    thread.join(10)


async def _open(context, origin: str, seen: dict):
    page = await context.new_page()
    page.on("pageerror", lambda e: seen["page_errors"].append(str(e)))
    await page.goto(origin + PAGE)
    await page.wait_for_function("() => self.harnessReady === true", timeout=10_000)
    return page


def _note_if_not_loopback(request, seen: dict) -> None:
    """Requests that would leave loopback. Only noted: routing them through Playwright (page.route) would
    have Playwright answer CORS preflights itself, and the browser's own CORS decision is what is tested."""
    if urlsplit(request.url).hostname not in ("127.0.0.1", "localhost"):
        seen["off_loopback"].append(request.url)


async def _scenario(server, origin: str) -> dict:
    urls = await asyncio.to_thread(new_live_input, server)
    seen: dict = {"page_errors": [], "off_loopback": [], "deletes": []}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=BROWSER_FLAGS)
        try:
            context = await browser.new_context()
            await context.add_init_script(NO_ICE_SERVERS)
            context.on("request", lambda r: _note_if_not_loopback(r, seen))
            # What became of the client's DELETEs: a status, or the browser's reason for sending none.
            # (A DELETE answered and then aborted while its page closes keeps its status.)
            outcomes: dict = {}
            context.on("response", lambda r: r.request.method == "DELETE" and outcomes.__setitem__(id(r.request), r.status))
            context.on("requestfailed", lambda r: r.method == "DELETE" and outcomes.setdefault(id(r), r.failure))
            publisher = await _open(context, origin, seen)
            await publisher.evaluate("url => { self.client = new WHIPClient(url, document.getElementById('input-video')); }",
                                     urls.whip_url)
            await publisher.wait_for_function("() => self.client.peerConnection.connectionState === 'connected'",
                                              timeout=CONNECT_TIMEOUT_MS)
            viewer = await _open(context, origin, seen)
            started = time.monotonic()
            await viewer.evaluate("url => { self.client = new WHEPClient(url, document.getElementById('remote-video')); }",
                                  urls.whep_url)
            await viewer.wait_for_function(
                f"() => document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames >= {FRAMES}",
                timeout=CONNECT_TIMEOUT_MS)
            seen["first_frames_s"] = round(time.monotonic() - started, 2)
            seen["frames"] = await viewer.evaluate("() => document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames")
            seen["size"] = await viewer.evaluate("() => { const v = document.getElementById('remote-video'); return [v.videoWidth, v.videoHeight]; }")
            seen["sent_codec"] = await publisher.evaluate(f"() => ({VIDEO_CODEC})(self.client.peerConnection, 'outbound-rtp')")
            seen["played_codec"] = await viewer.evaluate(f"() => ({VIDEO_CODEC})(self.client.peerConnection, 'inbound-rtp')")
            for name, page in (("publisher", publisher), ("viewer", viewer)):
                seen[f"{name}_ice_servers"] = await page.evaluate("() => self.client.peerConnection.getConfiguration().iceServers")
                seen[f"{name}_ice_servers_asked"] = await page.evaluate("() => self.iceServersAsked")
            seen["sessions_before"] = (await asyncio.to_thread(stats, server))["sessions"]
            seen["disconnect"] = await publisher.evaluate(
                "() => self.client.disconnectStream().then(() => 'returned', e => `threw ${e.name}: ${e.message}`)")
            seen["publisher_state"] = await publisher.evaluate("() => self.client.peerConnection.connectionState")
            seen["sessions_after_disconnect"] = (await asyncio.to_thread(stats, server))["sessions"]
            seen["deletes"] = list(outcomes.values())
            # What a page does once disconnectStream() threw: the client's own next step, close() (a no-op
            # where it returned); WHEPClient has no way to stop, so its page closes.
            await publisher.evaluate("() => self.client.peerConnection.close()")
            closed = time.monotonic()
            await viewer.close()
            await publisher.close()
            seen["closed_at"] = closed
        finally:
            await browser.close()
    return seen


@pytest.mark.client("Cloudflare example WHIPClient.js / WHEPClient.js (workers-sdk 884e418)", role="both")
def test_cloudflare_example_publishes_plays_and_disconnects(make_server, pair, page_origin, measured):
    """WHIPClient publishes Chromium's fake camera, WHEPClient plays it (decoded frames, the publisher's
    codec), then disconnectStream(): in the Cloudflare profile the publisher's session ends with it; in the
    standard one the DELETE on the publish URL is refused (RFC 9725: 405; a browser cannot even send it) and
    the publisher stays live until its page closes. Either way no session is left once the pages close."""
    server = make_server(pair, token=False)
    cloudflare = pair == profiles.CLOUDFLARE
    started = time.monotonic()
    seen = asyncio.run(asyncio.wait_for(_scenario(server, page_origin), SCENARIO_TIMEOUT_S))
    left = wait_sessions(server, 0)
    teardown_s = round(time.monotonic() - seen["closed_at"], 1)
    measured.update(codec=(seen["played_codec"] or "").removeprefix("video/"), frames=seen["frames"],
                    first_frames_s=seen["first_frames_s"], disconnect=seen["disconnect"], deletes=seen["deletes"],
                    sessions_after_disconnect=seen["sessions_after_disconnect"],
                    teardown_s=teardown_s, wall_s=round(time.monotonic() - started, 1))
    assert not seen["off_loopback"], f"requests to non-loopback addresses: {seen['blocked']}"
    assert seen["publisher_ice_servers"] == [] and seen["viewer_ice_servers"] == [], f"an ICE server survived: {seen}"
    hard_coded = [[{"urls": "stun:stun.cloudflare.com:3478"}]]  # what each client's constructor asks for
    assert seen["publisher_ice_servers_asked"] == hard_coded and seen["viewer_ice_servers_asked"] == hard_coded, \
        f"the override did not meet the clients' hard-coded STUN server: {seen}"
    assert not seen["page_errors"], f"errors on the pages: {seen['page_errors']}"
    assert seen["frames"] >= FRAMES and seen["size"][0] > 0, f"the WHEP page decoded {seen['frames']} frames, {seen['size']}"
    assert seen["played_codec"] and seen["played_codec"] == seen["sent_codec"], \
        f"the viewer decoded {seen['played_codec']}, the publisher sent {seen['sent_codec']}"
    assert seen["sessions_before"] == 2, f"the server held {seen['sessions_before']} sessions while one published and one played"
    if cloudflare:
        assert len(seen["deletes"]) == 1 and isinstance(seen["deletes"][0], int) and 200 <= seen["deletes"][0] < 300, \
            f"the client's DELETE on the publish URL: {seen['deletes']} (a 2xx wanted)"
        assert seen["disconnect"] == "returned" and seen["publisher_state"] == "closed", \
            f"disconnectStream() {seen['disconnect']}, its connection {seen['publisher_state']!r} (DELETEs: {seen['deletes']})"
        assert seen["sessions_after_disconnect"] == 0, \
            f"after disconnectStream() the server still held {seen['sessions_after_disconnect']} sessions (its viewers end with it)"
    else:
        # RFC 9725: the endpoint does not support DELETE (405), so its preflight does not allow it: the browser
        # never sends the DELETE, fetch() rejects, and the client's own close() is never reached.
        assert not any(isinstance(d, int) for d in seen["deletes"]), f"a DELETE reached the server: {seen['deletes']}"
        assert seen["disconnect"].startswith("threw TypeError") and seen["publisher_state"] == "connected", \
            f"disconnectStream() {seen['disconnect']}, its connection {seen['publisher_state']!r} (DELETEs: {seen['deletes']})"
        assert seen["sessions_after_disconnect"] == 2, \
            f"the refused DELETE changed the sessions held: {seen['sessions_after_disconnect']}"
    assert left == 0, f"{left} sessions left after disconnectStream() and closing both pages"
