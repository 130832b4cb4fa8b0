"""medooze `whip-whep` 1.2.0 — the WHIP RFC author's browser clients, `whip.js` and `whep.js` — in
headless Chromium against the reference server, in both profile pairs (issue 19).

One page publishes the fake camera with whip.js, in VP8, VP9 and H.264 in turn (codec preferences on
its transceiver, as a user of the library would set them); a second page plays it with whep.js. Both
pages are on another origin than the server, as a web app's would be. Each test proves:
- media: the viewer's connection decoded frames, and its <video> presented them;
- codec: what the viewer decoded is what the publisher's encoder sent (both from getStats);
- trickle: whip.js sends its candidates by PATCH only (its offer has none): the PATCHes were answered 2xx;
- teardown: both clients' stop() sent DELETE, answered 2xx, and the server holds no session after;
- no ICE server: nothing survived the page-level override, and only host candidates were gathered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.browser_harness import (ChromiumHarness, NetworkLog, answered_2xx, harness,  # noqa: F401 (a fixture)
                                           page_report, serve_folder, video_stats, wait_video_frames)
from tests.clients.conftest import wait_sessions
from tests.clients.npm_browser_clients import browser_clients
from tests.plain_shell import new_live_input

PAGES = Path(__file__).resolve().parent / "pages"
FRAMES = 30
MEDIA_TIMEOUT_S = 20
SCENARIO_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def origin():
    with serve_folder({"/lib/": browser_clients(), "/": PAGES}) as url:
        yield url


async def _medooze_page(harness: ChromiumHarness, origin: str, log: NetworkLog):
    page = await harness.new_page(log)
    await page.goto(f"{origin}/medooze.html")
    await page.wait_for_function("() => window.medooze !== undefined", timeout=10_000)
    return page


async def _publish_and_view(harness: ChromiumHarness, origin: str, urls, token: str, codec: str) -> dict:
    log = NetworkLog()
    seen: dict = {"log": log}
    publisher = await _medooze_page(harness, origin, log)
    await publisher.evaluate("([u, t, c]) => window.medooze.publish(u, t, c)", [urls.whip_url, token, f"video/{codec}"])
    await publisher.wait_for_function("() => window.__harness.pcs[0].connectionState === 'connected'", timeout=15_000)
    viewer = await _medooze_page(harness, origin, log)
    await viewer.evaluate("([u, t]) => window.medooze.view(u, t)", [urls.whep_url, token])
    seen["decoded"] = await wait_video_frames(viewer, FRAMES, MEDIA_TIMEOUT_S)
    seen["presented"] = await viewer.evaluate("() => window.medooze.presentedFrames()")
    seen["sent"] = await video_stats(publisher, "outbound-rtp")
    seen["ice"] = [await page_report(p) for p in (publisher, viewer)]
    await viewer.evaluate("() => window.medooze.stop('whep')")
    await publisher.evaluate("() => window.medooze.stop('whip')")
    for page in (viewer, publisher):
        await page.context.close()
    return seen


# Statuses a DELETE may get from whip.js/whep.js: both clients' stop() closes the peer connection
# first and sends DELETE after; the close_notify ends the session on the server (RFC 9725 §4.2, "DTLS
# teardown for session termination by either side"), so the DELETE, when it arrives second, finds no
# resource: 404/410, as the suite's own test_dtls_close_ends_the_session requires of a server.
GONE = (404, 410)


@pytest.mark.client("medooze whip-whep 1.2.0", role="both")
@pytest.mark.parametrize("codec", ["VP8", "VP9", "H264"])
def test_whip_js_publishes_and_whep_js_plays(harness, origin, make_server, pair, measured, codec):
    server = make_server(pair, token=True)
    urls = new_live_input(server)
    seen = harness.run(_publish_and_view(harness, origin, urls, server.token, codec), SCENARIO_TIMEOUT_S,
                       f"whip.js publishing {codec}, whep.js playing, both stop()")
    log: NetworkLog = seen["log"]
    left = wait_sessions(server, 0)
    decoded, sent = seen["decoded"] or {}, seen["sent"] or {}
    whip_patches, whep_patches = log.statuses("PATCH", "/publish/"), log.statuses("PATCH", "/play/")
    deletes = log.statuses("DELETE")
    measured.update(codec=codec, frames=decoded.get("frames"), presented=seen["presented"],
                    whip_patch=whip_patches, whep_patch=whep_patches, delete=deletes)
    # whep.js 1.2.0 never keeps the ETag of its POST's answer (only a restart's), so its trickle PATCH
    # carries no If-Match: 428 (draft-ietf-wish-whep-03 §4.3.1, RFC 9725 §4.3.1), which whep.js throws
    # from a timer (an uncaught "Request rejected with status 428" on the page). Media flows anyway:
    # the server learns the viewer's address from its connectivity checks (peer-reflexive).
    refused_trickle = [e for e in log.errors if "428" in e] if 428 in whep_patches else []

    unexpected = [e for e in log.errors if e not in refused_trickle]
    assert not unexpected, f"errors on the pages: {unexpected}"
    assert decoded.get("frames", 0) >= FRAMES and seen["presented"] > 0, \
        f"whep.js decoded {decoded} and its <video> presented {seen['presented']} frames of whip.js's {codec} (wanted {FRAMES})"
    assert sent.get("codec") == f"video/{codec}" == decoded.get("codec"), \
        f"whip.js was set to send {codec}: its encoder sent {sent.get('codec')}, whep.js decoded {decoded.get('codec')}"
    assert whip_patches and all(answered_2xx(s) for s in whip_patches), \
        f"whip.js trickles its candidates by PATCH with If-Match (RFC 9725 §4.3.1): answered {whip_patches}"
    assert all(not r["survived"] and not r["nonHost"] for r in seen["ice"]), \
        f"an ICE server survived the override or a non-host candidate was gathered: {seen['ice']}"
    assert len(deletes) == 2 and all(answered_2xx(s) or s in GONE for s in deletes), \
        f"stop() on whep.js, then whip.js: one DELETE each, answered 2xx or {GONE} (after the DTLS close): got {deletes}"
    sessions = log.locations(urls.whip_url, urls.whep_url)
    assert sorted(log.urls("DELETE")) == sorted(sessions), \
        f"each stop() DELETEs its session URL (its POST's Location): DELETEd {log.urls('DELETE')}, sessions {sessions}"
    assert left == 0, f"after both clients' stop() the server still holds {left} sessions"
