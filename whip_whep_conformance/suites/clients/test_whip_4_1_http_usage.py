"""RFC 9725 §4.1 as the client's side of it: any status code is handled, an unknown one by its class."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.1-2")
async def test_client_takes_an_error_answer_as_no_session(client_case):
    """MUST: the first POST gets 503 (Retry-After). Whatever the client makes of the code, a 5xx is no
    session: it must not go on to PATCH or DELETE a session that answer never made (the endpoint URL is
    not a session URL). Retrying, or giving up, both keep the rule; a DELETE to the endpoint after a retry
    made a session ends that session at the wrong URL, which WHIP-4.2-14 grades, not this row."""
    seen = await client_case.observe("whip", "unavailable")
    posts = seen.endpoint_posts()
    refused = next((p for p in posts if p.status >= 300), None)
    if refused is None:
        client_case.not_applicable(f"no POST of the client's was refused (the server could not be arranged): {seen.seen()}")
    misuse = [r.line() for r in seen.endpoint_requests_after_a_refusal()]
    client_case.expect(not misuse, "WHIP-4.1-2",
                       message=f"after POST -> {refused.status} the client sent {misuse} to the endpoint, as if a session")
