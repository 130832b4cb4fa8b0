"""draft-ietf-wish-whep-03 §4.6 (draft-murillo-whep-01 §4.6): the player follows the endpoint's 307, and
tries again after a 503's Retry-After."""

from __future__ import annotations

import pytest

from ._whep import in_force, is_sdp, parsed

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.6-1", "WHEP01-4.6-1")
async def test_player_follows_a_307_with_its_offer(client_case):
    """The endpoint answers the POST 307 (the reference server's --redirect, to /via/...): the player
    POSTs the same offer, typed application/sdp, where the Location sent it (307 keeps the method and
    the body, RFC 9110 §15.4.8), and plays from the session that makes."""
    seen = await client_case.observe("whep", "redirect")
    redirected = [r for r in seen.requests if r.status == 307]
    if not redirected:
        client_case.not_applicable(f"the player's POST was never redirected: {seen.seen()}")
    target = redirected[0].response_header("Location") or ""
    followed = [r for r in seen.requests if r.path == target and r.sent_at > redirected[0].sent_at]
    ok = any(r.method == "POST" and is_sdp(r) and r.body == redirected[0].body and parsed(r.text) is not None
             for r in followed) and seen.created() is not None
    client_case.expect(ok, "WHEPL-4.6-1", "WHEP01-4.6-1",
                       message=f"307 to {target}; then: {[r.line() for r in followed] or 'nothing sent there'}; "
                               f"all requests: {seen.seen()}")


@pytest.mark.requirement("WHEPL-4.6-4", "WHEP01-4.6-4")
async def test_player_retries_a_503_after_its_retry_after(client_case):
    """MAY: the player's first POST gets 503 with Retry-After: 7 (the `busy` scenario; both drafts' §4.6:
    an endpoint under load); the player tries again, no sooner than the Retry-After, "the minimum time that the user agent
    ought to wait". Supported when a retry came at or after it; a retry sooner, or none, is Unsupported
    ("ought to" is no MUST). Only the player's endpoint refuses, so the suite's publisher is served."""
    req_id = in_force(client_case, "WHEPL-4.6-4", "WHEP01-4.6-4")
    seen = await client_case.observe("whep", "busy")
    client_case.retried_after(seen, 503, req_id)
