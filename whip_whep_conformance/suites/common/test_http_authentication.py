"""HTTP authentication as RFC 9110 §11.6.1 and RFC 6750 §3 define it, on WHIP and WHEP endpoints alike.

One rule, one grade: whatever the protocol, a refusal of a missing or bad Bearer token is graded here
under the HTTP rules (HTTP-5: a 401 carries a challenge; HTTP-17: RFC 6750 §3's WWW-Authenticate on
every such refusal, 401 or 403; HTTP-18: a bad token gets 401 invalid_token). Whether an endpoint
insists on a token at all is a MAY (WHIP-4.7.1-1, WHEPL-4.8.1-1), graded in the protocol sections.

Every negative request here has its control first: a POST with the configured token must not be
refused for its credentials, or a refusal without it proves nothing (the server may refuse everyone).
"""

import pytest

from whip_whep_conformance.protocol import headers
from whip_whep_conformance.harness.client import Posted

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
CREDENTIAL_REFUSALS = (401, 403)
WRONG_TOKEN = "Bearer not-the-configured-token"


async def token_refusal(case, protocol: str, authorization: str | None) -> Posted:
    """POST an offer with the configured token (the control), then one without it (`authorization`
    None) or with `authorization` instead: the second POST's response."""
    if not case.target.token:
        case.not_applicable("no --token configured: the target authorises by URL (as Cloudflare does)")
    urls = await case.live_input()
    url, offer = await case.endpoint_and_offer(protocol, urls)
    control = await case.signalling.post_offer(url, offer)
    if control.status in CREDENTIAL_REFUSALS:
        case.not_applicable(f"the control POST with the configured token was refused ({control.describe()}), "
                            "so a refusal without it proves nothing (graded by test_bearer_token_is_accepted)")
    if control.location:
        await case.signalling.delete(control.location)  # one publisher at a time on fixed URLs
    url, offer = await case.endpoint_and_offer(protocol, urls)
    extra = {"Authorization": authorization} if authorization else None
    return await case.signalling.post_offer(url, offer, with_token=False, extra_headers=extra)


def _grade_challenge(case, posted: Posted, what: str) -> dict[str, str] | None:
    """The challenge rules every refusal of credentials meets: a 401 has a challenge (RFC 9110
    §11.6.1), and any refusal of a missing or bad token has a Bearer one (RFC 6750 §3: "MUST include
    the HTTP WWW-Authenticate response header field", with auth-scheme "Bearer"). Returns its params."""
    challenge = posted.response.headers.get("WWW-Authenticate")
    if posted.status == 401:
        case.expect(bool(challenge), "HTTP-5", message=f"{what} got 401 without WWW-Authenticate")
    params = headers.bearer_challenge(challenge)
    case.expect(params is not None, "HTTP-17",
                message=f"{what} got {posted.describe()} with WWW-Authenticate {challenge!r}: no Bearer challenge "
                        "tells the client which credentials would do")
    return params


@pytest.mark.requirement("HTTP-5", "HTTP-17")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_missing_token_is_challenged(case, protocol):
    """POST without the configured Bearer token (after a control POST with it): the refusal carries a
    Bearer challenge, without an error code (RFC 6750 §3.1: the client was not told a token is needed)."""
    posted = await token_refusal(case, protocol, None)
    if posted.status not in CREDENTIAL_REFUSALS:
        case.not_applicable(f"the POST without the token got {posted.describe()}: the endpoint does not insist on "
                            "a token (a MAY, graded as WHIP-4.7.1-1 / WHEPL-4.8.1-1)")
    params = _grade_challenge(case, posted, "a POST without a token")
    if posted.status == 403:
        case.info("HTTP-17", "a POST without a token got 403: RFC 9110 §15.5.2 defines 401 for a request that lacks "
                             "credentials; 403 says the credentials given are insufficient (§15.5.4)")
    if params and "error" in params:
        case.info("HTTP-17", f"the challenge to a request without credentials has error={params['error']!r}: "
                             "RFC 6750 §3.1 says it SHOULD NOT")


@pytest.mark.requirement("HTTP-5", "HTTP-17", "HTTP-18")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_wrong_token_is_challenged(case, protocol):
    """POST with a Bearer token that is not the configured one (after a control POST with it): 401 with a
    Bearer challenge whose error is invalid_token."""
    posted = await token_refusal(case, protocol, WRONG_TOKEN)
    if posted.status not in CREDENTIAL_REFUSALS:
        case.not_applicable(f"the POST with a wrong token got {posted.describe()}: the endpoint does not insist on "
                            "a token (a MAY, graded as WHIP-4.7.1-1 / WHEPL-4.8.1-1)")
    params = _grade_challenge(case, posted, "a POST with a wrong Bearer token")
    # RFC 6750 §3.1: invalid_token "SHOULD respond with the HTTP 401"; §3: "SHOULD include the error attribute".
    case.expect(posted.status == 401 and (params or {}).get("error") == "invalid_token", "HTTP-18",
                message=f"a wrong token got {posted.status} with challenge "
                        f"{posted.response.headers.get('WWW-Authenticate')!r}, not 401 with error=\"invalid_token\"")
