"""draft-ietf-wish-whep-03 §4.4.3 (draft-murillo-whep-01 §4.4) as the player's side of it: an ICE restart
PATCH has fresh credentials and candidates, and If-Match: "*". Scenario `dropped-path`: the server stops
answering on the session's path 2 s after it connects, so a player that watches consent has to restart.
A player that never restarts is Not applicable here (it keeps these rules trivially; whether it should
have restarted is no row of these)."""

from __future__ import annotations

import pytest


pytestmark = pytest.mark.asyncio






@pytest.mark.requirement("WHEPL-4.4.3-2")
async def test_player_restart_carries_new_credentials_and_candidates(client_case):
    """MUST: a restart PATCH has the player's fresh ice-ufrag/ice-pwd (not its offer's) and the candidates
    it gathered for them. (draft-murillo-whep-01 has no row for this: Info under that pair.)"""
    seen = await client_case.observe("whep", "dropped-path")
    restarts = seen.restarts()
    if not restarts:
        client_case.not_applicable(f"the player sent no restart PATCH after its path was dropped: {seen.seen()}")
    bad = seen.restarts_without_fresh_ice()
    client_case.expect(not bad, "WHEPL-4.4.3-2", message=f"restart PATCHes carried {bad}")


@pytest.mark.requirement("WHEPL-4.4.3-3", "WHEP01-4.4-18")
async def test_player_restart_carries_if_match_star(client_case):
    """MUST: a restart PATCH carries If-Match: "*" (the player cannot know the new ICE session's tag;
    draft-murillo-whep-01's examples quote it, so "*" is taken too)."""
    seen = await client_case.observe("whep", "dropped-path")
    restarts = seen.restarts()
    if not restarts:
        client_case.not_applicable(f"the player sent no restart PATCH after its path was dropped: {seen.seen()}")
    tags = [p.header("If-Match") for p in restarts]
    client_case.expect(all((t or "").strip() in ("*", '"*"') for t in tags), "WHEPL-4.4.3-3", "WHEP01-4.4-18",
                       message=f"restart PATCHes carried If-Match {tags}")
