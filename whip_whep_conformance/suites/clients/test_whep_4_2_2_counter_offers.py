"""draft-ietf-wish-whep-03 §3, §4.2.2, §4.2.3, §4.2.5 as the player's side of it: the endpoint
refuses the player's offer with 406 and a counter-offer, which the player answers by PATCH.
draft-murillo-whep-01 has no counter-offers (its server offers only to a bodiless POST), so under the
Cloudflare pair these cases are Not applicable without running the scenario."""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.case import COUNTER_OFFER_PROFILES
from whip_whep_conformance.protocol import headers, profiles

from ._whep import connected, is_sdp, parsed

pytestmark = pytest.mark.asyncio


async def _countered(client_case):
    """The scenario's observations and the 406 the player got (Not applicable when there was none)."""
    if client_case.target.whep_profile not in COUNTER_OFFER_PROFILES:
        client_case.not_applicable(f"{client_case.target.whep_profile} has no counter-offers (draft-ietf-wish-whep-03 §4.2.2)")
    seen = await client_case.observe("whep", "counter-offer")
    countered = next((p for p in seen.endpoint_posts() if p.status == 406), None)
    if countered is None:
        client_case.not_applicable(f"the endpoint made no counter-offer to the player: {seen.seen()}")
    return seen, countered


def _answer_patches(seen):
    """The PATCHes to the session URL the 406's Location named that carry SDP (not trickle fragments)."""
    return [p for p in seen.patches() if parsed(p.text) is not None and not p.text.lstrip().startswith("a=")]


@pytest.mark.requirement("WHEPL-3-1")
async def test_player_takes_a_406_counter_offer_to_a_session(client_case):
    """MUST be ready for either reply: after the 406 the player goes on to a session (it does not take
    the 406 as the failure its status class would otherwise say): its answer PATCH was taken (2xx) and,
    where the server reports its sessions, the session connected."""
    seen, _ = await _countered(client_case)
    taken = any(200 <= p.status < 300 for p in _answer_patches(seen))
    client_case.expect(taken and connected(seen) is not False, "WHEPL-3-1",
                       message=f"after the 406 the player's answer was not taken or its session never connected; it sent: {seen.seen()}; "
                               f"it ended {seen.stopped.how}, exit {seen.stopped.exit_code}")


@pytest.mark.requirement("WHEPL-4.2.3-1")
async def test_player_patches_an_answer_to_the_session_after_a_406(client_case):
    """MUST: setup is completed by a PATCH to the session URL (the 406's Location) with an SDP body."""
    seen, countered = await _countered(client_case)
    client_case.expect(bool(_answer_patches(seen)), "WHEPL-4.2.3-1",
                       message=f"the 406 named {seen.session_url()}; no PATCH with SDP went there; "
                               f"the player sent: {seen.seen()}")


@pytest.mark.requirement("WHEPL-4.2.2-5")
async def test_player_types_its_answer_patch_application_sdp(client_case):
    """MUST: the answer PATCH to the session URL is typed application/sdp."""
    seen, _ = await _countered(client_case)
    answers = _answer_patches(seen)
    if not answers:
        client_case.not_applicable(f"the player PATCHed no answer to its session: {seen.seen()}")
    types = [p.header("Content-Type") for p in answers]
    client_case.expect(all(is_sdp(p) for p in answers), "WHEPL-4.2.2-5", message=f"the answer PATCHes were typed {types}")


@pytest.mark.requirement("WHEPL-4.2.2-4")
async def test_player_answers_the_counter_offer_as_jsep_says(client_case):
    """MUST: the PATCH body is a JSEP initial answer to the counter-offer: its m-sections are the
    counter-offer's (same kinds and mids, in order: RFC 3264 §6, RFC 9429 §5.3.1) and its a=setup is
    active or passive (an answerer never says actpass, RFC 8842 §5.3): a player re-sending its own
    offer fails here."""
    seen, countered = await _countered(client_case)
    answers = _answer_patches(seen)
    if not answers:
        client_case.not_applicable(f"the player PATCHed no answer to its session: {seen.seen()}")
    offer, answer = parsed(countered.response_body.decode("utf-8", "replace")), parsed(answers[0].text)
    if offer is None:
        client_case.not_applicable("the counter-offer did not parse (the reference server's, not the player's)")
    offered = [(m.kind, m.mid) for m in offer.media]
    answered = [(m.kind, m.mid) for m in answer.media]
    setups = [m.setup for m in answer.media if m.port != 0]
    client_case.expect(answered == offered and all(s in ("active", "passive") for s in setups), "WHEPL-4.2.2-4",
                       message=f"counter-offer sections {offered}; the PATCH's {answered}, a=setup {setups}")


@pytest.mark.requirement("WHEPL-4.2.5-8")
async def test_player_answers_the_counter_offer_recvonly(client_case):
    """MUST: every accepted section of the answer is recvonly (the player only receives)."""
    seen, _ = await _countered(client_case)
    answers = _answer_patches(seen)
    if not answers:
        client_case.not_applicable(f"the player PATCHed no answer to its session: {seen.seen()}")
    directions = [(m.mid, m.direction) for m in parsed(answers[0].text).media if m.port != 0]
    client_case.expect(bool(directions) and all(d == "recvonly" for _, d in directions), "WHEPL-4.2.5-8",
                       message=f"the answer's directions: {directions}")
