"""draft-ietf-wish-whep-03 §4.2 Playback session set up (and draft-murillo-whep-01 §4.2's server
offer), as the reference server implements them.

§4.2.1: an offer the endpoint accepts gets "201 Created" typed application/sdp with a Location; the
answer is sendonly (§4.2.5). §4.2.2: an offer the endpoint refuses gets "406 Not Acceptable" typed
application/sdp (valid-until, if given, an HTTP-date) with the server's own offer and a Location; the
player's answer comes by PATCH typed application/sdp, answered 204 (malformed: a 4xx). §4.2.4: another
type or malformed SDP gets a 4xx. §4.2.8: an input nobody publishes may get 409 with Retry-After in
seconds. The reference server counter-offers when the viewer's codecs cannot carry the live stream.
"""

from __future__ import annotations

import re

import pytest
import pytest_asyncio

from whip_whep_conformance.protocol import profiles, sdp, sdpfrag
from whip_whep_conformance.protocol.headers import http_date, media_type_parameter

from .inprocess import SDP, described

pytestmark = pytest.mark.asyncio


def directions(text: str) -> list[str]:
    return [m.direction for m in sdp.SessionDescription.parse(text).media]


async def test_viewer_offer_is_answered_201_typed_sdp(server, live, viewer_offer):
    response = await server.post_offer(live.play, viewer_offer)
    assert (response.status, response.content_type) == (201, SDP), f"WHEP §4.2.1: 201 Created typed {SDP}; {described(response)}"


async def test_201_names_the_session_in_location_with_an_etag(server, live, viewer_offer):
    response = await server.post_offer(live.play, viewer_offer)
    location, etag = response.headers.get("Location", ""), response.headers.get("ETag", "")
    assert location.startswith(live.play + "/") and re.fullmatch(r'"[^"]*"', etag), \
        f"WHEP §4.2.1 / §4.4.1: Location names the session, a strong ETag its ICE session; {described(response)}"


async def test_answer_is_sendonly(server, live, viewer_offer):
    session = await server.session(live.play, viewer_offer)
    assert directions(session.answer) == ["sendonly", "sendonly"], \
        f"WHEP §4.2.5: the endpoint's answer MUST use sendonly; directions {directions(session.answer)}"


async def test_sendonly_viewer_offer_is_refused_4xx(server, live, peers):
    response = await server.post_offer(live.play, await peers.offer(peers.viewer(direction="sendonly")))
    assert response.status == 400, f"WHEP §4.2.5: a player's offer MUST NOT be sendonly (refused 400 here); {described(response)}"


async def test_offer_typed_otherwise_gets_415(server, live, viewer_offer):
    response = await server.post_offer(live.play, viewer_offer, content_type="text/plain")
    assert response.status == 415, f"WHEP §4.2.4: a POST not typed {SDP} gets a 4xx (415 here); {described(response)}"


async def test_malformed_sdp_gets_400(server, live):
    response = await server.post_offer(live.play, "v=0\r\nnot sdp\r\n")
    assert response.status == 400, f"WHEP §4.2.4: malformed SDP gets a 4xx (400 here); {described(response)}"


async def test_empty_post_is_refused_under_whep_03(server, live):
    response = await server.post_offer(live.play, "", content_type=None)
    assert response.status == 415, \
        f"WHEP §4.2: the player MUST offer; an empty untyped POST is no offer (415 here); {described(response)}"


async def test_trickle_on_a_viewer_session_is_answered_204(server, live, viewer_offer):
    session = await server.session(live.play, viewer_offer)
    response = await server.patch(session.path, str(sdpfrag.for_offer(viewer_offer, end_of_candidates=True)), if_match=session.etag)
    assert response.status == 204, f"WHEP §4.4.2: a trickle PATCH gets 204 No Content; {described(response)}"


async def test_delete_ends_a_viewer_session_then_404(server, live, viewer_offer):
    session = await server.session(live.play, viewer_offer)
    first = await server.request("DELETE", session.path)
    assert first.status == 200, f"control: DELETE ends the viewer session; {described(first)}"
    again = await server.request("DELETE", session.path)
    assert again.status == 404, f"WHEP §4.3: an ended session's URL no longer exists; {described(again)}"


async def test_unknown_play_url_gets_404(server, viewer_offer):
    response = await server.post_offer("/no-such-input/webRTC/play", viewer_offer)
    assert response.status == 404, f"RFC 9110 §15.5.5: no endpoint at this URL; {described(response)}"


async def test_input_nobody_publishes_gets_409_with_retry_after_seconds(start_server, peers):
    server = await start_server(require_publisher=True)
    response = await server.post_offer((await server.live_input()).play, await peers.offer(peers.viewer()))
    retry = response.headers.get("Retry-After", "")
    assert response.status == 409 and retry.isdigit(), \
        f"WHEP §4.2.8: 409 Conflict with Retry-After in seconds when nothing is published; {described(response)}"


async def test_the_409s_retry_after_is_the_configured_one(start_server, peers):
    """The client scenario `not-published` sets it to 7 s, so a player's fixed delay is told from honouring it."""
    server = await start_server(require_publisher=True, not_published_retry_after_s=7)
    response = await server.post_offer((await server.live_input()).play, await peers.offer(peers.viewer()))
    assert (response.status, response.headers.get("Retry-After")) == (409, "7"), described(response)


async def test_published_input_is_playable_with_require_publisher(start_server, peers):
    server = await start_server(require_publisher=True)
    live = await server.live_input()
    await server.session(live.publish, await peers.offer(peers.publisher()))
    response = await server.post_offer(live.play, await peers.offer(peers.viewer()))
    assert response.status == 201, f"WHEP §4.2.8: once published, the input is played (201); {described(response)}"


# -- §4.2.2 counter-offer: an H.264 publication, a VP8-only viewer ---------------------------------


@pytest_asyncio.fixture
async def counter_offer(server, live, peers):
    """The 406 for a VP8-only viewer of an H.264 publication (the control: the publisher got its 201)."""
    await server.session(live.publish, await peers.offer(peers.publisher(video="video/H264")))
    return await server.post_offer(live.play, await peers.offer(peers.viewer(video="video/VP8")))


async def test_refused_offer_gets_406(counter_offer):
    assert counter_offer.status == 406, \
        f"WHEP §4.2.2: an offer the endpoint refuses gets 406 with a counter-offer; {described(counter_offer)}"


async def test_406_is_typed_sdp_with_an_http_date_valid_until(counter_offer):
    content_type = counter_offer.headers.get("Content-Type")
    valid_until = media_type_parameter(content_type, "valid-until")
    assert counter_offer.content_type == SDP and (valid_until is None or http_date(valid_until) is not None), \
        f"WHEP §4.2.2: the 406 is typed {SDP}; valid-until, if given, is an HTTP-date; {described(counter_offer)}"


async def test_406_names_the_session_to_be(counter_offer, live):
    location = counter_offer.headers.get("Location", "")
    assert location.startswith(live.play + "/"), f"WHEP §4.2.2: the 406's Location names the session to be; {described(counter_offer)}"


async def test_counter_offer_is_a_sendonly_offer(counter_offer):
    offered = directions(await counter_offer.text())
    assert offered and set(offered) == {"sendonly"}, f"WHEP §4.2.5: the counter-offer SHOULD be sendonly; directions {offered}"


async def test_counter_offer_is_in_the_live_codec(counter_offer):
    video = [m for m in sdp.SessionDescription.parse(await counter_offer.text()).media if m.kind == "video"]
    names = {c.name.upper() for m in video for c in m.codecs if not c.is_repair}
    assert names == {"H264"}, f"the reference server counter-offers the live stream's codec (H.264); video formats {names}"


async def test_answer_to_the_counter_offer_is_taken_204(server, counter_offer, peers):
    answer = await peers.answer(peers.answerer(), await counter_offer.text())
    response = await server.patch(counter_offer.headers["Location"], answer, content_type=SDP)
    assert response.status == 204, f"WHEP §4.2.2: the PATCH with the player's answer gets 204 No Content; {described(response)}"


async def test_answer_patch_carries_the_session_etag(server, counter_offer, peers):
    answer = await peers.answer(peers.answerer(), await counter_offer.text())
    response = await server.patch(counter_offer.headers["Location"], answer, content_type=SDP)
    assert re.fullmatch(r'"[^"]*"', response.headers.get("ETag", "")), \
        f"WHEP §4.4.1: the session's entity-tag is given once the session exists (on the 204 here); {described(response)}"


async def test_malformed_answer_gets_400_and_the_offer_still_waits(server, counter_offer, peers):
    location = counter_offer.headers["Location"]
    refused = await server.patch(location, "v=0\r\nnot sdp\r\n", content_type=SDP)
    assert refused.status == 400, f"WHEP §4.2.2: a malformed answer gets a 4xx (400 here); {described(refused)}"
    answer = await peers.answer(peers.answerer(), await counter_offer.text())
    response = await server.patch(location, answer, content_type=SDP)
    assert response.status == 204, f"a refused answer leaves the counter-offer open for a good one; {described(response)}"


async def test_counter_offer_can_be_declined_by_delete(server, counter_offer):
    response = await server.request("DELETE", counter_offer.headers["Location"])
    assert response.status == 200, f"WHEP §4.3: the session to be is ended by DELETE on its URL; {described(response)}"


# -- draft-murillo-whep-01 §4.2: the endpoint offers ----------------------------------------------


@pytest_asyncio.fixture
async def server_offer(start_server):
    """The 201 to an empty POST on a draft-murillo-whep-01 endpoint."""
    server = await start_server(profiles.CLOUDFLARE)
    response = await server.post_offer((await server.live_input()).play, "", content_type=None)
    return server, response


async def test_empty_post_gets_201_with_the_server_offer(server_offer):
    _, response = server_offer
    offered = directions(await response.text()) if response.content_type == SDP else []
    assert response.status == 201 and set(offered) == {"sendonly"}, \
        f"draft-murillo-whep-01 §4.2: an empty POST gets 201 with a sendonly offer; {described(response)}"


async def test_server_offer_says_when_it_expires(server_offer):
    _, response = server_offer
    assert http_date(response.headers.get("Expires")) is not None and response.headers.get("Location"), \
        f"draft-murillo-whep-01 §4.2: the 201 carries Location and an Expires HTTP-date for the answer; {described(response)}"


async def test_answer_to_the_server_offer_is_taken(server_offer, peers):
    server, response = server_offer
    answer = await peers.answer(peers.answerer(), await response.text())
    patched = await server.patch(response.headers["Location"], answer, content_type=SDP)
    assert patched.status == 204, f"draft-murillo-whep-01 §4.2: the PATCH with the answer is taken (204); {described(patched)}"
