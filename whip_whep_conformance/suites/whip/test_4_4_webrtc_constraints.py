"""RFC 9725 §4.4 — WebRTC constraints: BUNDLE, RTP/RTCP multiplexing, DTLS setup role."""

import pytest

from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.4.1-1")
async def test_answer_bundles_every_accepted_mid(case):
    """POST a BUNDLE offer: the answer's a=group:BUNDLE lists every accepted mid."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    accepted = {m.mid for m in answer.media if not m.rejected}
    case.expect(bool(answer.bundle_groups) and accepted <= answer.bundled_mids, "WHIP-4.4.1-1",
                message=f"BUNDLE groups {answer.bundle_groups}, accepted mids {sorted(accepted)}")


@pytest.mark.requirement("WHIP-4.4.1-3")
async def test_answer_multiplexes_rtp_and_rtcp(case):
    """POST an rtcp-mux offer: every accepted m-section of the answer has a=rtcp-mux."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    missing = [m.mid for m in answer.media if not m.rejected and not m.rtcp_mux]
    case.expect(not missing, "WHIP-4.4.1-3", message=f"no a=rtcp-mux in m-sections with mid {missing}")


@pytest.mark.requirement("WHIP-D-12")
async def test_answer_says_rtcp_mux_not_rtcp_mux_only(case):
    """POST an offer with a=rtcp-mux-only: the answer accepts with a=rtcp-mux and no a=rtcp-mux-only (RFC 8858 §3)."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    wrong = [m.mid for m in answer.media if not m.rejected and (m.rtcp_mux_only or not m.rtcp_mux)]
    case.expect(not wrong, "WHIP-D-12",
                message=f"m-sections {wrong} of the answer lack a=rtcp-mux or carry a=rtcp-mux-only")


@pytest.mark.requirement("WHIP-D-11")
async def test_answer_takes_a_dtls_role(case):
    """POST an a=setup:actpass offer: the answer is a=setup:active or passive, never actpass."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    roles = [m.setup for m in answer.media if not m.rejected]
    case.expect(all(r in ("active", "passive") for r in roles), "WHIP-D-11",
                message=f"answer a=setup values {roles}")
