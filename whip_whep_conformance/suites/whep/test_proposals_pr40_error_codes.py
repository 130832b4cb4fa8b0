"""WHEP working group PR #40 "clarity-around-error-codes" (open at the snapshot, @1b20a4fc): the codes an
endpoint and a session answer wrong requests with — exactly 415 for a POST of another type, a 4xx for an
offer that is no JSEP initial offer, 406 only as a counter-offer carrying an SDP offer, 415 for a PATCH of
neither patch type, a 4xx for a garbled fragment, 422 for an SDP PATCH with no counter-offer pending.

An open proposal is no rule yet: these cases run only under --whep-proposals, and every check is Info, met
or not (harness/grading.py PROPOSAL_CAP). Each refusal counts only after its control was taken: a valid
offer POSTed to the same endpoint (201, or a 406 counter-offer), a valid trickle PATCH to the same session
(2xx), so a server that refuses everything is Not applicable rather than "met". WHEPP-40-4 (how a player
reads a 406) and WHEPP-40-9 (the answer PATCH after a counter-offer) stay catalogued: the first is a
player's duty, the second needs a counter-offer to answer wrongly.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.judgments import sdp_syntax
from whip_whep_conformance.protocol import headers, sdp, sdpfrag
from whip_whep_conformance.webrtc import peer
# The trickle control (a valid PATCH with the session's own tag must be taken first) is the trickle
# cases' own: one definition of "this session takes PATCHes".
from whip_whep_conformance.suites.common.test_trickle_ice import _baseline, _trickle

pytestmark = pytest.mark.asyncio


def _is_sdp(response_type: str | None, body: str) -> bool:
    """Whether a reply holds SDP: typed application/sdp, or a body that starts as SDP does (v=0)."""
    return response_type == headers.SDP or body.lstrip().startswith("v=0")


@pytest.mark.requirement("WHEPP-40-1")
async def test_post_of_another_type_gets_exactly_415(case):
    """POST a valid offer typed text/plain: exactly 415, and the reply holds no SDP."""
    case.proposal_amends_the_profile("WHEPP-40-1")
    urls = await case.live_input()
    _, offer = await case.viewer_offer()
    posted = await case.signalling.post_offer(case.whep_url(urls), offer, content_type="text/plain")
    refused = await case.refusal_of_the_offer(posted, "whep", urls, "an offer typed text/plain")
    case.expect(refused and posted.status == 415 and not _is_sdp(posted.media_type, posted.body), "WHEPP-40-1",
                message=f"a valid offer typed text/plain got {posted.describe()}"
                        + (f" typed {posted.media_type} holding SDP" if _is_sdp(posted.media_type, posted.body) else ""))


@pytest.mark.requirement("WHEPP-40-2")
async def test_garbage_offer_gets_a_4xx(case):
    """POST a body that is not SDP, typed application/sdp: a 4xx (the control, a valid offer right after, is taken)."""
    case.proposal_amends_the_profile("WHEPP-40-2")
    urls = await case.live_input()
    posted = await case.signalling.post_offer(case.whep_url(urls), "hello, WHEP")
    refused = await case.refusal_of_the_offer(posted, "whep", urls, "a body that is not SDP")
    case.expect(refused, "WHEPP-40-2", message=f"a body that is not SDP, typed application/sdp, got {posted.describe()}")


@pytest.mark.requirement("WHEPP-40-2")
async def test_answer_posted_as_an_offer_gets_a_4xx(case):
    """POST a valid offer (the control: 201), then POST the endpoint's own answer back as if it were an offer:
    a 4xx. The answer parses, but is no JSEP initial offer (sendonly m-sections, a=setup other than actpass)."""
    case.proposal_amends_the_profile("WHEPP-40-2")
    urls = await case.live_input()
    _, played = await case.play(urls)  # a 201 with an answer, or the case ends naming the rule graded elsewhere
    answer = played.body
    posted = await case.signalling.post_offer(case.whep_url(urls), answer)
    refused = case.refused_for_the_offer(posted, "the endpoint's answer POSTed back")  # 401/403/404/409/429: Not applicable
    case.expect(refused, "WHEPP-40-2",
                message=f"the endpoint's own answer (from the 201 to the control), POSTed back typed application/sdp, "
                        f"got {posted.describe()}")


async def _a_406(case):
    """A 406 to judge: the counter-offer path (a VP8 stream, an H.264-only viewer, which a relay that does not
    transcode refuses; -03 §4.2.2 lets it counter-offer instead); an endpoint that answers it otherwise made no
    406 for the suite to see, and the case is Not applicable."""
    urls, _ = await case.start_publisher("vp8")
    pc = case.codec_peer("whep", ["h264"])
    posted = await case.signalling.post_offer(case.whep_url(urls), await peer.local_offer(pc))
    if posted.status != 406:
        case.not_applicable(f"an H.264-only viewer of a VP8 stream got {posted.describe()}, not a 406: the endpoint "
                            "made no 406 for the suite to judge")
    return posted


def _offer_problem(media_type: str | None, body: str) -> str | None:
    """Why a 406 is no counter-offer (typed application/sdp, holding an SDP offer: a=setup:actpass); None if it is one."""
    if media_type != headers.SDP:
        return f"it is typed {media_type or '(none)'}, not {headers.SDP}"
    try:
        desc = sdp_syntax.parse(body)
    except sdp.SdpSyntaxError as exc:
        return f"its body is not SDP: {exc}"
    accepted = [m for m in desc.media if not m.rejected]
    if not accepted:
        return "its SDP has no m-section to take up"
    not_offering = [(m.mid, m.setup) for m in accepted if m.setup != "actpass"]
    if not_offering:
        return f"its SDP is no offer: m-sections (mid, a=setup) {not_offering} do not say actpass (RFC 8842 §5.2)"
    return None


@pytest.mark.requirement("WHEPP-40-3")
async def test_406_carries_an_sdp_offer(case):
    """Provoke a counter-offer: any 406 the suite sees is typed application/sdp and holds a valid SDP offer."""
    case.proposal_amends_the_profile("WHEPP-40-3")
    posted = await _a_406(case)
    problem = _offer_problem(posted.media_type, posted.body)
    case.expect(problem is None, "WHEPP-40-3", message=f"the 406 to an H.264-only viewer is no counter-offer: {problem}")


@pytest.mark.requirement("WHEPP-40-5")
async def test_patch_of_neither_patch_type_gets_415(case):
    """On a session that took a trickle PATCH (the control), PATCH the same fragment typed text/plain: 415."""
    case.proposal_amends_the_profile("WHEPP-40-5")
    offer, posted, _ = await _trickle(case, "whep")
    response = await case.signalling.patch(posted.location, str(sdpfrag.for_offer(offer)), if_match=_baseline(posted),
                                           content_type="text/plain")
    case.expect(response.status_code == 415, "WHEPP-40-5",
                message=f"a valid fragment typed text/plain got {response.status_code}")


@pytest.mark.requirement("WHEPP-40-6")
async def test_garbled_fragment_gets_a_4xx(case):
    """On a session that took a trickle PATCH (the control), PATCH a body that is no sdpfrag, typed as one: a 4xx."""
    case.proposal_amends_the_profile("WHEPP-40-6")
    _, posted, _ = await _trickle(case, "whep")
    response = await case.signalling.patch(posted.location, "this is not SDP", if_match=_baseline(posted))
    case.expect(400 <= response.status_code < 500, "WHEPP-40-6",
                message=f"a garbled {headers.SDPFRAG} PATCH got {response.status_code}")


@pytest.mark.requirement("WHEPP-40-7")
async def test_sdp_patch_without_a_counter_offer_gets_422(case):
    """On a session made by an ordinary 201 that took a trickle PATCH (the control), PATCH an SDP typed
    application/sdp (the viewer's own offer again): no counter-offer is pending, so 422."""
    case.proposal_amends_the_profile("WHEPP-40-7")
    offer, posted, _ = await _trickle(case, "whep")
    if posted.counter_offer:
        case.not_applicable("the endpoint counter-offered (406) rather than answering 201: an SDP PATCH on this session "
                            "is the counter-offer flow's own, not one outside it")
    response = await case.signalling.patch(posted.location, offer, if_match=_baseline(posted), content_type=headers.SDP)
    case.expect(response.status_code == 422, "WHEPP-40-7",
                message=f"an {headers.SDP} PATCH on a session made by a 201 (no counter-offer pending) got "
                        f"{response.status_code}")
