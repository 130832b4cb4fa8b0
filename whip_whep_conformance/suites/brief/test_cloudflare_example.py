"""Cloudflare compatibility — what Cloudflare's own example clients do, which no WHIP text defines.

Cloudflare Stream's WebRTC page tells users to run its example `WHIPClient.js`, whose
`disconnectStream()` ends a broadcast by DELETE on the publish URL (the WHIP endpoint it POSTed to),
not on the session's Location (RFC 9725 §4.2). A service that ignores it leaves the broadcaster's
session streaming after the user pressed stop. Reported as Info (what happened), and only where
Cloudflare's product is under test: a plain WHIP endpoint owes it nothing.
"""

import pytest

from whip_whep_conformance.protocol import headers
from whip_whep_conformance.webrtc import peer

pytestmark = pytest.mark.asyncio

ENDED_WITHIN_S = 3.0  # a server that ends the session closes its DTLS (close_notify, one packet) at once
ORIGIN = "https://player.example"
# What a browser asks before the example's cross-origin `fetch(endpoint, {method: "DELETE", mode: "cors"})`.
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}


async def _left_connected(pc, within_s: float) -> str:
    """The publisher's connection state once it leaves "connected" (the server closed it), or after `within_s`."""
    await peer.wait_state(pc, lambda state: state != "connected", within_s)
    return pc.connectionState


@pytest.mark.requirement("BRIEF-CF-1")
async def test_delete_on_the_publish_url_ends_the_publisher(case):
    """Publish (connected, media flowing), DELETE the publish URL as Cloudflare's example client does, then
    DELETE the session's Location: 404/410 there shows the first DELETE ended the session; a 2xx that it
    was still live (this DELETE ends it). Info either way, with what the two answered, and whether the
    URL's CORS preflight lets a page on another origin send that DELETE at all (the example runs in one)."""
    if not case.record.product_in_scope:
        case.not_applicable("BRIEF-CF-1 is about Cloudflare's example client and service, not WHIP: it is looked at "
                            "only against a live inputs API (--live-inputs) or the Cloudflare profiles")
    urls, pc, posted = await case.publish_media("vp8")
    session_url = case.session_url(posted, "whip")
    preflight = await case.signalling.request("OPTIONS", urls.whip_url, with_token=False, headers=PREFLIGHT)
    methods = headers.split_list(preflight.headers.get("Access-Control-Allow-Methods"))
    cors = ("allows it" if 200 <= preflight.status_code < 300 and ("delete" in methods or "*" in methods)
            else f"does not allow it ({preflight.status_code}, Access-Control-Allow-Methods {methods})")
    deleted = await case.signalling.request("DELETE", urls.whip_url)
    state = await _left_connected(pc, ENDED_WITHIN_S if 200 <= deleted.status_code < 300 else 0)
    probe = await case.signalling.delete(session_url)
    if probe.status_code in (404, 410) and state != "connected":
        outcome = "the publisher's session had ended"
    elif probe.status_code in (404, 410):
        outcome = ("the session's Location is gone but the publisher's connection is still up: the session may have "
                   "ended without its transport being closed, or the Location never named it")
    elif 200 <= probe.status_code < 300:
        outcome = "the publisher was still live (this second DELETE ended it)"
    else:
        outcome = "whether the session had ended is not known"
    case.record.figures["publish_url_delete_status"] = deleted.status_code
    case.info("BRIEF-CF-1", f"DELETE on the publish URL answered {deleted.status_code}; then DELETE on the session's "
                            f"Location answered {probe.status_code}: {outcome}; the publisher's connection was "
                            f"{state!r}; a browser's CORS preflight for that DELETE {cors}")
