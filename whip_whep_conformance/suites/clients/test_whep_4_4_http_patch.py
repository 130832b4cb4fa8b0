"""draft-ietf-wish-whep-03 §4.4 (draft-murillo-whep-01 §4.4) as the player's side of it: entity-tags
where they belong (trickle PATCHes) and not where they do not (DELETE), and candidates held back
until the 201. A player that does not trickle is Not applicable for the trickle rows (the project's
own client trickles with --client-fault=trickle, which is not a defect)."""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import headers

pytestmark = pytest.mark.asyncio


def _trickles(seen):
    """The player's candidate PATCHes (trickle-ice-sdpfrag bodies without new ICE credentials is a
    trickle; an If-Match of * marks a restart, which is not graded here)."""
    return [p for p in seen.by_method("PATCH") if (p.header("If-Match") or "").strip() not in ("*", '"*"')
            and headers.media_type(p.header("Content-Type")) != headers.SDP]


@pytest.mark.requirement("WHEPL-4.4.1-8", "WHEP01-4.4-15")
async def test_player_puts_no_entity_tag_condition_on_delete(client_case):
    """SHOULD NOT: a DELETE needs no ICE-session match, so it carries no If-Match / If-None-Match."""
    seen = await client_case.observe("whep", "plain")
    deletes = seen.deletes()
    if not deletes:
        client_case.not_applicable(f"the player sent no DELETE to its session: {seen.seen()}")
    conditions = [(h, d.header(h)) for d in deletes for h in ("If-Match", "If-None-Match") if d.header(h) is not None]
    client_case.expect(not conditions, "WHEPL-4.4.1-8", "WHEP01-4.4-15",
                       message=f"the DELETE carried entity-tag conditions {conditions}")


@pytest.mark.requirement("WHEPL-4.4.2-9", "WHEP01-4.4-13")
async def test_player_trickles_with_if_match_of_the_latest_entity_tag(client_case):
    """A trickle PATCH carries If-Match with the entity-tag the player last got (the 201's ETag here:
    no restart came between). draft-ietf-wish-whep-03 has this as WHEPL-4.4.2-9 ("sessions and players
    that trickle rely on entity-tags and conditional requests"), a joint row the server cases grade too."""
    seen = await client_case.observe("whep", "plain")
    trickles = _trickles(seen)
    created = seen.created()
    if not trickles or created is None:
        client_case.not_applicable(f"the player did not trickle candidates to a session: {seen.seen()}")
    tag = created.response_header("ETag")
    if tag is None:
        client_case.not_applicable("the 201 carried no ETag, so there was no entity-tag to send")
    sent = [p.header("If-Match") for p in trickles]
    client_case.expect(all(s == tag for s in sent), "WHEP01-4.4-13", "WHEPL-4.4.2-9",
                       message=f"the 201's ETag was {tag}; the trickle PATCHes carried If-Match {sent}")


@pytest.mark.requirement("WHEPL-4.4.2-4", "WHEP01-4.4-21")
async def test_player_holds_candidates_back_until_the_201(client_case):
    """MUST: no candidate PATCH leaves before the 201 has arrived. The front stamps the 201 answered
    before it writes it out, so a PATCH that reached the front earlier was sent before the player
    could have read it (to whatever URL: the session URL is not known yet, only the endpoint's)."""
    seen = await client_case.observe("whep", "plain")
    trickles = _trickles(seen)
    created = seen.created()
    if not trickles:
        client_case.not_applicable(f"the player did not trickle candidates: {seen.seen()}")
    arrived = created.answered_at if created is not None and created.answered_at is not None else float("inf")
    early = [p.line() for p in trickles if p.sent_at < arrived]
    client_case.expect(not early, "WHEPL-4.4.2-4", "WHEP01-4.4-21",
                       message=f"PATCHes sent before the 201 arrived: {early}; all requests: {seen.seen()}")
