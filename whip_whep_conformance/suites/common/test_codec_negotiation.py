"""Codec negotiation — JSEP (RFC 9429 §5.3.1), RFC 3264 §6.1, RFC 6184 §8.2.2, and the brief's
supported codecs: VP9, VP8, H.264 Constrained Baseline 42e01f, each with Opus.

The suite offers one video codec, or all three in a preference order, to the WHIP endpoint (a
publisher's offer) and to the WHEP endpoint (a player's offer), and judges the answer's formats
against the offer's. Whether media of each codec really flows is judged in brief/test_media_relay.
"""

import pytest

from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness.judgments import codecs as codec_judgments
from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.harness.player import VIDEO_CODECS
from whip_whep_conformance.harness.case import CODEC_REQUIREMENT, NOT_ABOUT_THE_OFFER
from whip_whep_conformance.harness.grading import ArrangeFailed
from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
SINGLE = ["vp9", "vp8", "h264"]
OFFERS = [*SINGLE, "vp9+vp8+h264"]


async def _negotiate(case, protocol: str, codecs: str):
    """POST an offer of Opus + `codecs` video: (offer, answer or None if refused, the POST response)."""
    urls = await case.live_input()
    url = urls.whip_url if protocol == "whip" else case.whep_url(urls)
    offer = await peer.local_offer(case.codec_peer(protocol, codecs.split("+")))
    posted = await case.signalling.post_offer(url, offer)
    if protocol == "whep" and posted.status == 406 and not urls.whip_url:
        # WHEP-only: the user's stream is live in a codec the suite did not choose; a 406 (a counter-offer
        # in the live codec, draft-ietf-wish-whep-03 §4.2.2) says what is live, not what the server supports
        case.not_applicable(f"the WHEP POST got {posted.describe()}: what is live at the endpoint is in another "
                            "codec, and a WHEP-only run cannot choose it")
    if protocol == "whep" and case.is_counter_offer(posted):
        case.not_applicable("the endpoint refused the offer with a 406 counter-offer (draft-ietf-wish-whep-03 §4.2.2): "
                            "there is no answer to judge codecs by")
    if posted.status >= 500 or posted.status in NOT_ABOUT_THE_OFFER:
        # a failure, or a refusal of who we are or how often we ask: no evidence about codecs either way
        raise ArrangeFailed(f"arranging an offer of {codecs} + Opus failed: {protocol.upper()} POST answered {posted.describe()}")
    answer = case.answer_of(posted, protocol) if posted.status == 201 else None
    return sdp_syntax.parse(offer), answer, posted


async def _answered(case, protocol: str, codecs: str):
    """As _negotiate, for cases that judge an answer: a refused offer makes them not applicable."""
    offer, answer, posted = await _negotiate(case, protocol, codecs)
    if answer is None:
        case.not_applicable(f"the offer was not answered: {posted.describe()}")
    return offer, answer


def _pairs(offer: sdp.SessionDescription, answer: sdp.SessionDescription):
    """Offer and answer m-sections side by side (answers keep the offer's order, RFC 3264 §6)."""
    return [(o, a) for o, a in zip(offer.media, answer.media) if not a.rejected]


@pytest.mark.requirement("BRIEF-CODEC-1", "BRIEF-CODEC-2", "BRIEF-CODEC-3")
@pytest.mark.parametrize("codec", SINGLE)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_offered_codec_is_accepted(case, protocol, codec):
    """Offer Opus and one video codec: the answer accepts the video m-section with that codec."""
    offer, answer, posted = await _negotiate(case, protocol, codec)
    video = [a for o, a in _pairs(offer, answer) if a.kind == "video"] if answer else []
    accepted = bool(video) and any(c.name.lower() == codec for a in video for c in a.codecs)
    case.capability(accepted, CODEC_REQUIREMENT[codec],
                    f"an offer of {VIDEO_CODECS[codec]} + Opus got {posted.describe()}" + (
                        f"; answered video formats: {[sdp.describe_format(c) for a in video for c in a.codecs]}"
                        if answer else ""))


@pytest.mark.requirement("SDP-CODEC-1")
@pytest.mark.parametrize("codecs", OFFERS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_answer_formats_were_offered(case, protocol, codecs):
    """Every format in each answered m-section appears in the matching offer m-section."""
    offer, answer = await _answered(case, protocol, codecs)
    unoffered = [(a.kind, sdp.describe_format(c)) for o, a in _pairs(offer, answer) for c in codec_judgments.unoffered_formats(o, a)]
    case.expect(not unoffered, "SDP-CODEC-1",
                message=f"offered {codecs} + Opus; the answer lists formats the offer did not have: {unoffered}")


@pytest.mark.requirement("SDP-H264-1")
@pytest.mark.parametrize("codecs", ["h264", "vp9+vp8+h264"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_h264_profile_and_mode_are_kept(case, protocol, codecs):
    """An answered H.264 format keeps the offered packetization-mode=1 and Constrained Baseline profile."""
    offer, answer = await _answered(case, protocol, codecs)
    # A check of H.264 formats against an answer that has none sees nothing: not applicable, never a
    # Pass (whether H.264 is taken at all is BRIEF-CODEC-3's, in test_offered_codec_is_accepted).
    if not any(c.name.lower() == "h264" for _, a in _pairs(offer, answer) if a.kind == "video" for c in a.codecs):
        case.not_applicable(f"the answer to an offer of {codecs} + Opus keeps no H.264 format: nothing to compare")
    changes = [change for o, a in _pairs(offer, answer) for change in codec_judgments.h264_changes(o, a)]
    case.expect(not changes, "SDP-H264-1", message=f"the answer changed offered H.264 formats: {changes}")


@pytest.mark.requirement("SDP-PT-1")
@pytest.mark.parametrize("codecs", OFFERS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_answer_keeps_offered_payload_types(case, protocol, codecs):
    """Codecs the answer keeps carry the payload type numbers the offer gave them."""
    offer, answer = await _answered(case, protocol, codecs)
    renumbered = [r for o, a in _pairs(offer, answer) for r in codec_judgments.renumbered_formats(o, a)]
    case.expect(not renumbered, "SDP-PT-1", message=f"offered {codecs} + Opus; renumbered: {renumbered}")
