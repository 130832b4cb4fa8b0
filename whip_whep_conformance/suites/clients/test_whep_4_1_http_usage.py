"""draft-ietf-wish-whep-03 §4.1 as the player's side of it: every status code is handled, an unknown one
by its class (RFC 9110 §15: an unrecognised 5xx is a 500)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.1-2")
async def test_player_takes_an_unknown_5xx_as_no_session(client_case):
    """MUST: the player's first POST gets 533, a code no registry has; by its class it is a server error,
    like 500: no session. The player must not go on to PATCH or DELETE a session that answer never made
    (the endpoint URL is not a session URL). Retrying, or giving up, both keep the rule. Only the
    player's endpoint refuses (--unavailable-on=whep), so the suite's own publisher is served. A DELETE
    to the endpoint after a retry made a session ends that session at the wrong URL: WHEPL-4.3-1's business."""
    seen = await client_case.observe("whep", "unavailable")
    posts = seen.endpoint_posts()
    refused = next((p for p in posts if p.status >= 300), None)
    if refused is None:
        client_case.not_applicable(f"no POST of the player's was refused (the server could not be arranged): {seen.seen()}")
    misuse = [r.line() for r in seen.endpoint_requests_after_a_refusal()]
    client_case.expect(not misuse, "WHEPL-4.1-2",
                       message=f"after POST -> {refused.status} the player sent {misuse} to the endpoint, as if a session")
