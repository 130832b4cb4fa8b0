"""draft-ietf-wish-whep-03 §4.3 (draft-murillo-whep-01 §4.3) as the player's side of it: the session
ended by DELETE on the URL the Location named."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.3-1", "WHEP01-4.3-4")
async def test_player_ends_its_session_with_delete_on_the_location(client_case):
    """Told to stop (SIGINT), the player DELETEs the session URL the 201's Location named. The rows
    are joint (player DELETEs, session answers 2xx): the server half is graded by the server cases,
    this grades the player's half, so a non-2xx answer from the reference server is not the player's."""
    seen = await client_case.observe("whep", "plain")
    if seen.created() is None:
        client_case.not_applicable(f"the player made no session (no 201): {seen.seen()}")
    deletes = seen.deletes()
    client_case.expect(bool(deletes), "WHEPL-4.3-1", "WHEP01-4.3-4",
                       message=f"after {seen.stopped.how} the player exited ({seen.stopped.exit_code}) "
                               f"without a DELETE on {seen.session_url()}; it sent: {seen.seen()}")
