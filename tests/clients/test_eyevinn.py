"""Eyevinn's browser clients, both named by the product brief, in headless Chromium against the reference
server, in both profile pairs (issue 19): @eyevinn/whip-web-client 1.1.7 publishes, @eyevinn/webrtc-player
0.13.0 plays. Each page is on another origin than the server, as a web app's would be, and is written
as the libraries' READMEs and demo show (tests/clients/pages/eyevinn.html).

The other end of each test is the project's own aiortc peer (whip_whep_conformance.harness.player), so a failure names
the Eyevinn library, not a pair of them. Each test proves media decoded at the viewer, the codec the
publisher sent, teardown judged by the server's sessions (and the DELETE, if the client sends one),
and that no ICE server survived: both libraries hard-code Google's STUN server.

What the libraries do, measured here:
- whip-web-client turns trickle on only when the *endpoint's* OPTIONS answer lists PATCH in
  Access-Control-Allow-Methods. The reference server lists PATCH on the session resource, where it is
  allowed, not on the endpoint (RFC 9110 §10.2.1: Allow names the target resource's methods), and a
  cross-origin page could not read that header anyway (it is not CORS-exposed): its default mode
  publishes without trickle. The `trickle-advertised` case makes its trickle path run (see there).
- webrtc-player's `destroy()` only closes the connection (no DELETE: its source, src/index.ts); the
  test stops it as the library's demo does, with `unload()`, which DELETEs the session first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from aiortc import RTCSessionDescription
from playwright.async_api import Route

from tests.clients.browser_harness import (ChromiumHarness, NetworkLog, answered_2xx, harness,  # noqa: F401 (a fixture)
                                           page_report, serve_folder, serve_on_origin, video_stats, wait_video_frames)
from tests.clients.conftest import wait_sessions
from tests.clients.npm_browser_clients import browser_clients
from tests.plain_shell import new_live_input, stats
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player
from whip_whep_conformance.harness.player import Player

PAGES = Path(__file__).resolve().parent / "pages"
FRAMES = 30
MEDIA_TIMEOUT_S = 20
SCENARIO_TIMEOUT_S = 90
TEARDOWN_TIMEOUT_S = 10
# Google's STUN server, which both libraries put in every RTCPeerConnection they make unless told otherwise.
HARD_CODED_STUN = "stun:stun.l.google.com:19302"


@pytest.fixture(scope="module")
def roots():
    return {"/lib/": browser_clients(), "/": PAGES}


@pytest.fixture(scope="module")
def origin(roots):
    with serve_folder(roots) as url:
        yield url


def _urls(asked: list[dict]) -> list[str]:
    """The ICE server URLs a page asked for (each entry's `urls` is a string or a list)."""
    found = set()
    for entry in asked:
        urls = entry["urls"]
        found.update([urls] if isinstance(urls, str) else urls)
    return sorted(found)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _advertise_patch(route: Route) -> None:
    """The endpoint's OPTIONS answer, amended in the browser to list PATCH: what whip-web-client needs to
    see before it trickles. Every other request reaches the server as sent. (A route makes Playwright
    answer the page's CORS preflights itself: this page is on the server's origin, so it sends none.)"""
    if route.request.method != "OPTIONS":
        await route.continue_()
        return
    response = await route.fetch()
    headers = dict(response.headers)
    headers["access-control-allow-methods"] = headers.get("access-control-allow-methods", "") + ", PATCH"
    await route.fulfill(response=response, headers=headers)


async def _publish_with_whip_web_client(harness: ChromiumHarness, page_base: str | None, roots, urls, token: str,
                                        mode: str) -> dict:
    log = NetworkLog()
    seen: dict = {"log": log}
    page = await harness.new_page(log)
    page.on("console", lambda m: seen.setdefault("console", []).append(m.text))
    page.on("request", lambda r: seen.setdefault("patch_headers", []).append(
        sorted(k for k in r.headers if k in ("etag", "if-match"))) if r.method == "PATCH" else None)
    loop = asyncio.get_running_loop()

    def offer_sent(request) -> None:
        if request.method == "POST" and request.url == urls.whip_url:
            seen["offer_candidates"] = (request.post_data or "").count("a=candidate:")
            seen["offer_after_s"] = round(loop.time() - seen["ingest_at"], 1)
    page.on("request", offer_sent)
    if mode == "trickle-advertised":
        server_origin = "/".join(urls.whip_url.split("/", 3)[:3])  # scheme://host:port
        page_base = await serve_on_origin(page, server_origin, "/test-pages", roots)
        await page.route(urls.whip_url, _advertise_patch)
    await page.goto(f"{page_base}/eyevinn.html")
    seen["ingest_at"] = loop.time()
    await page.evaluate("([u, t, n]) => window.eyevinn.publish(u, t, n)", [urls.whip_url, token, mode == "noTrickleIce"])
    await page.wait_for_function("() => window.__harness.pcs.length > 0 && "
                                 "window.__harness.pcs[0].connectionState === 'connected'", timeout=15_000)
    viewer = Player([])
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            posted = await http.post(urls.whep_url, content=await peer.local_offer(viewer.pc),
                                     headers={"Content-Type": "application/sdp", **_auth(token)})
            await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
            seen["decoded"] = await viewer.wait_frames("video", FRAMES, MEDIA_TIMEOUT_S)
            seen["frames"] = viewer.streams["video"].frames
            seen["viewer_codecs"] = sorted({str(viewer.codec_name(pt)) for pt in viewer.streams["video"].payload_types})
            seen["sent"] = await video_stats(page, "outbound-rtp")
            seen["ice"] = await page_report(page)
            location = httpx.URL(urls.whep_url).join(posted.headers["Location"])
            seen["viewer_delete"] = (await http.delete(str(location), headers=_auth(token))).status_code
    finally:
        await viewer.close()
    # destroy() awaits the session URL first: with none (no Location readable) it would wait for ever.
    await asyncio.wait_for(page.evaluate("() => window.eyevinn.destroy()"), TEARDOWN_TIMEOUT_S)
    await page.context.close()
    return seen


@pytest.mark.client("@eyevinn/whip-web-client 1.1.7", role="publish")
@pytest.mark.parametrize("mode", ["noTrickleIce", "trickle", "trickle-advertised"])
def test_whip_web_client_publishes(harness, origin, roots, make_server, pair, measured, mode):
    """`noTrickleIce`: the offer waits for gathering (its 2-second timeout: the library listens for an
    event name that never fires) and carries every candidate. `trickle`, the default: the endpoint's
    OPTIONS lists no PATCH (and a page on another origin could not read Access-Control-Allow-Methods
    anyway: it is no CORS-exposed header), so the library publishes as in `noTrickleIce`. `trickle-advertised`: the page
    is on the server's own origin (so the library can read Access-Control-Allow-Methods) and the endpoint's
    OPTIONS answer is amended in the browser to list PATCH; the library then sends its offer at once
    and PATCHes candidates with the entity-tag in an `ETag:` request header, not `If-Match`. RFC 9725
    §4.3.1: a PATCH with no If-Match is answered 428, and the library gives up trickling after the first
    refusal; media must still flow (the server learns the browser's address from its checks).

    The library has no codec option and leaves the SDP as Chromium makes it: the codec is Chromium's
    first choice (VP8); Chromium's VP9 and H.264 are proven in test_medooze.py and tests/test_browser.py."""
    server = make_server(pair, token=True)
    urls = new_live_input(server)
    seen = harness.run(_publish_with_whip_web_client(harness, origin, roots, urls, server.token, mode),
                       SCENARIO_TIMEOUT_S, f"whip-web-client ({mode}) publishing, viewed, then destroy()")
    log: NetworkLog = seen["log"]
    patches, deletes = log.statuses("PATCH"), log.statuses("DELETE")
    left = wait_sessions(server, 0)
    sent = seen["sent"] or {}
    trickled = [line for line in seen.get("console", []) if "Trickle ICE" in line]
    measured.update(mode=mode, codec=(sent.get("codec") or "").removeprefix("video/"), frames=seen["frames"],
                    offer_candidates=seen.get("offer_candidates"), offer_after_s=seen.get("offer_after_s"),
                    trickle=("not asked" if not trickled else "on" if "supports Trickle" in trickled[0] else "off"))
    if patches:
        tags = sorted({h for headers in seen["patch_headers"] for h in headers})
        measured["patch"] = f"{patches} (tag in {', '.join(tags) or 'nothing'})"
    measured["delete"] = deletes

    assert not log.errors, f"errors on the page: {log.errors}"
    assert seen["decoded"], f"the aiortc viewer decoded {seen['frames']} video frames of whip-web-client's (wanted {FRAMES})"
    assert sent.get("codec") and seen["viewer_codecs"] == [sent["codec"]], \
        f"whip-web-client's encoder sent {sent.get('codec')}, the viewer received {seen['viewer_codecs']}"
    assert HARD_CODED_STUN in _urls(seen["ice"]["asked"]), \
        f"the library's own STUN server never reached the override (what did?): {seen['ice']['asked']}"
    assert not seen["ice"]["survived"] and not seen["ice"]["nonHost"], f"an ICE server survived the override: {seen['ice']}"
    if mode == "trickle-advertised":
        assert patches, f"with PATCH advertised, whip-web-client sent no trickle PATCH: its decision was {trickled}"
    else:
        assert not patches, f"whip-web-client trickled ({patches}) with no PATCH advertised by the endpoint"
    assert answered_2xx(seen["viewer_delete"]), f"the aiortc viewer's DELETE got {seen['viewer_delete']}"
    assert deletes and all(answered_2xx(s) for s in deletes), f"destroy() sends DELETE to the Location: answered {deletes}"
    assert log.urls("DELETE") == log.locations(urls.whip_url), \
        f"destroy() DELETEd {log.urls('DELETE')}; the session is {log.locations(urls.whip_url)}"
    assert left == 0, f"after destroy() the server still holds {left} sessions"


async def _aiortc_publisher(urls, token: str, codec: str):
    """The project's aiortc publisher, sending `codec` to the WHIP endpoint: (its pc, its session URL)."""
    pc = player.publisher(codec.lower(), [])
    async with httpx.AsyncClient(timeout=10) as http:
        posted = await http.post(urls.whip_url, content=await peer.local_offer(pc),
                                 headers={"Content-Type": "application/sdp", **_auth(token)})
    posted.raise_for_status()
    await pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
    state = await peer.wait_connected(pc, 15)
    assert state == "connected", f"the aiortc publisher did not connect ({state}): {posted.status_code}"
    return pc, str(httpx.URL(urls.whip_url).join(posted.headers["Location"]))


async def _play_with_webrtc_player(harness: ChromiumHarness, origin: str, urls, token: str, server, codec: str) -> dict:
    log = NetworkLog()
    seen: dict = {"log": log}
    pc, location = await _aiortc_publisher(urls, token, codec)
    try:
        page = await harness.new_page(log)
        await page.goto(f"{origin}/eyevinn.html")
        await page.evaluate("([u, t]) => window.eyevinn.play(u, t)", [urls.whep_url, token])
        seen["decoded"] = await wait_video_frames(page, FRAMES, MEDIA_TIMEOUT_S)
        seen["presented"] = await page.evaluate("() => window.eyevinn.presentedFrames('player')")
        seen["ice"] = await page_report(page)
        seen["sessions_playing"] = (await harness.loop.run_in_executor(None, stats, server))["sessions"]
        await page.evaluate("() => window.eyevinn.unload()")
        seen["sessions_after_unload"] = await harness.loop.run_in_executor(None, wait_sessions, server, 1)
        await page.context.close()
    finally:
        async with httpx.AsyncClient(timeout=10) as http:
            seen["publisher_delete"] = (await http.delete(location, headers=_auth(token))).status_code
        await pc.close()
    return seen


@pytest.mark.client("@eyevinn/webrtc-player 0.13.0", role="play")
@pytest.mark.parametrize("codec", ["VP8", "H264"])
def test_webrtc_player_plays(harness, origin, make_server, pair, measured, codec):
    """The aiortc publisher sends `codec`; the player (type 'whep', a Bearer token as its authKey) decodes
    it into its <video>; `unload()` tears it down with a DELETE: the server holds the publisher's
    session alone after it, none once the publisher has left too."""
    server = make_server(pair, token=True)
    urls = new_live_input(server)
    seen = harness.run(_play_with_webrtc_player(harness, origin, urls, server.token, server, codec), SCENARIO_TIMEOUT_S,
                       f"webrtc-player playing {codec}, then unload()")
    log: NetworkLog = seen["log"]
    deletes = log.statuses("DELETE")
    left = wait_sessions(server, 0)
    decoded = seen["decoded"] or {}
    measured.update(codec=(decoded.get("codec") or "").removeprefix("video/"), frames=decoded.get("frames"),
                    presented=seen["presented"], unload_delete=deletes)

    assert not log.errors, f"errors on the page: {log.errors}"
    assert decoded.get("frames", 0) >= FRAMES and seen["presented"] > 0, \
        f"webrtc-player decoded {decoded} and its <video> presented {seen['presented']} frames (wanted {FRAMES})"
    assert decoded.get("codec") == f"video/{codec}", f"the publisher sent {codec}; webrtc-player decoded {decoded.get('codec')}"
    assert HARD_CODED_STUN in _urls(seen["ice"]["asked"]), \
        f"the library's own STUN server never reached the override (what did?): {seen['ice']['asked']}"
    assert not seen["ice"]["survived"] and not seen["ice"]["nonHost"], f"an ICE server survived the override: {seen['ice']}"
    assert seen["sessions_playing"] == 2, f"while playing the server held {seen['sessions_playing']} sessions, not 2"
    assert deletes and all(answered_2xx(s) for s in deletes), f"unload() sends DELETE to the Location: answered {deletes}"
    assert log.urls("DELETE") == log.locations(urls.whep_url), \
        f"unload() DELETEd {log.urls('DELETE')}; the session is {log.locations(urls.whep_url)}"
    assert seen["sessions_after_unload"] == 1, \
        f"after unload() the server held {seen['sessions_after_unload']} sessions, not the publisher's alone"
    assert answered_2xx(seen["publisher_delete"]) and left == 0, \
        f"the publisher's DELETE got {seen['publisher_delete']}; {left} sessions left"
