"""RFC 9725 §4.3 as the client's side of it: PATCH bodies (§4.3.1), trickling (§4.3.2), restarts (§4.3.3).

The own client PATCHes only when it trickles (`--client-fault=trickle`, not a defect) or restarts ICE,
so in a clean run most of these are Not applicable: a client that never PATCHes keeps these rules trivially.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.clients.observed import RESTART_MARKERS, fragment_of
from whip_whep_conformance.protocol import headers, sdpfrag

pytestmark = pytest.mark.asyncio








@pytest.mark.requirement("WHIP-4.3.1-2")
async def test_client_patches_typed_trickle_ice_sdpfrag(client_case):
    """Every PATCH to the session is an RFC 8840 fragment typed application/trickle-ice-sdpfrag."""
    seen = await client_case.observe("whip", "plain")
    patches = seen.patches()
    if not patches:
        client_case.not_applicable("the client sent no PATCH to its session (it neither trickled nor restarted ICE)")
    bad = [f"{p.header('Content-Type')!r} ({'a fragment' if fragment_of(p) is not None else 'not a fragment'})"
           for p in patches if headers.media_type(p.header("Content-Type")) != headers.SDPFRAG or fragment_of(p) is None]
    client_case.expect(not bad, "WHIP-4.3.1-2", message=f"PATCHes to the session were typed {bad}")


@pytest.mark.requirement("WHIP-4.3.1-9")
async def test_client_puts_no_entity_tag_condition_on_delete(client_case):
    """SHOULD NOT: a DELETE has no ICE session to match, so it carries no If-Match / If-None-Match."""
    seen = await client_case.observe("whip", "plain")
    deletes = seen.deletes()
    if not deletes:
        client_case.not_applicable(f"the client sent no DELETE to its session: {seen.seen()}")
    conditions = [(k, v) for d in deletes for k, v in d.headers if k.lower() in ("if-match", "if-none-match")]
    client_case.expect(not conditions, "WHIP-4.3.1-9", message=f"the DELETE carried {conditions}")


@pytest.mark.requirement("WHIP-4.3.2-5")
async def test_client_trickles_nothing_before_the_201(client_case):
    """MUST: candidates wait for the 201 (the client cannot know the session URL before it). Every PATCH
    arrived at the front after the front had the 201 (answered_at is taken before the answer is even
    forwarded, so a client's PATCH cannot honestly precede it)."""
    seen = await client_case.observe("whip", "plain")
    patches = seen.by_method("PATCH")
    created = seen.created()
    if not patches:
        client_case.not_applicable("the client sent no PATCH at all (it did not trickle)")
    if created is None or created.answered_at is None:
        client_case.not_applicable(f"the client made no session (no 201): {seen.seen()}")
    early = [p.line() for p in patches if p.sent_at < created.answered_at]
    client_case.expect(not early, "WHIP-4.3.2-5",
                       message=f"PATCHes sent before the POST's 201 had arrived: {early}")


@pytest.mark.requirement("WHIP-4.3.2-6")
async def test_client_sends_its_buffered_candidates_in_one_patch(client_case):
    """SHOULD: what was buffered until the 201 goes in one aggregated PATCH. Which candidates were buffered
    is not visible from outside, but host candidates are, once the client has started gathering: they
    come from the local interfaces without a network round trip (RFC 8445 §5.1.1.1), so a client that
    gathered before its POST has them all long before an HTTP 201 arrives, and host candidates spread
    over several trickle PATCHes are buffered ones not aggregated. That it gathered before its POST shows
    only in an offer carrying a candidate: a client may apply its offer (RFC 9429 §3.5.1: gathering starts
    with setLocalDescription) only after the 201, and then holds back nothing and trickles each candidate
    as gathered, on the wire the same PATCHes as a buffering client's that does not aggregate. (Timing
    would not do: a srflx candidate gathered while the first PATCH is in flight may rightly go in a second.)"""
    seen = await client_case.observe("whip", "plain")
    trickles = seen.trickles()
    if not trickles:
        client_case.not_applicable("the client sent no trickle PATCH (it did not trickle)")
    hosts = [sum(" typ host" in c for m in f.media for c in m.candidates) if (f := fragment_of(p)) else 0
             for p in trickles]
    spread = sum(1 for n in hosts if n)
    offer = seen.offer()
    if offer is None or not any(m.candidates for m in offer.media):
        client_case.not_applicable(
            f"the client's offer carried no candidate, so nothing shows it had gathered any before the 201 and none "
            f"is known to have been held back (a client that gathers only after the 201 trickles them as they come); "
            f"its host candidates came in {spread} trickle PATCHes ({hosts} in each)")
    client_case.expect(spread <= 1, "WHIP-4.3.2-6",
                       message=f"the client's host candidates came in {spread} trickle PATCHes ({hosts} host "
                               "candidates in each) although its offer shows it had gathered before its POST, "
                               "not one aggregated PATCH")



@pytest.mark.requirement("WHIP-4.3.3-2")
async def test_client_restart_carries_new_credentials_and_candidates(client_case):
    """A restart PATCH has the client's fresh ice-ufrag/ice-pwd (not the offer's) and its new candidates."""
    seen = await client_case.observe("whip", "dropped-path")
    restarts = seen.restarts()
    if not restarts:
        client_case.not_applicable(f"the client sent no restart PATCH after its path was dropped: {seen.seen()}")
    bad = seen.restarts_without_fresh_ice()
    client_case.expect(not bad, "WHIP-4.3.3-2", message=f"restart PATCHes carried {bad}")


@pytest.mark.requirement("WHIP-4.3.3-3")
async def test_client_restart_carries_if_match_star(client_case):
    """A restart PATCH carries If-Match: "*" (the client cannot know the new ICE session's tag yet)."""
    seen = await client_case.observe("whip", "dropped-path")
    restarts = seen.restarts()
    if not restarts:
        client_case.not_applicable(f"the client sent no restart PATCH after its path was dropped: {seen.seen()}")
    tags = [p.header("If-Match") for p in restarts]
    client_case.expect(all((t or "").strip() in RESTART_MARKERS for t in tags), "WHIP-4.3.3-3",
                       message=f"restart PATCHes carried If-Match {tags}")
