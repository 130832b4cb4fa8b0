"""RFC 9725 §4.6 as the client's side of it: ICE servers come from the 201's Links, not from OPTIONS."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.6-5")
async def test_client_does_not_ask_for_ice_servers_with_options(client_case):
    """NOT RECOMMENDED: an OPTIONS request for the ICE configuration. A CORS preflight is OPTIONS too, but
    a browser's, not the client's choice (it carries Access-Control-Request-Method): it does not count."""
    seen = await client_case.observe("whip", "plain")
    asked = [r.line() for r in seen.by_method("OPTIONS") if r.header("Access-Control-Request-Method") is None]
    client_case.expect(not asked, "WHIP-4.6-5", message=f"the client sent {asked}")
