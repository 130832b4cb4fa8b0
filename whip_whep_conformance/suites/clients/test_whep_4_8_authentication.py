"""draft-ietf-wish-whep-03 §4.8.1 (draft-murillo-whep-01 §4.8): the Bearer token on every request to
endpoint and session when the player has one, and no Authorization at all when it has none."""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import headers

from ._whep import session_requests

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.8.1-2", "WHEP01-4.8-2")
async def test_player_sends_its_token_on_every_request(client_case):
    """With a token configured ({token} in its command), every POST, PATCH and DELETE to endpoint and
    session carries Authorization: Bearer <that token> (CORS preflight OPTIONS excepted)."""
    seen = await client_case.observe("whep", "token")
    sent = session_requests(seen)
    if not sent:
        client_case.not_applicable(f"the player sent nothing to the endpoint: {seen.seen()}")
    missing = [r.line() for r in sent if headers.bearer_token(r.header("Authorization")) != seen.token]
    client_case.expect(not missing, "WHEPL-4.8.1-2", "WHEP01-4.8-2",
                       message=f"requests without the Bearer token: {missing}")


@pytest.mark.requirement("WHEPL-4.8.1-4", "WHEP01-4.8-4")
async def test_player_without_a_token_sends_no_authorization(client_case):
    """MUST NOT: with no token configured, no request carries an Authorization header (an empty
    "Bearer " is still a header)."""
    seen = await client_case.observe("whep", "plain")
    if not seen.requests:
        client_case.not_applicable("the player sent no request at all")
    with_it = [f"{r.line()} ({r.header('Authorization')!r})" for r in seen.requests if r.header("Authorization") is not None]
    client_case.expect(not with_it, "WHEPL-4.8.1-4", "WHEP01-4.8-4", message=f"requests with Authorization: {with_it}")
