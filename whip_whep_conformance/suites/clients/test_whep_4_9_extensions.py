"""draft-ietf-wish-whep-03 §4.9 (draft-murillo-whep-01 §4.9): Links of a rel the player does not know
are passed over, not a reason to give up."""

from __future__ import annotations

import pytest

from ._whep import connected, links

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.9-3", "WHEP01-4.9-3")
async def test_player_plays_despite_links_of_an_unknown_rel(client_case):
    """The 201 carries Links of rels other than ice-server (the reference server's own extension Links,
    urn:ietf:params:whep:ext:core:*, and one of a rel no player can know): a player that does not know a
    rel passes over it, and one that does
    must still play (no extension is a precondition, §4.9), so either way the player plays on: it does
    not end its session or exit before it is told to stop, and the session connects where the server
    reports it."""
    seen = await client_case.observe("whep", "unknown-link")
    created = seen.created()
    if created is None:
        client_case.not_applicable(f"the player made no session: {seen.seen()}")
    rels = sorted({r for link in links(created) for r in link.rels if r != "ice-server"})
    if not rels:
        client_case.not_applicable("the 201 carried no Link but ice-server ones, so there was no rel to pass over")
    stopped = seen.stopped
    if stopped.how == "manual":
        client_case.not_applicable("a person stopped the player (--manual): whether it gave up by itself is not seen")
    control = await client_case.observe("whep", "plain")
    if control.stopped.how == "exited by itself":  # the control: it plays until told to stop without the Link
        client_case.not_applicable("the player exits by itself in the plain scenario too: giving up is not the Link's doing")
    played = stopped.how != "exited by itself" and connected(seen) is not False and seen.up
    client_case.expect(played, "WHEPL-4.9-3", "WHEP01-4.9-3",
                       message=f"the 201 carried Links of rel {rels}; the player ended: {stopped.how} "
                               f"(exit {stopped.exit_code}), session connected: {connected(seen)}; it sent: {seen.seen()}")
