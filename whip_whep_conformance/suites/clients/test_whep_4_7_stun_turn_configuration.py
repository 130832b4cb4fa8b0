"""draft-ietf-wish-whep-03 §4.7 (draft-murillo-whep-01 §4.7): the STUN/TURN servers of the 201's Links,
in the RFC 9725 format, as the player's side of it: a player that uses them reaches a media server only
their TURN server leads to, with the credentials as given."""

from __future__ import annotations

import pytest

from ._turn import authenticates_as_the_link_says, uses_the_link_turn_server
from ._whep import in_force

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.7-2", "WHEP01-4.7-3")
async def test_player_uses_the_turn_server_the_link_names(client_case):
    """MAY (derived): the servers are "usable by the client"; the media server is reachable only through
    the TURN server a Link names, so a player that uses them gets its session up and one that does not
    cannot (the suite's own publisher reaches it through the same TURN server, as a user of its own)."""
    seen = await client_case.observe("whep", "turn-only")
    uses_the_link_turn_server(client_case, seen, in_force(client_case, "WHEPL-4.7-2", "WHEP01-4.7-3"))


@pytest.mark.requirement("WHEPL-4.7-3", "WHEP01-4.7-4")
async def test_player_authenticates_with_the_link_credentials_as_given(client_case):
    """MUST (derived): the username and credential are Link target attributes in the RFC 9725 §4.6
    format, quoted-strings (RFC 8288 §3) that here contain "="; the player authenticates with them as given."""
    seen = await client_case.observe("whep", "turn-only")
    authenticates_as_the_link_says(client_case, seen, "WHEPL-4.7-3", "WHEP01-4.7-4")
