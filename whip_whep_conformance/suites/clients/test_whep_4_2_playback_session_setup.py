"""draft-ietf-wish-whep-03 §4.2 (draft-murillo-whep-01 §4.1, §4.3) as the player's side of it: the
offer POSTed, its media directions, and what a player does with a 409 before anyone publishes."""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import headers, profiles

from ._whep import in_force

pytestmark = pytest.mark.asyncio


def _asked_for_a_server_offer(client_case, seen) -> None:
    """draft-murillo-whep-01 §4.2 lets a player start with a bodiless POST (Accept: application/sdp) and
    answer the server's offer instead: such a player made no offer of its own to grade."""
    posts = seen.endpoint_posts()
    if client_case.target.whep_profile == profiles.MURILLO_01 and posts and not posts[0].body.strip():
        client_case.not_applicable("the player asked for the server's offer with a bodiless POST "
                                   "(draft-murillo-whep-01 §4.2), so it made no offer of its own")


@pytest.mark.requirement("WHEPL-4.2-1", "WHEP01-4.1-1")
async def test_player_posts_its_offer_to_the_endpoint(client_case):
    """The player makes a JSEP offer and POSTs it to the endpoint URL it was given."""
    seen = await client_case.observe("whep", "plain")
    _asked_for_a_server_offer(client_case, seen)
    offer = seen.offer()
    client_case.expect(offer is not None and any(m.kind in ("audio", "video") for m in offer.media),
                       "WHEPL-4.2-1", "WHEP01-4.1-1",
                       message=f"no POST to the endpoint URL {seen.endpoint_path} carried an SDP offer with media; "
                               f"the player sent: {seen.seen()}")


@pytest.mark.requirement("WHEPL-4.2-2", "WHEP01-4.1-2")
async def test_player_types_its_offer_application_sdp(client_case):
    """Every endpoint POST is typed application/sdp and has the offer as its body."""
    seen = await client_case.observe("whep", "plain")
    posts = seen.endpoint_posts()
    if not posts:
        client_case.not_applicable(f"the player sent no POST to the endpoint: {seen.seen()}")
    _asked_for_a_server_offer(client_case, seen)
    types = [p.header("Content-Type") for p in posts]
    client_case.expect(all(headers.media_type(t) == headers.SDP for t in types) and seen.offer() is not None,
                       "WHEPL-4.2-2", "WHEP01-4.1-2",
                       message=f"the endpoint POSTs were typed {types}"
                               + ("" if seen.offer() is not None else " and no body parsed as SDP"))


@pytest.mark.requirement("WHEPL-4.2.5-1", "WHEP01-4.1-4")
async def test_player_offers_recvonly(client_case):
    """SHOULD: the offer's audio and video sections are recvonly (sendrecv is allowed, but not asked for)."""
    seen = await client_case.observe("whep", "plain")
    offer = seen.offer()
    if offer is None:
        client_case.not_applicable(f"the player POSTed no SDP offer: {seen.seen()}")
    directions = [(m.kind, m.direction) for m in offer.media if m.kind in ("audio", "video")]
    client_case.expect(bool(directions) and all(d == "recvonly" for _, d in directions), "WHEPL-4.2.5-1", "WHEP01-4.1-4",
                       message=f"the offer's media directions: {directions}")


@pytest.mark.requirement("WHEPL-4.2.5-3")
async def test_player_never_offers_sendonly_or_inactive(client_case):
    """MUST NOT: no section of the offer is sendonly or inactive (a player receives; draft-murillo-whep-01
    states only the SHOULD, so under it this is Info)."""
    seen = await client_case.observe("whep", "plain")
    offer = seen.offer()
    if offer is None:
        client_case.not_applicable(f"the player POSTed no SDP offer: {seen.seen()}")
    wrong = [(m.mid, m.kind, m.direction) for m in offer.media if m.direction in ("sendonly", "inactive")]
    client_case.expect(not wrong, "WHEPL-4.2.5-3", message=f"offer sections marked sendonly/inactive: {wrong}")


@pytest.mark.requirement("WHEPL-4.2.8-2", "WHEP01-4.3-2")
async def test_player_retries_a_409_after_its_retry_after(client_case):
    """MAY: told 409 + Retry-After (nobody publishes yet), the player tries again, no sooner than the
    Retry-After says and backing off. Supported when a retry came at or after the Retry-After; a
    retry sooner, or none, is Unsupported (RFC 9110 §10.2.3 says the client "ought to" wait: not a MUST)."""
    req_id = in_force(client_case, "WHEPL-4.2.8-2", "WHEP01-4.3-2")
    seen = await client_case.observe("whep", "not-published")
    posts = seen.endpoint_posts()
    refused = next((p for p in posts if p.status == 409), None)
    if refused is None:
        client_case.not_applicable(f"no POST of the player's got the scenario's 409: {seen.seen()}")
    wait_s = headers.delay_seconds(refused.response_header("Retry-After"))
    later = [p for p in posts if p.sent_at > (refused.answered_at or refused.sent_at)]
    # the front sets answered_at before it writes the 409 out, so the player's wait is at least the gap;
    # 0.2 s of slack is for the player's own clock granularity (a retry "at" the Retry-After)
    gaps = [round(b.sent_at - (a.answered_at or a.sent_at), 2) for a, b in zip(posts, posts[1:])]
    honoured = bool(later) and wait_s is not None and gaps[0] >= wait_s - 0.2
    client_case.capability(honoured, req_id,
                           f"{len(posts)} POST(s) to the endpoint; the 409 said Retry-After {wait_s}; "
                           f"seconds from each answer to the next POST: {gaps or 'no retry'}"
                           + ("" if len(gaps) < 2 else f" ({'backing off' if _backs_off(gaps) else 'not backing off'})"))


def _backs_off(gaps: list[float]) -> bool:
    """Each wait longer than the one before (beyond 0.2 s of clock slack): equal waits are no back-off."""
    return all(b > a + 0.2 for a, b in zip(gaps, gaps[1:]))
