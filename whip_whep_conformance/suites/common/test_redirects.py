"""Redirects — RFC 9725 §4.5, draft-ietf-wish-whep-03 §4.6: an endpoint may send clients elsewhere
(load balancing), with 307 (preferred) or 308, never 301/302, which may turn the POST into a GET.

A redirect cannot be provoked: these cases grade the redirects a target makes of its own accord and
are Not applicable against one that answers directly (the embedded standard pair runs the reference
server with --redirect). The suite follows 307/308 with the same POST; session URLs must not
redirect at all (suites/common/test_http_methods.py)."""

import pytest

pytestmark = pytest.mark.asyncio

NEVER = {"whip": "WHIP-4.5-2", "whep": "WHEPL-4.6-2"}
METHOD_CHANGING = (301, 302, 303)


async def _post(case, protocol):
    urls = await case.live_input()
    if protocol == "whip":
        _, offer = await case.publisher_offer()
        return urls.whip_url, await case.signalling.post_offer(urls.whip_url, offer)
    _, offer = await case.viewer_offer()
    return case.whep_url(urls), await case.signalling.post_offer(case.whep_url(urls), offer)


@pytest.mark.requirement("WHIP-4.5-2", "WHEPL-4.6-2", "WHIP-4.5-3")
@pytest.mark.parametrize("protocol", ["whip", "whep"])
async def test_redirect_keeps_the_post(case, protocol):
    """POST an offer: any redirect is 307 or 308 (never 301/302/303), and the same POST, sent on, is answered 201."""
    url, posted = await _post(case, protocol)
    statuses = [status for status, _ in posted.redirects]
    if posted.status in METHOD_CHANGING:
        statuses.append(posted.status)
    if not statuses:
        case.not_applicable(f"POST {url} was answered {posted.status} without a redirect")
    hops = " → ".join(f"{status} from {where}" for status, where in posted.redirects) or "none followed"
    case.expect(posted.status not in METHOD_CHANGING, NEVER[protocol],
                message=f"the POST was redirected with {posted.status}, which a client may follow as a GET "
                        f"(redirects followed before it: {hops})")
    case.expect(posted.status == 201, NEVER[protocol],
                message=f"after following {hops}, the POST to {posted.request_url} got {posted.describe()}")
    if protocol == "whip":
        case.info("WHIP-4.5-3", f"redirect statuses {statuses} (307 is preferred): {hops}")

