"""WHEP authentication — draft-ietf-wish-whep-03 §4.8/§4.8.1, draft-murillo-whep-01 §4.8: Bearer tokens."""

import pytest

from whip_whep import profiles

pytestmark = pytest.mark.asyncio


async def _post_without_token(case):
    return await case.post_without_token("whep")


@pytest.mark.requirement("WHEPL-4.8.1-1", "WHEP01-4.8-1")
async def test_post_without_token_is_refused(case):
    """With a token configured, a POST without it is refused (401) — the endpoint insists on Bearer auth."""
    posted = await _post_without_token(case)
    req = "WHEPL-4.8.1-1" if case.target.whep_profile == profiles.WHEP_03 else "WHEP01-4.8-1"
    case.capability(posted.status == 401, req, f"a POST without the token got {posted.describe()}")


@pytest.mark.requirement("WHEPL-4.8-1")
async def test_401_carries_a_challenge(case):
    """A 401 to a POST without the token carries a WWW-Authenticate challenge (HTTP authentication, RFC 9110 §11)."""
    posted = await _post_without_token(case)
    if posted.status != 401:
        case.not_applicable(f"the POST without a token got {posted.describe()}, not 401")
    case.expect(bool(posted.response.headers.get("WWW-Authenticate")), "WHEPL-4.8-1",
                message="the 401 has no WWW-Authenticate header")


@pytest.mark.requirement("WHEPL-4.8-2")
async def test_bearer_token_is_accepted(case):
    """With the configured token in Authorization: Bearer, a viewer's POST is answered 201."""
    if not case.target.token:
        case.not_applicable("no --token configured: the target authorises by URL (as Cloudflare does)")
    urls = await case.live_input()
    _, posted = await case.play(urls, arrange=False)
    if posted.status not in (201, 401, 403) and not case.is_counter_offer(posted):  # not about the token
        case.arranged(posted, "whep", "a viewer with the token")
    case.expect(posted.status == 201 or case.is_counter_offer(posted), "WHEPL-4.8-2", message=f"a POST with the Bearer token got {posted.describe()}")
