"""RFC 9725 §4.6 as the client's side of it: ICE servers come from the 201's Links, not from OPTIONS,
and a client that uses them reaches an endpoint only its TURN server leads to, with the credentials as given."""

from __future__ import annotations

import pytest

from ._turn import authenticates_as_the_link_says, uses_the_link_turn_server

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.6-5")
async def test_client_does_not_ask_for_ice_servers_with_options(client_case):
    """NOT RECOMMENDED: an OPTIONS request for the ICE configuration. A CORS preflight is OPTIONS too, but
    a browser's, not the client's choice (it carries Access-Control-Request-Method): it does not count."""
    seen = await client_case.observe("whip", "plain")
    asked = [r.line() for r in seen.by_method("OPTIONS") if r.header("Access-Control-Request-Method") is None]
    client_case.expect(not asked, "WHIP-4.6-5", message=f"the client sent {asked}")


@pytest.mark.requirement("WHIP-D-15")
async def test_client_uses_the_turn_server_the_link_names(client_case):
    """MAY (derived): the 201's Links name servers "usable by the client"; in the turn-only scenario the
    endpoint is reachable only through the TURN server one names, so a client that uses them gets its
    session up and one that does not cannot. An agent that gathered before the POST applies them by an
    ICE restart (RFC 9725 §4.6 NOTE); one that gathers after the 201 (trickle) applies them at once."""
    seen = await client_case.observe("whip", "turn-only")
    uses_the_link_turn_server(client_case, seen, "WHIP-D-15")


@pytest.mark.requirement("WHIP-D-16")
async def test_client_authenticates_with_the_link_credentials_as_given(client_case):
    """MUST (derived): RFC 9725 §4.6 gives the TURN username and credential as Link target attributes,
    quoted-strings (RFC 8288 §3) that here contain "="; what the client authenticates with is what the
    Link says, or the TURN server refuses it."""
    seen = await client_case.observe("whip", "turn-only")
    authenticates_as_the_link_says(client_case, seen, "WHIP-D-16")
