"""RFC 9725 §4.2 and §4.4 — offers a WHIP endpoint must take or refuse in a given way:
a=sendrecv (§4.2), too many tracks (§4.4.2), an m-section it cannot use (§4.4.3), a=setup:active (§4.4.4)."""

import re

import pytest

from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness.judgments import problem_details
from whip_whep_conformance.protocol import profiles, sdp
from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.2-10", "WHIP-4.2-12")
async def test_sendrecv_offer_is_accepted_recvonly(case):
    """POST an offer whose m-sections say a=sendrecv: 201, every m-section of the answer recvonly.

    RFC 9725 §4.2 lets the client send sendrecv (a MAY) and puts no duty on the endpoint to take it, so
    taking it is a capability (Supported/Unsupported), never a Warning; an answer it does give must
    still be recvonly (WHIP-4.2-12, a MUST)."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    posted = await case.signalling.post_offer(urls.whip_url, sdp.with_direction(offer, "sendrecv"))
    if posted.status != 201 and not 400 <= posted.status < 500:
        # Neither taken nor refused: a 5xx or another 2xx is no evidence either way; the status an
        # offer must get is graded once, under WHIP-4.2-4 (RFC 9725 §4.2's 201).
        case.not_applicable(f"a sendrecv offer got {posted.describe()}: neither a 201 nor a refusal (see WHIP-4.2-4)")
    case.capability(posted.status == 201, "WHIP-4.2-10", f"a sendrecv offer got {posted.describe()}")
    if posted.status != 201:
        return
    directions = [m.direction for m in sdp_syntax.parse(posted.body).media]
    case.expect(set(directions) == {"recvonly"}, "WHIP-4.2-12",
                message=f"the answer to a sendrecv offer has directions {directions}")


def _two_videos(offer: str) -> str:
    """The offer with its video m-section twice (second mid "2"), both in the BUNDLE group."""
    head, video = offer.split("m=video", 1)
    second = ("m=video" + video).replace("a=mid:1", "a=mid:2")
    second = re.sub(r"a=msid:(\S+) (\S+)", r"a=msid:\1 \2-second", second)
    return (head + "m=video" + video.rstrip("\r\n") + "\r\n" + second).replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2")


@pytest.mark.requirement("WHIP-4.4.2-3")
async def test_too_many_tracks_are_refused_whole(case):
    """POST an offer with two video m-sections: refused with 422 or 400 (draft-06: 406), or accepted whole."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    posted = await case.signalling.post_offer(urls.whip_url, _two_videos(offer))
    expected = {406} if case.target.whip_profile == profiles.WHIP_06 else {422, 400}
    if posted.status == 201:
        rejected = [m.mid for m in sdp_syntax.parse(posted.body).media if m.rejected]
        case.expect(not rejected, "WHIP-4.4.2-3", message=f"a 201 that rejects m-sections {rejected} (port 0)")
        case.info("WHIP-4.4.2-3", "the endpoint accepts two video tracks")
        return
    case.expect(posted.status in expected, "WHIP-4.4.2-3",
                message=f"{case.target.whip_profile} wants {sorted(expected)}; two video tracks got {posted.describe()}")


@pytest.mark.requirement("WHIP-4.4.4-2", "WHIP-D-11")
async def test_active_offer_is_answered_passive(case):
    """POST an offer with a=setup:active: 201 answered a=setup:passive and DTLS connects, or 422/400."""
    urls = await case.live_input()
    pc, offer = await case.publisher_offer()
    posted = await case.signalling.post_offer(urls.whip_url, offer.replace("a=setup:actpass", "a=setup:active"))
    if posted.status in (422, 400):
        case.info("WHIP-4.4.4-2", f"setup:active offers are refused ({posted.status})")
        return
    roles = [m.setup for m in sdp_syntax.parse(posted.body).media] if posted.status == 201 else []
    case.expect(posted.status == 201 and set(roles) == {"passive"}, "WHIP-4.4.4-2",
                message=f"an a=setup:active offer got {posted.describe()} with answer a=setup {roles}")
    state = await case.connect(pc, posted)
    case.expect(state == "connected", "WHIP-D-11", message=f"with the suite as DTLS client the connection ended {state!r}")


@pytest.mark.requirement("WHIP-4.4.4-3")
async def test_refused_active_offer_gets_422_or_400(case):
    """POST an offer with a=setup:active: accepted, or refused with 422 or 400 (SHOULD)."""
    if case.target.whip_profile != profiles.RFC9725:
        case.not_applicable(f"the refusal status for a=setup:active is RFC 9725's ({case.target.whip_profile} is graded)")
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    posted = await case.signalling.post_offer(urls.whip_url, offer.replace("a=setup:actpass", "a=setup:active"))
    if posted.status == 201:
        case.not_applicable("the endpoint takes a=setup:active offers: nothing refused")
    case.expect(posted.status in (422, 400), "WHIP-4.4.4-3", message=f"an a=setup:active offer was refused with {posted.describe()}")


@pytest.mark.requirement("WHIP-4.4.3-1", "WHIP-4.4.3-2")
async def test_offer_with_an_unusable_section_is_refused_whole(case):
    """POST Opus plus a video m-section whose only codec is unknown (FOO/90000): not a 201 that rejects
    the video section alone, but a refusal of the whole POST with 422 or 400."""
    urls = await case.live_input()
    offer = await peer.local_offer(case.codec_peer("whip", ["vp8"]))
    posted = await case.signalling.post_offer(urls.whip_url, sdp.with_format_renamed(offer, "VP8", "FOO"))
    rejected = [m.kind for m in sdp_syntax.parse(posted.body).media if m.rejected] if posted.status == 201 else []
    case.expect(not rejected, "WHIP-4.4.3-1",
                message=f"the offer was answered {posted.status} with its {', '.join(rejected)} m-section rejected (port 0)")
    case.expect(posted.status in (422, 400), "WHIP-4.4.3-2",
                message=f"an offer whose video codec is unknown got {posted.describe()}"
                        + (" (part of the offer accepted)" if posted.status == 201 else ""))


async def _refusal_explains_itself(case, req: str, offer: str, what: str) -> None:
    """A MAY of RFC 9725: the refusal of `offer` carries RFC 9457 problem details."""
    if case.target.whip_profile != profiles.RFC9725:
        case.not_applicable(f"problem details for refused offers are RFC 9725's ({case.target.whip_profile} is graded)")
    urls = await case.live_input()
    posted = await case.signalling.post_offer(urls.whip_url, offer)
    if not 400 <= posted.status < 500:
        case.not_applicable(f"{what} was not refused ({posted.status}): nothing to explain")
    explained, observed = problem_details.judge(posted.media_type, posted.response.content, posted.status)
    case.capability(explained, req, f"{what}: {observed}")


@pytest.mark.requirement("WHIP-4.4.2-4")
async def test_refusal_of_too_many_tracks_explains_itself(case):
    """POST an offer with two video m-sections; if refused, the refusal is RFC 9457 problem details (MAY)."""
    _, offer = await case.publisher_offer()
    await _refusal_explains_itself(case, "WHIP-4.4.2-4", _two_videos(offer), "an offer with two video tracks")


@pytest.mark.requirement("WHIP-4.4.3-3")
async def test_refusal_of_an_unusable_section_explains_itself(case):
    """POST Opus plus a video m-section with an unknown codec; the refusal is RFC 9457 problem details (MAY)."""
    offer = await peer.local_offer(case.codec_peer("whip", ["vp8"]))
    await _refusal_explains_itself(case, "WHIP-4.4.3-3", sdp.with_format_renamed(offer, "VP8", "FOO"),
                                   "an offer whose video codec is unknown")
