"""draft-ietf-wish-whep-03 §4.5.3 (draft-murillo-whep-01 §4.4): the player runs full ICE."""

from __future__ import annotations

import pytest

from ._whep import connected

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.5.3-3", "WHEP01-4.4-4")
async def test_player_runs_full_ice(client_case):
    """The offer does not declare a=ice-lite (RFC 8839 §5.3: a lite agent says so), and the player's
    session came up against the reference server, a full agent too, whose checks a lite agent would
    only answer. What an agent does inside is not visible; its declaration and its connecting are."""
    seen = await client_case.observe("whep", "plain")
    offer = seen.offer()
    if offer is None:
        client_case.not_applicable(f"the player POSTed no SDP offer: {seen.seen()}")
    up = connected(seen)  # None: the server gave no account of its sessions; the declaration alone grades
    client_case.expect(not offer.ice_lite and up is not False, "WHEPL-4.5.3-3", "WHEP01-4.4-4",
                       message=("the offer declares a=ice-lite" if offer.ice_lite else
                                f"the player's session never connected (after {seen.stopped.how}, exit {seen.stopped.exit_code})"))
