"""RFC 9725 §4.2 Ingest Session Setup, as the reference server implements it.

A POST of an SDP offer (application/sdp) to the WHIP endpoint gets "201 Created" typed application/sdp,
the answer as body, a Location naming the session, and (§4.3.1) a strong ETag for its ICE session.
An offer of another type, or malformed SDP, gets a 4xx; errors explain themselves as RFC 9457 problem
details (§4.1). DELETE on the session URL ends it (§4.2): afterwards the URL is gone (404).
"""

from __future__ import annotations

import json
import re

import pytest

from whip_whep_conformance.protocol import sdp

from .inprocess import PROBLEM, SDP, SDPFRAG, described

pytestmark = pytest.mark.asyncio


async def test_offer_is_answered_201_created(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer)
    assert response.status == 201, f"RFC 9725 §4.2: a usable offer gets 201 Created; {described(response)}"


async def test_answer_is_typed_application_sdp(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer)
    assert response.content_type == SDP, f"RFC 9725 §4.2: the 201 is typed {SDP}; {described(response)}"


async def test_answer_is_an_sdp_answer_with_recvonly_sections(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    directions = [m.direction for m in sdp.SessionDescription.parse(session.answer).media]
    assert directions == ["recvonly", "recvonly"], f"RFC 9725 §4.2: the WHIP endpoint answers recvonly; directions {directions}"


async def test_location_names_a_session_under_the_endpoint(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer)
    location = response.headers.get("Location", "")
    assert location.startswith(live.publish + "/"), f"RFC 9725 §4.2: Location points to the new session; {described(response)}"


async def test_etag_is_a_strong_entity_tag(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer)
    etag = response.headers.get("ETag", "")
    assert re.fullmatch(r'"[\x21\x23-\x7e]*"', etag), f"RFC 9725 §4.3.1: the 201 carries a strong ETag; {described(response)}"


async def test_201_announces_patch_for_trickle_and_restart(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer)
    assert response.headers.get("Accept-Patch") == SDPFRAG, \
        f"RFC 5789 §3.1: a resource taking PATCH (RFC 9725 §4.3.1) says so in Accept-Patch; {described(response)}"


async def test_two_sessions_get_distinct_locations(server, peers):
    first, second = await server.live_input(), await server.live_input()
    one = await server.session(first.publish, await peers.offer(peers.publisher()))
    two = await server.session(second.publish, await peers.offer(peers.publisher()))
    assert one.path != two.path, f"RFC 9725 §4.2: each session has its own URL; both got {one.path}"


async def test_sendrecv_offer_is_answered_201(server, live, peers):
    response = await server.post_offer(live.publish, await peers.offer(peers.publisher(direction="sendrecv")))
    assert response.status == 201, f"RFC 9725 §4.2: a WHIP client MAY offer sendrecv; {described(response)}"


async def test_media_type_is_matched_case_insensitively_and_without_parameters(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer, content_type="Application/SDP; charset=utf-8")
    assert response.status == 201, \
        f"RFC 9110 §8.3.1: type and subtype are case-insensitive, parameters do not change the type; {described(response)}"


async def test_offer_typed_otherwise_gets_415(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer, content_type="text/plain")
    assert response.status == 415, \
        f"RFC 9725 §4.2: a POST not typed {SDP} gets a 4xx (415 Unsupported Media Type here); {described(response)}"


async def test_untyped_offer_gets_415(server, live, publisher_offer):
    response = await server.post_offer(live.publish, publisher_offer, content_type=None)
    assert response.status == 415, f"RFC 9725 §4.2: an untyped POST gets a 4xx (415 here); {described(response)}"


async def test_malformed_sdp_gets_400(server, live):
    response = await server.post_offer(live.publish, "v=0\r\nthis is not SDP\r\n")
    assert response.status == 400, f"RFC 9725 §4.2: malformed SDP gets a 4xx (400 here); {described(response, await response.text())}"


async def test_error_is_explained_as_problem_details(server, live):
    response = await server.post_offer(live.publish, "v=0\r\nthis is not SDP\r\n")
    document = json.loads(await response.text()) if response.content_type == PROBLEM else {}
    assert document.get("status") == response.status, \
        f"RFC 9725 §4.1 / RFC 9457: the 4xx carries problem details with its status; {described(response, await response.text())}"


async def test_recvonly_offer_is_refused_400(server, live, peers):
    offer = await peers.offer(peers.viewer())
    response = await server.post_offer(live.publish, offer)
    assert response.status == 400, f"RFC 9725 §4.2: a WHIP offer MUST NOT be recvonly (refused 400 here); {described(response)}"


async def test_unknown_endpoint_gets_404(server, publisher_offer):
    response = await server.post_offer("/no-such-secret/webRTC/publish", publisher_offer)
    assert response.status == 404, f"RFC 9110 §15.5.5: no endpoint at this URL; {described(response)}"


async def test_second_publisher_on_an_input_gets_409(server, live, peers):
    await server.session(live.publish, await peers.offer(peers.publisher()))
    response = await server.post_offer(live.publish, await peers.offer(peers.publisher()))
    assert response.status == 409, f"one publisher per live input (the brief): a second gets 409 Conflict; {described(response)}"


async def test_delete_ends_the_session_200(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    response = await server.request("DELETE", session.path, headers=server.auth())
    assert response.status == 200, f"RFC 9725 §4.2: DELETE on the session URL ends it; {described(response)}"


async def test_deleted_session_is_gone_404(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    first = await server.request("DELETE", session.path, headers=server.auth())
    assert first.status == 200, f"control: the first DELETE ends the session; {described(first)}"
    again = await server.request("DELETE", session.path, headers=server.auth())
    assert again.status == 404, f"RFC 9725 §4.2: an ended session's URL no longer exists; {described(again)}"


async def test_delete_ignores_a_stale_if_match(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    response = await server.request("DELETE", session.path, headers={**server.auth(), "If-Match": '"not-the-etag"'})
    assert response.status == 200, \
        f"RFC 9725 §4.3.1: sessions MUST ignore entity-tags where no ICE session is matched, as on DELETE; {described(response)}"


async def test_publish_url_takes_a_new_publisher_after_delete(server, live, peers):
    session = await server.session(live.publish, await peers.offer(peers.publisher()))
    ended = await server.request("DELETE", session.path, headers=server.auth())
    assert ended.status == 200, f"control: DELETE ends the first session; {described(ended)}"
    response = await server.post_offer(live.publish, await peers.offer(peers.publisher()))
    assert response.status == 201, f"the input is free again once its publisher's session ended; {described(response)}"
