"""RFC 9725 §4.3 ICE Support: trickle ICE and ICE restart by PATCH, as the reference server implements them.

§4.3.1: the PATCH carries application/trickle-ice-sdpfrag (another type, or a malformed fragment: a 4xx);
a missing entity-tag gets 428, a non-matching one 412; a session supporting only one of trickle and
restart answers the other 422. §4.3.2: a trickle PATCH is answered 204 No Content. §4.3.3: new
ice-ufrag/ice-pwd make a PATCH an ICE restart, answered 200 with a fragment carrying the new
credentials and a new ETag; a restart that cannot be done is refused without ending the session.
A server with no PATCH at all: 405 (RFC 9110 §15.5.6), or 501 where draft-ietf-wish-whip-06 §4.1 names
it (which also has a trickle-only session refuse a restart "405 Not Implemented", sic).
"""

from __future__ import annotations

import pytest
import pytest_asyncio

from whip_whep_conformance.protocol import profiles, sdpfrag

from .inprocess import SDPFRAG, described

pytestmark = pytest.mark.asyncio


def trickle(offer: str) -> str:
    """A trickle fragment for the offer's ICE session: its credentials, its candidates, end-of-candidates."""
    return str(sdpfrag.for_offer(offer, end_of_candidates=True))


def restart(offer: str) -> str:
    """An ICE restart fragment: fresh ice-ufrag/ice-pwd, the offer's candidates."""
    return str(sdpfrag.for_offer(offer, end_of_candidates=True, restart=True))


@pytest_asyncio.fixture
async def session(server, live, publisher_offer):
    return await server.session(live.publish, publisher_offer)


async def test_trickle_is_answered_204(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match=session.etag)
    assert response.status == 204, f"RFC 9725 §4.3.2: a trickle PATCH gets 204 No Content; {described(response)}"


async def test_trickle_204_has_no_body(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match=session.etag)
    assert await response.read() == b"", f"RFC 9110 §15.3.5: a 204 has no content; {described(response)}"


async def test_trickle_204_has_no_etag(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match=session.etag)
    assert response.status == 204 and "ETag" not in response.headers, \
        f"RFC 9725 §4.3.2: a trickle PATCH's 204 MUST NOT include an ETag; {described(response)}"


ODD_CANDIDATES = ["1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
                  "2 1 udp 2122260223 3b7a4d0e-0f6c-4d5b-9a3e-5b6a7c8d9e0f.local 61764 typ host"]


async def test_unsupported_candidates_are_discarded_silently(server, session, publisher_offer):
    body = str(sdpfrag.for_offer(publisher_offer, candidates=ODD_CANDIDATES, end_of_candidates=True))
    response = await server.patch(session.path, body, if_match=session.etag)
    assert response.status == 204, \
        f"RFC 9725 §4.3.2: a TCP or unresolvable (mDNS) candidate is silently discarded, the rest applied (204); {described(response)}"


async def test_trickle_with_wildcard_if_match_is_answered_204(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match="*")
    assert response.status == 204, f'RFC 9110 §13.1.1: If-Match: * matches the current ICE session; {described(response)}'


async def test_trickle_with_a_list_naming_the_etag_is_answered_204(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match=f'"stale", {session.etag}')
    assert response.status == 204, f"RFC 9110 §13.1.1: an If-Match list naming the current entity-tag matches; {described(response)}"


async def test_trickle_with_the_etag_made_weak_gets_412(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match="W/" + session.etag)
    assert response.status == 412, f"RFC 9110 §13.1.1: If-Match compares strongly; a weak tag never matches; {described(response)}"


async def test_trickle_without_if_match_gets_428(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer))
    assert response.status == 428, f"RFC 9725 §4.3.1: a missing entity-tag gets 428 Precondition Required; {described(response)}"


async def test_trickle_with_another_etag_gets_412(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), if_match='"another-ice-session"')
    assert response.status == 412, f"RFC 9725 §4.3.1: a non-matching entity-tag gets 412 Precondition Failed; {described(response)}"


async def test_patch_of_another_type_gets_415_with_accept_patch(server, session, publisher_offer):
    response = await server.patch(session.path, trickle(publisher_offer), content_type="application/sdp", if_match=session.etag)
    assert (response.status, response.headers.get("Accept-Patch")) == (415, SDPFRAG), \
        f"RFC 9725 §4.3.1: a PATCH not typed {SDPFRAG} gets a 4xx (415 naming Accept-Patch, RFC 5789 §2.2); {described(response)}"


async def test_malformed_fragment_gets_400(server, session):
    response = await server.patch(session.path, "this is no fragment\r\n", if_match=session.etag)
    assert response.status == 400, f"RFC 9725 §4.3.1: a malformed fragment gets a 4xx (400 here); {described(response)}"


async def test_malformed_fragment_leaves_the_session(server, session, publisher_offer):
    refused = await server.patch(session.path, "this is no fragment\r\n", if_match=session.etag)
    assert refused.status == 400, f"control: the malformed fragment is refused; {described(refused)}"
    response = await server.patch(session.path, trickle(publisher_offer), if_match=session.etag)
    assert response.status == 204, f"RFC 9725 §4.3.1: a refused PATCH leaves the session as it was; {described(response)}"


async def test_patch_of_an_unknown_session_gets_404(server, live, publisher_offer):
    response = await server.patch(live.publish + "/no-such-session", trickle(publisher_offer), if_match="*")
    assert response.status == 404, f"RFC 9110 §15.5.5: no session at this URL; {described(response)}"


async def test_patch_after_delete_gets_404(server, session, publisher_offer):
    ended = await server.request("DELETE", session.path, headers=server.auth())
    assert ended.status == 200, f"control: DELETE ends the session; {described(ended)}"
    response = await server.patch(session.path, trickle(publisher_offer), if_match=session.etag)
    assert response.status == 404, f"RFC 9725 §4.2: an ended session's URL is gone, for PATCH too; {described(response)}"


async def test_restart_with_another_etag_gets_412(server, session, publisher_offer):
    response = await server.patch(session.path, restart(publisher_offer), if_match='"another-ice-session"')
    assert response.status == 412, f"RFC 9725 §4.3.1: a restart with a non-matching entity-tag gets 412; {described(response)}"


async def test_refused_restart_keeps_the_session(start_server, publisher_offer):
    server = await start_server(ice_restart=False)
    live = await server.live_input()
    session = await server.session(live.publish, publisher_offer)
    refused = await server.patch(session.path, restart(publisher_offer), if_match="*")
    assert refused.status >= 400, f"control: a server without ICE restarts refuses one; {described(refused)}"
    response = await server.patch(session.path, trickle(publisher_offer), if_match=session.etag)
    assert response.status == 204, \
        f"RFC 9725 §4.3.3: a restart that cannot be done MUST NOT end the session ({refused.status} first); {described(response)}"


async def test_restart_before_ice_connects_is_answered_200(server, session, publisher_offer):
    """A client that applies the 201's STUN/TURN servers restarts ICE at once, before its first checks
    have succeeded (RFC 9725 §4.6 NOTE): the restart is taken like any other."""
    response = await server.patch(session.path, restart(publisher_offer), if_match="*")
    assert response.status == 200, f"RFC 9725 §4.3.3: a restart before ICE connected is a restart too; {described(response)}"


# -- a connected session restarts ICE --------------------------------------------------------------


@pytest_asyncio.fixture
async def restarted(server, live, peers):
    """A publisher connected over loopback, then restarted: (offer, session, the restart's response)."""
    pc = peers.publisher()
    offer = await peers.offer(pc)
    session = await server.session(live.publish, offer)
    state = await peers.connect(pc, session.answer)
    assert state == "connected", f"arranging an ICE restart: the publisher did not connect (state {state})"
    response = await server.patch(session.path, restart(offer), if_match="*")
    return offer, session, response


async def test_restart_is_answered_200_with_a_fragment(restarted):
    _, _, response = restarted
    assert (response.status, response.content_type) == (200, SDPFRAG), \
        f"RFC 9725 §4.3.3: a restart is answered 200 OK typed {SDPFRAG}; {described(response)}"


async def test_restart_answer_has_new_ice_credentials(restarted):
    _, session, response = restarted
    old = sdpfrag.for_description(session.answer).credentials()
    new = sdpfrag.parse(await response.text()).credentials()
    assert None not in new and new != old, \
        f"RFC 9725 §4.3.3: the 200 carries the new ice-ufrag and ice-pwd; answer had {old}, restart {new}"


async def test_restart_answer_has_candidates(restarted):
    _, _, response = restarted
    candidates = [c for m in sdpfrag.parse(await response.text()).media for c in m.candidates]
    assert candidates, f"RFC 9725 §4.3.3: the 200 carries the new set of candidates; {described(response, await response.text())}"


async def test_restart_gives_a_new_etag(restarted):
    _, session, response = restarted
    etag = response.headers.get("ETag")
    assert etag and etag != session.etag, \
        f"RFC 9725 §4.3.3: the 200 carries the new ICE session's entity-tag; 201 had {session.etag}, 200 has {etag!r}"


async def test_old_etag_is_stale_after_restart(server, restarted):
    offer, session, response = restarted
    assert response.status == 200, f"control: the restart succeeded; {described(response)}"
    stale = await server.patch(session.path, trickle(offer), if_match=session.etag)
    assert stale.status == 412, f"RFC 9725 §4.3.1: the pre-restart entity-tag no longer matches; {described(stale)}"


# -- servers that support less ---------------------------------------------------------------------


async def _publishing(start_server, peers, *args, **options):
    """Arrange: a server started with `options`, a publisher's offer, and the session it opened."""
    server = await start_server(*args, **options)
    offer = await peers.offer(peers.publisher())
    session = await server.session((await server.live_input()).publish, offer)
    return server, offer, session


@pytest.mark.parametrize("pair, status, rule", [(profiles.STANDARD, 422, "RFC 9725 §4.3.1"),
                                               (profiles.CLOUDFLARE, 405, "draft-ietf-wish-whip-06 §4.1")],
                         ids=["rfc9725", "whip-06"])
async def test_trickle_only_session_refuses_restart(start_server, peers, pair, status, rule):
    server, offer, session = await _publishing(start_server, peers, pair, ice_restart=False)
    response = await server.patch(session.path, restart(offer), if_match="*")
    assert response.status == status, \
        f"{rule}: a session doing trickle but not restart refuses the restart {status}; {described(response)}"


async def test_trickle_only_session_still_takes_trickle(start_server, peers):
    server, offer, session = await _publishing(start_server, peers, ice_restart=False)
    response = await server.patch(session.path, trickle(offer), if_match=session.etag)
    assert response.status == 204, f"RFC 9725 §4.3.2: restart off, trickle still gets 204; {described(response)}"


@pytest.mark.parametrize("pair, status, rule", [(profiles.STANDARD, 405, "RFC 9110 §15.5.6 (RFC 9725 names no status)"),
                                               (profiles.CLOUDFLARE, 501, "draft-ietf-wish-whip-06 §4.1")],
                         ids=["rfc9725", "whip-06"])
async def test_server_without_patch_refuses_it(start_server, peers, pair, status, rule):
    server, offer, session = await _publishing(start_server, peers, pair, patch=False)
    response = await server.patch(session.path, trickle(offer), if_match=session.etag)
    assert response.status == status, \
        f"{rule}: a server supporting PATCH for no purpose answers {status}; {described(response)}"


async def test_server_without_patch_leaves_it_out_of_allow(start_server, peers):
    server, offer, session = await _publishing(start_server, peers, patch=False)
    response = await server.patch(session.path, trickle(offer), if_match=session.etag)
    allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert response.status == 405 and "PATCH" not in allowed and "DELETE" in allowed, \
        f"RFC 9110 §15.5.6: the 405's Allow lists the methods supported, PATCH not among them; {described(response)}"


async def test_server_without_patch_sends_no_accept_patch(start_server, peers):
    server = await start_server(patch=False)
    response = await server.post_offer((await server.live_input()).publish, await peers.offer(peers.publisher()))
    assert response.status == 201 and "Accept-Patch" not in response.headers, \
        f"RFC 5789 §3.1: no Accept-Patch where PATCH is not supported; {described(response)}"
