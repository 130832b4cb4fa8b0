"""WHEP when the server makes the offer — draft-murillo-whep-01 §4.2 (server-offer mode: an empty
POST is answered 201 with the server's offer) and draft-ietf-wish-whep-03 §4.2.2/§4.2.5 (counter-offer:
an offer the endpoint refuses is answered 406 with the server's own offer). In both the player sends
its answer by PATCH, typed application/sdp, to the Location.

The server-offer mode exists only in draft-murillo-whep-01; the counter-offer only from -03 on.
A counter-offer cannot be forced: the suite publishes VP8 and offers a viewer that has only H.264,
which a relay without transcoding can refuse; an endpoint that serves it anyway, or refuses it with
another status, makes the counter-offer cases not applicable.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from whip_whep_conformance.harness.judgments import http_fields, sdp_syntax
from whip_whep_conformance.harness.case import COUNTER_OFFER_PROFILES
from whip_whep_conformance.protocol import headers, profiles, sdp
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness.grading import ArrangeFailed

pytestmark = pytest.mark.asyncio

FRAMES = 15


async def _server_offer(case):
    """A server offer from the mode of the profile in force: (urls, the 201 or 406 response)."""
    if case.target.whep_profile == profiles.MURILLO_01:
        urls = await case.live_input()
        return urls, await case.signalling.post_for_offer(case.whep_url(urls))
    urls, _ = await case.start_publisher("vp8")
    pc = case.codec_peer("whep", ["h264"])
    posted = await case.signalling.post_offer(case.whep_url(urls), await peer.local_offer(pc))
    if posted.status >= 500:  # a server failure, not a choice between answering and counter-offering
        raise ArrangeFailed(f"arranging a counter-offer failed: an H.264-only viewer of a VP8 stream got {posted.describe()}, "
                            "neither an answer (201) nor a counter-offer (406)")
    if posted.status != 406:
        case.not_applicable(f"an H.264-only viewer of a VP8 stream got {posted.describe()}, not a 406 counter-offer")
    return urls, posted


def _only_in(case, profile: str | frozenset[str], why: str) -> None:
    """Not applicable unless the WHEP revision in force is `profile` (or one of them)."""
    if case.target.whep_profile not in ({profile} if isinstance(profile, str) else profile):
        case.not_applicable(f"{why} ({case.target.whep_profile} is graded)")


def _offer_problems(posted) -> list[str]:
    """Why the body is not an SDP offer a player can answer: parses, a=setup:actpass everywhere."""
    try:
        desc = sdp_syntax.parse(posted.body)
    except sdp.SdpSyntaxError as exc:
        return [f"the body is not SDP: {exc}"]
    problems = [f"m-section {i} ({m.kind}) has a=setup:{m.setup}, an offer has actpass"
                for i, m in enumerate(desc.media) if m.setup != "actpass"]
    return problems if desc.media else ["the offer has no m-section"]


@pytest.mark.requirement("WHEP01-4.2-2")
async def test_empty_post_gets_a_server_offer(case):
    """An empty POST with Accept: application/sdp gets 201, an SDP offer, a Location and an Expires in the future."""
    _only_in(case, profiles.MURILLO_01, "the server-offer mode is draft-murillo-whep-01's (removed in -02)")
    _, posted = await _server_offer(case)
    expires = headers.http_date(posted.response.headers.get("Expires"))
    problems = ([] if posted.status == 201 else [f"status {posted.describe()}"]) + \
        ([] if posted.media_type == headers.SDP else [f"Content-Type {posted.response.headers.get('Content-Type')}"]) + \
        ([] if posted.location else ["no Location"]) + \
        ([] if expires and expires > datetime.now(timezone.utc) else
         [f"Expires {posted.response.headers.get('Expires')!r} is not a future HTTP-date"]) + \
        (_offer_problems(posted) if posted.status == 201 else [])
    case.expect(not problems, "WHEP01-4.2-2", message="the server-offer response: " + "; ".join(problems))


@pytest.mark.requirement("WHEP01-4.2-5", "WHEPL-4.2.5-7", "WHEPL-4.2.5-5")
async def test_server_offer_is_sendonly(case):
    """The server's offer (201 or 406) sends media: a=sendonly, never recvonly or inactive."""
    _, posted = await _server_offer(case)
    if posted.status not in (201, 406):
        case.not_applicable(f"no server offer to judge: {posted.describe()}")
    directions = [m.direction for m in sdp_syntax.parse(posted.body).media if not m.rejected]
    if case.target.whep_profile == profiles.MURILLO_01:
        case.expect(set(directions) == {"sendonly"}, "WHEP01-4.2-5", message=f"the server offer's directions: {directions}")
        return
    case.expect(not {"recvonly", "inactive"} & set(directions), "WHEPL-4.2.5-7",
                message=f"the counter-offer's directions: {directions}")
    case.expect(set(directions) == {"sendonly"}, "WHEPL-4.2.5-5", message=f"the counter-offer's directions: {directions}")


@pytest.mark.requirement("WHEPL-4.2.2-2")
async def test_counter_offer_says_how_long_it_holds(case):
    """The 406's Content-Type may carry valid-until (else the counter-offer holds 30 s) (MAY)."""
    _only_in(case, COUNTER_OFFER_PROFILES, "the counter-offer arrived in draft-ietf-wish-whep-03")
    _, posted = await _server_offer(case)
    valid_until = headers.media_type_parameter(posted.response.headers.get("Content-Type"), "valid-until")
    case.capability(valid_until is not None, "WHEPL-4.2.2-2",
                    f"the 406 is typed {posted.response.headers.get('Content-Type')!r}")


@pytest.mark.requirement("WHEPL-4.2.2-1", "WHEPL-4.2.2-3")
async def test_refused_offer_gets_a_counter_offer(case):
    """A refused offer gets 406 typed application/sdp with an SDP offer and a Location; a valid-until is an HTTP-date."""
    _only_in(case, COUNTER_OFFER_PROFILES, "the counter-offer arrived in draft-ietf-wish-whep-03")
    _, posted = await _server_offer(case)
    problems = ([] if posted.media_type == headers.SDP else [f"Content-Type {posted.response.headers.get('Content-Type')}"]) + \
        ([] if posted.location else ["no Location"]) + _offer_problems(posted)
    case.expect(not problems, "WHEPL-4.2.2-1", message="the 406 counter-offer: " + "; ".join(problems))
    valid_until = headers.media_type_parameter(posted.response.headers.get("Content-Type"), "valid-until")
    if valid_until is not None:
        case.expect(headers.http_date(valid_until) is not None, "WHEPL-4.2.2-3",
                    message=f"valid-until={valid_until!r} is not an HTTP-date")


@pytest.mark.requirement("WHEPL-4.2.2-6", "WHEP01-4.2-3", "WHEP01-4.4-10", "BRIEF-MEDIA-1")
async def test_answer_by_patch_starts_playback(case):
    """PATCH a recvonly answer to the offer's Location: 204 (-03; -01: any 2xx, with the first ETag); media is decoded."""
    urls, posted = await _server_offer(case)
    if posted.status not in (201, 406):
        case.not_applicable(f"no server offer to answer: {posted.describe()}")
    if case.target.whep_profile == profiles.MURILLO_01 and not case.is_publishing(urls):
        await case.start_publisher("vp8", urls)  # nothing was live when the server offered
    the_player, response = await case.answer_server_offer(posted)
    if case.target.whep_profile == profiles.MURILLO_01:
        case.expect(200 <= response.status_code < 300, "WHEP01-4.2-3",
                    message=f"the answer PATCH got {response.status_code}")
        case.expect(http_fields.is_strong_entity_tag(response.headers.get("ETag", "")), "WHEP01-4.4-10",
                    message=f"the answer PATCH's reply carries ETag {response.headers.get('ETag')!r}")
    else:
        case.expect(response.status_code == 204, "WHEPL-4.2.2-6", message=f"the answer PATCH got {response.status_code}")
    decoded = await the_player.wait_frames("video", FRAMES, case.target.timeout_s)
    case.record.figures.update(the_player.figures())
    case.expect(decoded, "BRIEF-MEDIA-1",
                message=f"after the answer PATCH the player decoded {the_player.streams['video'].frames} video frames "
                        f"in {case.target.timeout_s:g} s (connection {the_player.pc.connectionState})")


@pytest.mark.requirement("WHEPL-4.2.2-7")
async def test_malformed_answer_patch_is_refused(case):
    """PATCH malformed SDP typed application/sdp as the answer: a 4xx."""
    _only_in(case, COUNTER_OFFER_PROFILES, "the answer PATCH's error rule is draft-ietf-wish-whep-03's")
    _, posted = await _server_offer(case)
    response = await case.signalling.patch(posted.location, "this is not SDP", if_match=None, content_type=headers.SDP)
    case.expect(400 <= response.status_code < 500, "WHEPL-4.2.2-7",
                message=f"a malformed SDP answer got {response.status_code}")


@pytest.mark.requirement("WHEP01-4.2-4")
async def test_declined_server_offer_is_deleted(case):
    """DELETE the Location right after the server offer: 2xx, and the session is gone (a PATCH then gets 404)."""
    _only_in(case, profiles.MURILLO_01, "the server-offer mode is draft-murillo-whep-01's")
    _, posted = await _server_offer(case)
    deleted = await case.signalling.delete(posted.location)
    after = await case.signalling.patch(posted.location, "v=0\r\n", if_match=None, content_type=headers.SDP)
    case.expect(200 <= deleted.status_code < 300 and after.status_code == 404, "WHEP01-4.2-4",
                message=f"DELETE got {deleted.status_code}, a PATCH afterwards {after.status_code}")


@pytest.mark.requirement("WHEP01-4.2-7")
async def test_unanswered_server_offer_expires(case):
    """No answer before Expires: the session is removed, and a late answer PATCH gets 404."""
    _only_in(case, profiles.MURILLO_01, "Expires belongs to draft-murillo-whep-01's server-offer mode")
    _, posted = await _server_offer(case)
    expires = headers.http_date(posted.response.headers.get("Expires"))
    if expires is None:
        case.not_applicable("the server offer has no usable Expires")
    remaining = (expires - datetime.now(timezone.utc)).total_seconds()
    if remaining > case.target.timeout_s:
        case.not_applicable(f"Expires is {remaining:.0f} s away, beyond --timeout-s={case.target.timeout_s:g}")
    await asyncio.sleep(max(remaining, 0) + 1.0)  # the behaviour under test is a deadline: wait it out, plus HTTP-date rounding
    late = await case.signalling.patch(posted.location, "v=0\r\n", if_match=None, content_type=headers.SDP)
    case.expect(late.status_code == 404, "WHEP01-4.2-7",
                message=f"a PATCH {remaining:.1f} s + 1 s after the offer (past Expires) got {late.status_code}")


async def _murillo_offer(case, rule: str) -> sdp.SessionDescription:
    """The server's offer to an empty POST, for a rule of draft-murillo-whep-01 §4.5 on offering endpoints."""
    _only_in(case, profiles.MURILLO_01, f"{rule} in the endpoint's offers is draft-murillo-whep-01's rule")
    _, posted = await _server_offer(case)
    if posted.status != 201:
        case.not_applicable(f"the empty POST got {posted.describe()}: no server offer to read")
    desc = sdp_syntax.parse(posted.body)
    case.expect(bool(desc.bundled_mids), "WHEP01-4.5-1", message="the server's offer has no a=group:BUNDLE")
    return desc


@pytest.mark.requirement("WHEP01-4.5-3", "WHEP01-4.5-1")
async def test_server_offer_marks_sections_bundle_only(case):
    """The server's offer marks each bundled m-section a=bundle-only (all but the first, which carries the transport)."""
    desc = await _murillo_offer(case, "bundle-only")
    missing = [f"{i} ({m.kind}, mid {m.mid})" for i, m in enumerate(desc.media)
               if i > 0 and m.mid in desc.bundled_mids and not m.bundle_only]
    case.expect(not missing, "WHEP01-4.5-3",
                message=f"bundled m-sections without a=bundle-only in the server's offer: {', '.join(missing)}")


def _without_rtcp_mux_only(desc: sdp.SessionDescription) -> list[str]:
    """The bundled m-sections of a server's offer that lack a=rtcp-mux-only (RFC 8858: an offer may carry it, an answer may not)."""
    return [f"{i} ({m.kind})" for i, m in enumerate(desc.media) if m.mid in desc.bundled_mids and not m.rtcp_mux_only]


@pytest.mark.requirement("WHEP01-4.5-6", "WHEP01-4.5-1")
async def test_server_offer_marks_sections_rtcp_mux_only(case):
    """The server's offer (draft-murillo-whep-01's 201) puts a=rtcp-mux-only on each bundled m-section."""
    desc = await _murillo_offer(case, "rtcp-mux-only")
    missing = _without_rtcp_mux_only(desc)
    case.expect(not missing, "WHEP01-4.5-6",
                message=f"bundled m-sections without a=rtcp-mux-only in the server's offer: {', '.join(missing)}")


@pytest.mark.requirement("WHEPL-4.5.1-4")
async def test_counter_offer_marks_sections_rtcp_mux_only(case):
    """The server's counter-offer (a 406 from draft-ietf-wish-whep-03 on) puts a=rtcp-mux-only on each bundled m-section."""
    _only_in(case, COUNTER_OFFER_PROFILES, "the counter-offer arrived in draft-ietf-wish-whep-03")
    _, posted = await _server_offer(case)
    desc = sdp_syntax.parse(posted.body)
    missing = _without_rtcp_mux_only(desc)
    case.expect(bool(desc.bundled_mids) and not missing, "WHEPL-4.5.1-4",
                message="the counter-offer has no a=group:BUNDLE" if not desc.bundled_mids else
                        f"bundled m-sections without a=rtcp-mux-only in the counter-offer: {', '.join(missing)}")
