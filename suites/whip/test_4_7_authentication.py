"""RFC 9725 §4.7 — Authentication and authorization: Bearer tokens on the endpoint."""

import pytest


pytestmark = pytest.mark.asyncio


async def _post_without_token(case):
    return await case.post_without_token("whip")


@pytest.mark.requirement("WHIP-4.7.1-1")
async def test_post_without_token_is_refused_401(case):
    """POST a valid offer without the configured Bearer token: 401 Unauthorized."""
    posted = await _post_without_token(case)
    case.expect(posted.status == 401, "WHIP-4.7.1-1", message=f"a POST without a token got {posted.describe()}")


@pytest.mark.requirement("WHIP-4.7-1", "WHIP-D-5")
async def test_401_carries_a_bearer_challenge(case):
    """POST without the token: the 401 carries a WWW-Authenticate challenge (HTTP authentication), and it is Bearer."""
    posted = await _post_without_token(case)
    if posted.status != 401:
        case.not_applicable(f"the POST without a token got {posted.describe()}, not 401")
    challenge = posted.response.headers.get("WWW-Authenticate", "")
    case.expect(bool(challenge), "WHIP-4.7-1", message="the 401 has no WWW-Authenticate header: no HTTP authentication scheme is offered")
    case.expect(challenge.lower().startswith("bearer"), "WHIP-D-5",
                message=f"WWW-Authenticate {challenge!r} is not a Bearer challenge")


@pytest.mark.requirement("WHIP-4.7-2")
async def test_bearer_token_is_accepted(case):
    """With the configured token in Authorization: Bearer, a POST is answered 201."""
    if not case.target.token:
        case.not_applicable("no --token configured: the target authorises by URL (as Cloudflare does)")
    _, _, posted = await case.publish(arrange=False)
    if posted.status not in (201, 401, 403):  # neither accepted nor refused for the token: graded where its rule is
        case.arranged(posted, "whip", "a publisher with the token")
    case.expect(posted.status == 201, "WHIP-4.7-2", message=f"a POST with the Bearer token got {posted.describe()}")
