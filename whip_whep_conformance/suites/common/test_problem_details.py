"""Problem details — RFC 9725 §4.1, draft-ietf-wish-whep-03 §4.1: an error response may explain
itself with an RFC 9457 problem-details object. Informational: whether a target does so is reported,
never graded; problem details whose members have the wrong JSON types, or whose `status` contradicts
the response's own, are reported as such."""

import pytest

from whip_whep_conformance.harness.judgments import problem_details
from whip_whep_conformance.protocol import problem

pytestmark = pytest.mark.asyncio

REQUIREMENT = {"whip": "WHIP-4.1-3", "whep": "WHEPL-4.1-3"}


@pytest.mark.requirement("WHIP-4.1-3", "WHEPL-4.1-3")
@pytest.mark.parametrize("protocol", ["whip", "whep"])
async def test_error_responses_explain_themselves(case, protocol):
    """Provoke a 415 (offer typed text/plain) and a 400 (malformed offer): are they problem details, well formed?"""
    urls = await case.live_input()
    url = urls.whip_url if protocol == "whip" else case.whep_url(urls)
    _, offer = await (case.publisher_offer() if protocol == "whip" else case.viewer_offer())
    refusals = {
        "an offer typed text/plain": await case.signalling.post_offer(url, offer, content_type="text/plain"),
        "a malformed offer": await case.signalling.post_offer(url, "v=0\r\n"),
    }
    req = REQUIREMENT[protocol]
    for what, posted in refusals.items():
        if not 400 <= posted.status < 600:
            continue  # refusing at all is graded by the cases on content types and malformed offers
        explained, observed = problem_details.judge(posted.media_type, posted.response.content, posted.status)
        malformed = posted.media_type == problem.MEDIA_TYPE and not explained
        if case.expect(not malformed, req, message=f"{what}: {observed}"):
            case.info(req, f"{what}: {observed}")
