"""OPTIONS and CORS (RFC 9725 §4.2, draft-ietf-wish-whep-03 §4.2 and the Fetch standard), as the
reference server implements them.

Endpoints MUST support OPTIONS for CORS; the 200 SHOULD carry Accept-Post: application/sdp. A CORS
preflight carries no credentials (RFC 9725 §4.7.1: the client sends Authorization on every request
except the preflight), so it is answered without them. Browsers read only exposed headers: the 201's
Location, ETag and Link must be exposed. ice-server Links may be sent on a plain OPTIONS (§4.6), not
on a preflight, whose answer a browser does not show the page.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.protocol.link import parse_links

from .inprocess import SDP, TOKEN, described

pytestmark = pytest.mark.asyncio

STUN = "stun:127.0.0.1:3478"  # advertised only (link_ice_servers): the server never contacts it
PREFLIGHT = {"Origin": "https://player.example", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def listed(response, header: str) -> set[str]:
    return {v.strip().lower() for v in response.headers.get(header, "").split(",") if v.strip()}


async def test_options_on_the_endpoint_is_200(server, live):
    response = await server.request("OPTIONS", live.publish)
    assert response.status == 200, f"RFC 9725 §4.2: endpoints support OPTIONS (200 OK); {described(response)}"


async def test_options_carries_accept_post_sdp(server, live):
    response = await server.request("OPTIONS", live.publish)
    assert response.headers.get("Accept-Post") == SDP, f"RFC 9725 §4.2: the OPTIONS 200 names Accept-Post: {SDP}; {described(response)}"


async def test_whep_options_carries_accept_post_sdp(server, live):
    response = await server.request("OPTIONS", live.play)
    assert response.headers.get("Accept-Post") == SDP, f"draft-ietf-wish-whep-03 §4.2: Accept-Post: {SDP}; {described(response)}"


async def test_preflight_needs_no_token(start_server):
    server = await start_server(token=TOKEN)
    response = await server.request("OPTIONS", (await server.live_input()).publish, headers=PREFLIGHT)
    assert response.status == 200, f"RFC 9725 §4.7.1: a preflight carries no Authorization and is answered; {described(response)}"


async def test_preflight_allows_the_origin(server, live):
    response = await server.request("OPTIONS", live.publish, headers=PREFLIGHT)
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", PREFLIGHT["Origin"]), \
        f"Fetch §3.2.3: the preflight's answer allows the page's origin; {described(response)}"


async def test_preflight_allows_post_and_its_headers(server, live):
    response = await server.request("OPTIONS", live.publish, headers=PREFLIGHT)
    ok = "post" in listed(response, "Access-Control-Allow-Methods") and \
        {"authorization", "content-type", "if-match"} <= listed(response, "Access-Control-Allow-Headers")
    assert ok, f"Fetch §3.2.3: the preflight allows POST with Authorization, Content-Type (and If-Match for PATCH); {described(response)}"


async def test_session_preflight_allows_patch_and_delete(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    response = await server.request("OPTIONS", session.path, headers={**PREFLIGHT, "Access-Control-Request-Method": "PATCH"})
    assert {"patch", "delete"} <= listed(response, "Access-Control-Allow-Methods"), \
        f"Fetch §3.2.3: a session's preflight allows PATCH and DELETE; {described(response)}"


async def test_201_exposes_location_etag_and_link(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer, Origin=PREFLIGHT["Origin"])
    exposed = listed(response, "Access-Control-Expose-Headers")
    assert response.status == 201 and {"location", "etag", "link"} <= exposed, \
        f"Fetch §3.2.3: a page reads only exposed headers: Location, ETag, Link; {described(response)}"


async def test_options_links_ice_servers(start_server):
    server = await start_server(link_ice_servers=[STUN])
    response = await server.request("OPTIONS", (await server.live_input()).publish)
    links = response.headers.getall("Link", [])
    assert any(STUN in link and "ice-server" in link for link in links), \
        f"RFC 9725 §4.6: the endpoint may give its STUN/TURN servers on OPTIONS; {described(response)}"


async def test_preflight_carries_no_ice_server_links(start_server):
    server = await start_server(link_ice_servers=[STUN])
    response = await server.request("OPTIONS", (await server.live_input()).publish, headers=PREFLIGHT)
    assert "Link" not in response.headers, f"a preflight's answer is never shown to the page: no Link there; {described(response)}"


async def test_201_links_ice_servers_with_turn_credentials(start_server, peers):
    server = await start_server(link_ice_servers=[STUN, "turn:user:secret@127.0.0.1:3478"])
    response = await server.post_offer((await server.live_input()).publish, await peers.offer(peers.publisher()))
    turn = [link for link in parse_links(response.headers.getall("Link", [])) if link.target.startswith("turn:")]
    assert turn and (turn[0].params.get("username"), turn[0].params.get("credential")) == ("user", "secret"), \
        f"RFC 9725 §4.6: a TURN server's Link carries username and credential; {described(response)}"


async def test_options_on_the_drafts_leaves_get_out_of_allow(start_server):
    server = await start_server(profiles.CLOUDFLARE)
    response = await server.request("OPTIONS", (await server.live_input()).publish)
    assert "POST" in response.headers.get("Allow", "") and "GET" not in response.headers.get("Allow", ""), \
        f"RFC 9110 §10.2.1: Allow lists what is supported; draft-ietf-wish-whip-06 refuses GET; {described(response)}"
