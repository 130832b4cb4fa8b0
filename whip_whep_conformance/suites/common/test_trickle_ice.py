"""Trickle ICE by PATCH — RFC 9725 §4.3.1–§4.3.3, draft-ietf-wish-whep-03 §4.4.1–§4.4.3,
draft-murillo-whep-01 §4.4: application/trickle-ice-sdpfrag bodies, entity-tags, error codes.

Each case first sends one valid trickle PATCH with the session's own entity-tag: the control. Only a
2xx to it shows the session takes trickle PATCHes; any other answer (405/422/501, and equally 412 or a
5xx) makes the other cases not applicable, since a negative check (a stale tag gets 412, a wrong type
415, ...) proves nothing against a session that refuses every PATCH. What the control should have been
answered is graded once, by test_trickle_patch_is_answered_204.
"""

import asyncio

import pytest

from aiortc import RTCSessionDescription

from whip_whep_conformance.harness.case import NO_COUNTER_OFFER_TAG, Played
from whip_whep_conformance.harness.judgments import sdp_syntax
from whip_whep_conformance.protocol import headers, profiles, sdp, sdpfrag
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
REFUSALS = (405, 422, 501)  # the statuses the revisions name for "this kind of PATCH is not supported"


def trickle_taken(status: int) -> bool:
    """Whether a trickle PATCH with the session's own entity-tag was taken: a 2xx, nothing else."""
    return 200 <= status < 300


async def _session(case, protocol):
    """A session and the description that carries our ICE credentials and candidates: the offer, or
    under draft-ietf-wish-whep-03 the player's answer to a 406 counter-offer (§4.2.2), the flow the
    profile allows; its Location is the session URL and `posted.etag` the If-Match baseline
    (whip_whep_conformance.harness.case.Played explains where a counter-offer session's tag comes from)."""
    if protocol == "whip":
        _, pc, whip_posted = await case.publish()
        posted = Played.of(whip_posted)  # a session of the one flow WHIP has: the 201's tag is its baseline
    else:
        pc, posted = await case.play(await case.live_input(), counter_offer_ok=True)
    case.session_url(posted, protocol)  # a session URL, or the case ends naming the rule graded elsewhere
    return pc.localDescription.sdp, posted


def _baseline(posted) -> str:
    """The If-Match that names the session's current ICE session: its entity-tag, or * when none was given."""
    return posted.etag or "*"


def _tag_named(posted) -> str:
    """How messages name the If-Match baseline ("the 201's entity-tag "x"", ...)."""
    if not posted.etag:
        return "If-Match: * (no ETag was given)"
    source = posted.etag_source
    return f"{source} entity-tag {posted.etag}"


def _entity_tag_or_not_applicable(case, posted) -> str | None:
    """The session's entity-tag for a case about the tag itself; a counter-offer session given none
    is Not applicable there (-03 defines no tag on that flow: see whip_whep_conformance.harness.case.Played)."""
    if not posted.etag and posted.counter_offer:
        case.not_applicable(NO_COUNTER_OFFER_TAG)
    return posted.etag


async def _trickle(case, protocol):
    """Arrange a session that accepts trickle PATCHes, or make the case not applicable."""
    offer, posted = await _session(case, protocol)
    fragment = sdpfrag.for_offer(offer, end_of_candidates=False)
    response = await case.signalling.patch(posted.location, str(fragment), if_match=_baseline(posted))
    if not trickle_taken(response.status_code):
        kind = "does not support trickle ICE" if response.status_code in REFUSALS else "took no trickle PATCH"
        case.not_applicable(f"the session {kind}: the control PATCH with {_tag_named(posted)} "
                            f"answered {response.status_code} (graded by test_trickle_patch_is_answered_204), so "
                            "no refusal by this session can be told from its refusing everything")
    return offer, posted, response


@pytest.mark.requirement("WHIP-4.3-1", "WHEPL-4.4-1", "WHEP01-4.4-5", "WHIP-4.3.2-11", "WHIP-4.3.2-12",
                         "WHEPL-4.4.2-10", "WHEP01-4.4-16", "WHEPL-4.4.2-11")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_trickle_patch_is_answered_204(case, protocol):
    """PATCH our candidates with the current ETag: 204 No Content, no body, no ETag."""
    offer, posted = await _session(case, protocol)
    fragment = sdpfrag.for_offer(offer, end_of_candidates=True)
    response = await case.signalling.patch(posted.location, str(fragment), if_match=_baseline(posted))
    status = response.status_code
    # Three kinds of answer. A 2xx: trickle is supported (graded on, below). A refusal the revisions name
    # for an unsupported PATCH kind (405/422/501): trickle is not supported, a SHOULD (RECOMMENDED) missed.
    # Anything else — 412 to the session's own tag, 400, a 5xx — is neither support nor its refusal: the
    # session failed the rule that a PATCH adding candidates is answered 204 (a MUST, graded here once).
    refused = status in REFUSALS
    if trickle_taken(status) or refused:
        ids = rules.ids("trickle-supported", protocol)
        case.expect(not refused, *ids, message=f"trickle ICE is not supported: PATCH answered {status}")
    if protocol == "whep" and case.target.whep_profile == profiles.MURILLO_01:
        case.capability(trickle_taken(status), "WHEP01-4.4-5", f"trickle PATCH answered {status}")
    if refused:
        case.not_applicable("trickle ICE is not supported")
    no_content = rules.ids("trickle-204-no-content", protocol)
    case.expect(response.status_code == 204 and not response.content, *no_content,
                message=f"a trickle PATCH of our candidates with {_tag_named(posted)} answered {response.status_code} "
                        f"with {len(response.content)} bytes")
    no_etag = rules.ids("trickle-204-no-etag", protocol)
    case.expect("ETag" not in response.headers, *no_etag, message=f"the 204 carries ETag {response.headers.get('ETag')}")


@pytest.mark.requirement("HTTP-10")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_204_ends_with_its_header_section(case, protocol):
    """Pipeline a trickle PATCH and an OPTIONS on one connection: the 204's header section is followed
    directly by the OPTIONS' status line, with no content between."""
    offer, posted, _ = await _trickle(case, protocol)
    reply = await case.signalling.patch_pipelined(posted.location, str(sdpfrag.for_offer(offer)), _baseline(posted))
    if reply.status != 204:
        case.not_applicable(f"the pipelined trickle PATCH got {reply.status}, not 204")
    case.expect(not reply.between, "HTTP-10",
                message=f"{len(reply.between)} bytes followed the 204's header section: {reply.between[:60]!r}")


@pytest.mark.requirement("WHIP-4.3.1-3", "WHEPL-4.4.1-2", "HTTP-6")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("content_type", ["application/sdp", "text/plain", None])
async def test_patch_of_another_media_type_is_refused(case, protocol, content_type):
    """PATCH a valid fragment typed application/sdp, text/plain or untyped: a 4xx."""
    offer, posted, _ = await _trickle(case, protocol)
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match=_baseline(posted),
                                           content_type=content_type)
    case.expect(400 <= response.status_code < 500, *rules.ids("patch-wrong-type-4xx", protocol),
                message=f"a fragment typed {content_type or '(none)'} got {response.status_code}")
    _grade_patch_error(case, response, _codes_for_type(case, protocol, content_type), f"a fragment typed {content_type or '(none)'}")
    accepted = headers.split_list(response.headers.get("Accept-Patch"))
    case.expect(response.status_code != 415 or headers.SDPFRAG in accepted, "HTTP-6",
                message=f"the {response.status_code} to a PATCH of another type has Accept-Patch "
                        f"{response.headers.get('Accept-Patch')!r}, which does not name {headers.SDPFRAG}")


def _codes_for_type(case, protocol: str, content_type: str | None) -> tuple[int, ...]:
    """RFC 5789 §2.2's code(s) for a PATCH typed `content_type` on a live session.

    On WHEP, application/sdp is a patch type a session URL takes (draft-ietf-wish-whep-03 §4.2.2: the
    player's answer to a counter-offer; draft-murillo-whep-01 §4.2: its answer to a server offer), so on a
    session with no offer pending it is not an unsupported type (415) but a supported one that cannot be
    applied now: 422 ("incapable of processing") or 409 ("conflicting state"); 415 is not wrong either
    (the server may take the type only while an offer waits)."""
    if protocol == "whep" and content_type == headers.SDP:
        return (415, 422, 409)
    return (415,)


def _grade_patch_error(case, response, preferred: int | tuple[int, ...], what: str) -> None:
    """RFC 5789 §2.2 names the code for each refused patch document; WHIP/WHEP ask only for a 4xx."""
    codes = preferred if isinstance(preferred, tuple) else (preferred,)
    case.expect(response.status_code in codes, "HTTP-6",
                message=f"{what} got {response.status_code}, not {' or '.join(map(str, codes))} as RFC 5789 §2.2 names")


MALFORMED = {
    "garbage": "this is not SDP",
    "short-candidate": "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 udp\r\n",
    "non-numeric-port": "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 192.0.2.1 port typ host\r\n",
    "ufrag-without-pwd": "a=ice-ufrag:abcd\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n",
}


@pytest.mark.requirement("WHIP-4.3.1-4", "WHEPL-4.4.1-2", "HTTP-6")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", list(MALFORMED))
async def test_malformed_fragment_is_refused(case, protocol, kind):
    """PATCH a malformed trickle-ice-sdpfrag with the right type and If-Match: a 4xx."""
    _, posted, _ = await _trickle(case, protocol)
    response = await case.signalling.patch(posted.location, MALFORMED[kind], if_match=_baseline(posted))
    case.expect(400 <= response.status_code < 500, *rules.ids("patch-malformed-4xx", protocol), message=f"a {kind} fragment got {response.status_code}")
    _grade_patch_error(case, response, 400, f"a {kind} fragment")


@pytest.mark.requirement("WHIP-4.3.1-11", "WHEPL-4.4.1-10", "WHEP01-4.4-14")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_stale_entity_tag_gets_412(case, protocol):
    """PATCH a fragment with If-Match naming a tag the session never had: 412 Precondition Failed."""
    offer, posted, _ = await _trickle(case, protocol)
    _entity_tag_or_not_applicable(case, posted)
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match='"stale-tag"')
    ids = rules.ids("patch-stale-if-match-412", protocol)
    case.expect(response.status_code == 412, *ids, message=f"a PATCH with a stale If-Match got {response.status_code}")


@pytest.mark.requirement("HTTP-3")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_wildcard_if_match_passes(case, protocol):
    """PATCH a fragment with If-Match: * (the session exists): the condition holds, 204."""
    offer, posted, _ = await _trickle(case, protocol)
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match="*")
    case.expect(response.status_code == 204, "HTTP-3", message=f"a trickle PATCH with If-Match: * got {response.status_code}")


@pytest.mark.requirement("WHIP-4.3.1-11", "WHEPL-4.4.1-10")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_missing_if_match_gets_428(case, protocol):
    """PATCH a fragment without If-Match: 428 Precondition Required."""
    offer, posted, _ = await _trickle(case, protocol)
    _entity_tag_or_not_applicable(case, posted)  # a session that gave no tag leaves a player nothing to send
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match=None)
    if protocol == "whip" and case.target.whip_profile == profiles.WHIP_06:
        case.info("WHIP-4.3.1-11", f"draft-ietf-wish-whip-06 defines no 428; a PATCH without If-Match got {response.status_code}")
        return
    case.expect(response.status_code == 428, *rules.ids("patch-without-if-match-428", protocol), message=f"a PATCH without If-Match got {response.status_code}")


@pytest.mark.requirement("WHIP-4.3.2-13", "WHEPL-4.4.2-12", "WHEP01-4.4-17")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unusable_candidates_are_dropped_silently(case, protocol):
    """PATCH TCP, mDNS and unresolvable-host candidates beside a usable one: 204."""
    offer, posted, _ = await _trickle(case, protocol)
    odd = [
        "2 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active",
        "3 1 udp 2122260223 0b1e5d4c-7d0e-4a8f-9c3b-2f1d7a6e5c4b.local 54321 typ host",
        "4 1 udp 2122260223 host.example.invalid 54322 typ host",
        "5 1 udp 2122260223 192.0.2.11 54323 typ host",
    ]
    fragment = sdpfrag.for_offer(offer, candidates=odd)
    response = await case.signalling.patch(posted.location, str(fragment), if_match=_baseline(posted))
    ids = rules.ids("unusable-candidates-ignored", protocol)
    case.expect(response.status_code == 204, *ids,
                message=f"a fragment with TCP/mDNS/unresolvable candidates got {response.status_code}")


@pytest.mark.requirement("WHIP-4.3.3-4", "WHEPL-4.4.3-4")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_new_credentials_are_a_restart_request(case, protocol):
    """PATCH a fragment with fresh ice-ufrag/ice-pwd and If-Match: *: a restart (200) or a refusal, never 204."""
    offer, posted, _ = await _trickle(case, protocol)
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer, restart=True)), if_match="*")
    req = rules.in_force("restart-not-204", protocol, case.target.whip_profile, case.target.whep_profile)
    case.expect(response.status_code != 204, req,
                message="new ICE credentials were answered 204, as if they were a trickle (RFC 8840's discard rule)")
    if response.status_code not in (200, 204):
        case.info(req, f"ICE restart refused with {response.status_code}")


@pytest.mark.requirement("WHIP-4.3.2-8", "WHEPL-4.4.2-7")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.viewer
async def test_trickled_candidates_carry_media(case, protocol):
    """Offer no candidates, PATCH them all, start no ICE checks of our own: the session connects and media is decoded.

    Only the server's checks toward the trickled candidates can connect this peer (it answers
    checks but sends none unprompted), so a server that answers 204 and drops the candidates fails.
    """
    if protocol == "whip":
        urls = await case.live_input()
        pc = case.codec_peer("whip", ["vp8"])
        url = urls.whip_url
    else:
        urls = await case.live_stream()  # a WHEP-only run plays what is live at its endpoint
        the_player = case.new_player()
        pc, url = the_player.pc, case.whep_url(urls)
    offer = await peer.local_offer(pc)
    peer.answer_only_ice(pc)
    posted = await case.signalling.post_offer(url, sdp.without_candidates(offer))
    counter_offer = protocol == "whep" and case.is_counter_offer(posted)
    if not counter_offer:
        case.arranged(posted, protocol, "a zero-candidate session")
    case.session_url(posted, protocol)
    if _ice_lite(posted.body):
        case.not_applicable("the media server is ICE-lite: it sends no checks, so trickled candidates cannot be told apart")
    if counter_offer:
        # draft-ietf-wish-whep-03 §4.2.2: the endpoint offers, so the player's candidates are its answer's;
        # it answers with none (and starts no checks), then trickles them, as with an offer of none.
        await the_player.close()
        posted = Played.of(posted)
        the_player = await case.follow_counter_offer(posted, trickle_only=True)
        pc, offer = the_player.pc, the_player.pc.localDescription.sdp
    else:
        await pc.setRemoteDescription(RTCSessionDescription(posted.body, "answer"))
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer, end_of_candidates=True)),
                                           if_match=_baseline(posted))
    if not trickle_taken(response.status_code):
        case.not_applicable(f"the session took no trickle PATCH (answered {response.status_code}; graded by "
                            "test_trickle_patch_is_answered_204)")
    state = await peer.wait_connected(pc, case.target.timeout_s)
    req = rules.in_force("trickled-candidates-connect", protocol, case.target.whip_profile, case.target.whep_profile)
    case.expect(state == "connected", req,
                message=f"with its candidates sent only by PATCH ({response.status_code}), the session's ICE ended "
                        f"{state!r}: the server did not check the trickled candidates")
    if protocol == "whip":
        the_player, _ = await case.start_player(urls)
    decoded = await the_player.wait_frames("video", 15, case.target.timeout_s)
    case.expect(decoded, req, message=f"connected by trickled candidates, the viewer decoded "
                                      f"{the_player.streams['video'].frames} video frames in {case.target.timeout_s:g} s")


def _ice_lite(description: str) -> bool:
    try:
        return sdp_syntax.parse(description).ice_lite
    except sdp.SdpSyntaxError:
        return False  # not ours to judge here: applying it fails with the reason


@pytest.mark.requirement("WHEP01-4.4-6")
async def test_trickle_session_advertises_accept_patch(case):
    """A WHEP session that takes a trickle PATCH announced it on its 201: Accept-Patch: application/trickle-ice-sdpfrag."""
    _, posted, _ = await _trickle(case, "whep")
    accepted = headers.split_list(posted.response.headers.get("Accept-Patch"))
    case.expect(headers.SDPFRAG in accepted, "WHEP01-4.4-6",
                message=f"the 201 of a session that takes trickle PATCHes has Accept-Patch {posted.response.headers.get('Accept-Patch')!r}")


@pytest.mark.requirement("WHIP-D-7", "WHIP-D-8")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_patch_on_an_ended_session_fails(case, protocol):
    """DELETE the session, then PATCH it with If-Match: *: no 2xx (nothing is left to match), and a 4xx
    (RFC 5789 §2.2 names 404 for a missing resource). The control: the same session took a trickle PATCH
    while it existed, or a refused PATCH afterwards would prove nothing."""
    offer, posted, _ = await _trickle(case, protocol)
    await case.signalling.delete(posted.location)
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match="*")
    status = response.status_code
    case.expect(not 200 <= status < 300, "WHIP-D-7", message=f"a PATCH with If-Match: * on the deleted session answered {status}")
    case.expect(400 <= status < 500, "WHIP-D-8", message=f"a PATCH of the deleted session answered {status}, not a 4xx")
    if status not in (404, 410, 412):
        case.info("WHIP-D-8", f"a PATCH of the deleted session got {status}; RFC 5789 §2.2 names 404")


@pytest.mark.requirement("WHIP-4.3.2-10", "WHEPL-4.4.2-9")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_trickle_sessions_use_entity_tags(case, protocol):
    """A session that takes trickle PATCHes has an ETag on its 201 and refuses a PATCH whose If-Match names another tag."""
    offer, posted, _ = await _trickle(case, protocol)
    _entity_tag_or_not_applicable(case, posted)
    stale = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match='"not-this-session"')
    ids = rules.ids("patch-foreign-if-match-412", protocol)
    source = posted.etag_source
    case.expect(bool(posted.etag) and stale.status_code == 412, *ids,
                message=f"{source} ETag is {posted.etag!r}; a PATCH with another tag answered {stale.status_code}")


@pytest.mark.requirement("WHIP-4.3.1-6")
async def test_concurrent_patches_are_each_answered(case):
    """Send two trickle PATCHes for one session at once (a client may): both are answered 204."""
    offer, posted, _ = await _trickle(case, "whip")
    halves = [[f"{n} 1 udp 2122260223 192.0.2.{n} {54300 + n} typ host"] for n in (31, 32)]  # new to the session
    first, second = await asyncio.gather(*(
        case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer, candidates=half)), if_match=_baseline(posted))
        for half in halves))
    case.capability(first.status_code == second.status_code == 204, "WHIP-4.3.1-6",
                    f"two concurrent trickle PATCHes got {first.status_code} and {second.status_code}")


@pytest.mark.requirement("WHIP-4.3.2-9")
async def test_candidates_may_be_repeated_or_left_out(case):
    """PATCH the same candidates twice, then a fragment with only a new one: each is answered 204."""
    offer, posted, first = await _trickle(case, "whip")
    again = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match=_baseline(posted))
    fresh = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer, candidates=[NEW_CANDIDATE])),
                                        if_match=_baseline(posted))
    statuses = (first.status_code, again.status_code, fresh.status_code)
    case.capability(statuses == (204, 204, 204), "WHIP-4.3.2-9",
                    f"the candidates, the same again, then only a new one: {', '.join(map(str, statuses))}")


NEW_CANDIDATE = "9 1 udp 2122260223 192.0.2.20 54330 typ host"  # TEST-NET-1: never reachable, never sent before


@pytest.mark.requirement("WHEP01-4.4-8")
async def test_resource_without_patch_answers_501(case):
    """A WHEP session whose 201 has no Accept-Patch supports no PATCH at all: a trickle PATCH gets 501."""
    if case.target.whep_profile != profiles.MURILLO_01:
        case.not_applicable(f"501 for a resource without PATCH is draft-murillo-whep-01's ({case.target.whep_profile} is graded)")
    offer, posted = await _session(case, "whep")
    if posted.response.headers.get("Accept-Patch"):
        case.not_applicable(f"the 201 announces Accept-Patch: {posted.response.headers['Accept-Patch']}: PATCH is supported")
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match=_baseline(posted))
    if response.status_code == 204:
        case.not_applicable("the session takes trickle PATCHes although its 201 has no Accept-Patch")
    case.expect(response.status_code in (501, 405), "WHEP01-4.4-8",
                message=f"a PATCH to a resource that announces no PATCH support got {response.status_code}")
    if response.status_code == 405:
        case.info("WHEP01-4.4-8", "405 Method Not Allowed, where draft-murillo-whep-01 §4.4 names 501 Not Implemented")
