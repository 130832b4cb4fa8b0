"""WHEP media constraints — draft-ietf-wish-whep-03 §4.5.1/§4.5.2, draft-murillo-whep-01 §4.5:
one BUNDLE group, RTP/RTCP multiplexing, and one MediaStream with at most one track per kind.

(a=rtcp-mux-only, WHEPL-4.5.1-4, is checked on the server's own offers in test_4_2_2_server_offers.py:
RFC 8858 §4.2 forbids it in answers.)
"""

import pytest

from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.harness.player import VIDEO_CODECS
from whip_whep_conformance.protocol.sdp import SessionDescription
from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio


async def _answer(case) -> SessionDescription:
    urls = await case.live_input()
    _, posted = await case.play(urls)
    if posted.status != 201:
        raise RuntimeError(f"arranging a viewer failed: POST got {posted.describe()}")
    return sdp_syntax.parse(posted.body)


@pytest.mark.requirement("WHEP01-4.5-2")
async def test_answer_has_one_bundle_group_over_every_mid(case):
    """The answer has exactly one a=group:BUNDLE, and it names every accepted m-section's mid."""
    answer = await _answer(case)
    accepted = {m.mid for m in answer.media if not m.rejected}
    case.expect(len(answer.bundle_groups) == 1 and accepted <= set(answer.bundle_groups[0]), "WHEP01-4.5-2",
                message=f"BUNDLE groups {answer.bundle_groups}, accepted mids {sorted(accepted)}")


@pytest.mark.requirement("WHEPL-4.5.1-3", "WHEP01-4.5-5")
async def test_answer_multiplexes_rtp_and_rtcp(case):
    """Every accepted m-section of the answer has a=rtcp-mux."""
    answer = await _answer(case)
    missing = [m.mid for m in answer.media if not m.rejected and not m.rtcp_mux]
    case.expect(not missing, "WHEPL-4.5.1-3", "WHEP01-4.5-5", message=f"no a=rtcp-mux in m-sections with mid {missing}")


@pytest.mark.requirement("WHEPL-4.5.2-1", "WHEPL-4.5.2-2", "WHEPL-4.5.2-3")
async def test_answer_media_form_one_stream(case):
    """The answer's tracks belong to one MediaStream (one msid stream id), at least one track, at most one per kind."""
    answer = await _answer(case)
    accepted = [m for m in answer.media if not m.rejected]
    streams = {m.msid for m in accepted if m.msid}
    case.expect(len(streams) <= 1, "WHEPL-4.5.2-1", message=f"the answer's a=msid name several streams: {sorted(streams)}")
    case.expect(bool(accepted), "WHEPL-4.5.2-2", message="the answer accepts no m-section: the stream has no track")
    kinds = [m.kind for m in accepted]
    case.expect(all(kinds.count(k) <= 1 for k in ("audio", "video")), "WHEPL-4.5.2-3",
                message=f"the answer accepts m-sections {kinds}: two tracks of one kind")


@pytest.mark.requirement("WHEPL-4.5.3-1")
async def test_media_server_is_full_ice(case):
    """The answer is not a=ice-lite: the media server runs full ICE (SHOULD)."""
    urls = await case.live_input()
    _, posted = await case.play(urls)
    if posted.status != 201:
        case.not_applicable(f"no answer to look at: the POST got {posted.describe()}")
    lite = sdp_syntax.parse(posted.body).ice_lite
    case.expect(not lite, "WHEPL-4.5.3-1", message="the answer says a=ice-lite: the media server is a lite ICE implementation")


def _video_codecs(desc: SessionDescription) -> set[str]:
    """The video codecs (by name, not repair formats) of a description, as the player names them."""
    names = {c.name.lower() for m in desc.media if m.kind == "video" and not m.rejected for c in m.codecs if not c.is_repair}
    return names & set(VIDEO_CODECS)


@pytest.mark.requirement("WHEP01-4.5-7")
async def test_answer_keeps_every_offered_codec_the_server_has(case):
    """Offer every video codec the server's own offer listed: the answer keeps them all, not just the one it will send."""
    if case.target.whep_profile != profiles.MURILLO_01:
        case.not_applicable(f"the keep-every-codec rule is draft-murillo-whep-01's ({case.target.whep_profile} is graded)")
    urls = await case.live_input()
    probe = await case.signalling.post_for_offer(case.whep_url(urls))
    if probe.status != 201:
        case.not_applicable(f"the empty POST got {probe.describe()}: no server offer lists the server's codecs")
    theirs = _video_codecs(sdp_syntax.parse(probe.body))
    if probe.location:
        await case.signalling.delete(probe.location)
    common = sorted(theirs)
    if len(common) < 2:
        case.not_applicable(f"the server's offer lists {common or 'no'} video codec the suite can offer: nothing to narrow")
    pc = case.codec_peer("whep", common)
    posted = await case.signalling.post_offer(case.whep_url(urls), await peer.local_offer(pc))
    if posted.status != 201:
        raise RuntimeError(f"a viewer offering {', '.join(common)} was refused: {posted.describe()}")
    kept = _video_codecs(sdp_syntax.parse(posted.body))
    case.expect(set(common) <= kept, "WHEP01-4.5-7",
                message=f"offered {', '.join(common)} (all in the server's own offer); the answer kept {', '.join(sorted(kept))}")
