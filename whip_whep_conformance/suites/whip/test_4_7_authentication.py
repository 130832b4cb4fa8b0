"""RFC 9725 §4.7 — Authentication and authorization: Bearer tokens on the endpoint."""

import pytest

from whip_whep_conformance.suites.common.test_http_authentication import CREDENTIAL_REFUSALS, token_refusal

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.7.1-1")
async def test_endpoint_may_require_the_token(case):
    """With a token configured, a POST without it (after a control POST with it) is refused: the endpoint
    requires the token, as RFC 9725 §4.7.1 allows (a MAY). How the refusal must look is graded once for
    WHIP and WHEP alike (suites/common/test_http_authentication.py)."""
    posted = await token_refusal(case, "whip", None)
    case.capability(posted.status in CREDENTIAL_REFUSALS, "WHIP-4.7.1-1", f"a POST without the token got {posted.describe()}")


@pytest.mark.requirement("WHIP-4.7-2")
async def test_bearer_token_is_accepted(case):
    """With the configured token in Authorization: Bearer, a POST is answered 201."""
    if not case.target.token:
        case.not_applicable("no --token configured: the target authorises by URL (as Cloudflare does)")
    _, _, posted = await case.publish(arrange=False)
    if posted.status not in (201, 401, 403):  # neither accepted nor refused for the token: graded where its rule is
        case.arranged(posted, "whip", "a publisher with the token")
    case.expect(posted.status == 201, "WHIP-4.7-2", message=f"a POST with the Bearer token got {posted.describe()}")
