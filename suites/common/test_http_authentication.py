"""HTTP authentication as RFC 9110 §11.6.1 and RFC 6750 §3 define it, on WHIP and WHEP endpoints alike."""

import pytest

from whip_whep import headers

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]


@pytest.mark.requirement("HTTP-5")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_wrong_token_is_challenged(case, protocol):
    """POST with a Bearer token that is not the configured one: 401 with a WWW-Authenticate challenge, or 403."""
    if not case.target.token:
        case.not_applicable("no --token configured: the target authorises by URL (as Cloudflare does)")
    urls = await case.live_input()
    url, offer = await case.endpoint_and_offer(protocol, urls)
    wrong = {"Authorization": "Bearer not-the-configured-token"}
    posted = await case.signalling.post_offer(url, offer, with_token=False, extra_headers=wrong)
    challenge = posted.response.headers.get("WWW-Authenticate")
    case.expect(posted.status == 403 or (posted.status == 401 and bool(challenge)), "HTTP-5",
                message=f"a POST with a wrong Bearer token got {posted.describe()}, WWW-Authenticate {challenge!r}")
    if posted.status == 403:
        case.info("HTTP-5", "a wrong token got 403; RFC 6750 §3.1 gives invalid_token a 401 (403 is for insufficient_scope)")
    params = headers.bearer_challenge(challenge)
    if posted.status == 401 and (params or {}).get("error") != "invalid_token":
        case.info("HTTP-5", f"the challenge {challenge!r} has no error=\"invalid_token\" (RFC 6750 §3: SHOULD)")
