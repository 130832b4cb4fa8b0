"""Simulcast — RFC 9725 §4.8: simulcast MAY be negotiated in the offer and answer (RFC 8853); a
server that accepts a simulcast offer answers as RFC 8853 §5.3.2 says.

The suite offers to send two streams in its video section (`a=rid:h send`, `a=rid:l send`,
`a=simulcast:send h;l`, the RID header extension, no SSRCs signalled, no pause/resume), as a browser does. A server without simulcast answers
without a=simulcast and is Unsupported; one that takes it up must reverse every stream to recv,
keep to the offered rid-ids and give each a matching `a=rid:<id> recv` line.
"""

import pytest

from whip_whep_conformance.harness.judgments import simulcast_answers
from whip_whep_conformance.protocol import sdp, simulcast
from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio

WHAT_WAS_OFFERED = f"a=simulcast:send {';'.join(simulcast.OFFERED_RIDS)}"


@pytest.mark.requirement("WHIP-4.8-1", "WHIP-4.8-3")
async def test_simulcast_offer_is_answered_as_rfc_8853_says(case):
    """Offer to send two simulcast streams: a server that takes them up answers them reversed to recv, with matching a=rid lines and no streams of its own."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    offer = simulcast.offer(offer)
    posted = await case.signalling.post_offer(urls.whip_url, offer)
    if posted.status >= 500:  # a server without simulcast ignores the attributes (RFC 3264 §5): a 5xx is a defect
        raise RuntimeError(f"an offer with {WHAT_WAS_OFFERED} got {posted.describe()}")
    if posted.status != 201:
        case.unsupported("WHIP-4.8-1", f"an offer with {WHAT_WAS_OFFERED} was refused: {posted.describe()}")
    taken = simulcast.accepted(sdp_syntax.parse(posted.body))
    if taken is None:
        case.unsupported("WHIP-4.8-1", f"the answer to {WHAT_WAS_OFFERED} has no a=simulcast: one stream only")
    case.capability(True, "WHIP-4.8-1", f"simulcast taken up: {simulcast.describe(taken)}")
    if not simulcast_answers.rid_extension_negotiated(taken):
        case.info("WHIP-4.8-3", f"the answer takes up simulcast without a=extmap for {simulcast.RID_EXTENSION}: RFC 8853 "
                                "does not require it, but Chromium refuses such an answer")
    problems = simulcast_answers.answer_problems(offer, posted.body)
    case.expect(not problems, "WHIP-4.8-3", message="; ".join(problems))
