"""RFC 9725 §4.7.1 as the client's side of it: the Bearer token on every request, or no Authorization at all."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


def _preflight(request) -> bool:
    """A CORS preflight (which carries no credentials, Fetch §4.8, and §4.7.1 exempts)."""
    return request.method == "OPTIONS" and request.header("Access-Control-Request-Method") is not None


@pytest.mark.requirement("WHIP-4.7.1-2")
async def test_client_sends_its_token_on_every_request(client_case):
    """MUST: "Authorization: Bearer <token>" on every request to the endpoint and the session, the
    DELETE included (a session the client cannot end with its token stays up)."""
    seen = await client_case.observe("whip", "token")
    if not seen.token:
        client_case.not_applicable("the scenario gave the client no token")
    requests = [r for r in seen.requests if not _preflight(r)]
    if not requests:
        client_case.not_applicable("the client sent no request at all")
    wanted = f"bearer {seen.token}"
    without = [r.line() for r in requests if (r.header("Authorization") or "").strip().lower() != wanted.lower()]
    client_case.expect(not without, "WHIP-4.7.1-2", message=f"requests without the Bearer token: {without}")


@pytest.mark.requirement("WHIP-4.7.1-4")
async def test_client_without_a_token_sends_no_authorization(client_case):
    """MUST NOT: a client configured without a token sends no Authorization header (not even an empty one)."""
    seen = await client_case.observe("whip", "plain")
    if seen.token:
        client_case.not_applicable("the scenario gave the client a token")
    if not seen.requests:
        client_case.not_applicable("the client sent no request at all (so none to judge)")
    sent = [f"{r.line()} ({r.header('Authorization')!r})" for r in seen.requests if r.header("Authorization") is not None]
    client_case.expect(not sent, "WHIP-4.7.1-4", message=f"Authorization sent without a token: {sent}")
