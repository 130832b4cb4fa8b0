"""WHEP authentication — draft-ietf-wish-whep-03 §4.8/§4.8.1, draft-murillo-whep-01 §4.8: Bearer tokens."""

import pytest

from whip_whep_conformance.suites.common.test_http_authentication import CREDENTIAL_REFUSALS, token_refusal
from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.8.1-1", "WHEP01-4.8-1")
async def test_post_without_token_is_refused(case):
    """With a token configured, a POST without it (after a control POST with it) is refused (401 or 403): the
    endpoint insists on Bearer auth, a MAY. How the refusal must look is graded once for WHIP and WHEP
    alike (suites/common/test_http_authentication.py)."""
    posted = await token_refusal(case, "whep", None)
    req = rules.in_force("token-refusal", "whep", case.target.whip_profile, case.target.whep_profile)
    case.capability(posted.status in CREDENTIAL_REFUSALS, req, f"a POST without the token got {posted.describe()}")


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
