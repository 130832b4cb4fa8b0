"""The fault layer, checked fast: the app started with one named fault shows that fault's distortion.

Each test here mirrors a rule the clean server keeps in this folder's other modules (named in the
docstring), so a fault is proven both ways in process: the rule holds without it and breaks with it.
One fault per kind of route: the POST's headers and its answer, trickle and restart PATCHes, method
handling, DELETE, OPTIONS, authentication, the WHEP counter-offer and the live inputs API.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import sdp, sdpfrag

from .inprocess import ACCOUNT, TOKEN, described

pytestmark = pytest.mark.asyncio


async def test_no_location_leaves_location_out_of_the_201(start_server, publisher_offer):
    """Mirrors test_location_names_a_session_under_the_endpoint (RFC 9725 §4.2)."""
    server = await start_server(faults=("no-location",))
    response = await server.post_offer((await server.live_input()).publish, publisher_offer)
    assert response.status == 201 and "Location" not in response.headers, \
        f"fault no-location: the 201 comes without Location; {described(response)}"


async def test_answer_wrong_direction_answers_sendrecv(start_server, publisher_offer):
    """Mirrors test_answer_is_an_sdp_answer_with_recvonly_sections (RFC 9725 §4.2)."""
    server = await start_server(faults=("answer-wrong-direction",))
    session = await server.session((await server.live_input()).publish, publisher_offer)
    directions = {m.direction for m in sdp.SessionDescription.parse(session.answer).media}
    assert directions == {"sendrecv"}, f"fault answer-wrong-direction: the answer says sendrecv; directions {directions}"


async def test_trickle_no_428_applies_a_patch_without_if_match(start_server, publisher_offer):
    """Mirrors test_trickle_without_if_match_gets_428 (RFC 9725 §4.3.1)."""
    server = await start_server(faults=("trickle-no-428",))
    session = await server.session((await server.live_input()).publish, publisher_offer)
    response = await server.patch(session.path, str(sdpfrag.for_offer(publisher_offer, end_of_candidates=True)))
    assert response.status == 204, f"fault trickle-no-428: a PATCH without If-Match is applied (204); {described(response)}"


async def test_restart_keeps_etag_answers_the_restart_with_the_old_etag(start_server, peers):
    """Mirrors test_restart_gives_a_new_etag (RFC 9725 §4.3.3): the restart route, on a connected session."""
    server = await start_server(faults=("restart-keeps-etag",))
    pc = peers.publisher()
    offer = await peers.offer(pc)
    session = await server.session((await server.live_input()).publish, offer)
    state = await peers.connect(pc, session.answer)
    assert state == "connected", f"arranging an ICE restart: the publisher did not connect (state {state})"
    response = await server.patch(session.path, str(sdpfrag.for_offer(offer, end_of_candidates=True, restart=True)), if_match="*")
    assert (response.status, response.headers.get("ETag")) == (200, session.etag), \
        f"fault restart-keeps-etag: the restart's 200 repeats the 201's ETag {session.etag}; {described(response)}"


async def test_unknown_method_400_refuses_unknown_methods_400(start_server):
    """Mirrors test_unknown_method_gets_501 (RFC 9110 §15.6.2)."""
    server = await start_server(faults=("unknown-method-400",))
    response = await server.request("WHIPCHECK", (await server.live_input()).publish)
    assert response.status == 400, f"fault unknown-method-400: a method nobody defined gets 400; {described(response)}"


async def test_delete_keeps_session_answers_200_twice(start_server, publisher_offer):
    """Mirrors test_deleted_session_is_gone_404 (RFC 9725 §4.2)."""
    server = await start_server(faults=("delete-keeps-session",))
    session = await server.session((await server.live_input()).publish, publisher_offer)
    first = await server.request("DELETE", session.path)
    again = await server.request("DELETE", session.path)
    assert (first.status, again.status) == (200, 200), \
        f"fault delete-keeps-session: the session survives its DELETE; second {described(again)}"


async def test_no_accept_post_leaves_accept_post_out_of_options(start_server):
    """Mirrors test_options_carries_accept_post_sdp (RFC 9725 §4.2)."""
    server = await start_server(faults=("no-accept-post",))
    response = await server.request("OPTIONS", (await server.live_input()).publish)
    assert response.status == 200 and "Accept-Post" not in response.headers, \
        f"fault no-accept-post: OPTIONS answers 200 without Accept-Post; {described(response)}"


async def test_basic_challenge_challenges_with_basic(start_server, publisher_offer):
    """Mirrors test_offer_without_a_token_gets_401_with_a_bearer_challenge (RFC 9725 §4.7.1)."""
    server = await start_server(faults=("basic-challenge",), token=TOKEN)
    response = await server.post_offer((await server.live_input()).publish, publisher_offer, authorized=False)
    assert response.status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Basic"), \
        f"fault basic-challenge: the 401 challenges Basic; {described(response)}"


async def test_counter_offer_no_location_leaves_location_out_of_the_406(start_server, peers):
    """Mirrors test_406_names_the_session_to_be (draft-ietf-wish-whep-03 §4.2.2)."""
    server = await start_server(faults=("counter-offer-no-location",))
    live = await server.live_input()
    await server.session(live.publish, await peers.offer(peers.publisher(video="video/H264")))
    response = await server.post_offer(live.play, await peers.offer(peers.viewer(video="video/VP8")))
    assert response.status == 406 and "Location" not in response.headers, \
        f"fault counter-offer-no-location: the 406 comes without Location; {described(response)}"


async def test_api_no_envelope_answers_the_bare_input(start_server):
    """Mirrors test_create_answers_201_in_the_envelope (the Cloudflare-shaped API)."""
    server = await start_server(faults=("api-no-envelope",))
    response = await server.request("POST", f"/client/v4/accounts/{ACCOUNT}/stream/live_inputs", json={})
    body = await response.json()
    assert response.status == 201 and "success" not in body and "uid" in body, \
        f"fault api-no-envelope: the input comes without the v4 envelope; {described(response, await response.text())}"
