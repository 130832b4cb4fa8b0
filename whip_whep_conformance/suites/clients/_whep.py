"""What the WHEP client cases share: the requirement ID a profile pair grades, and plain readings of
what a player sent (its Authorization headers, its PATCHes, the Links it was given)."""

from __future__ import annotations

from whip_whep_conformance.harness.clients.observatory import Request
from whip_whep_conformance.harness.clients.observed import Observed
from whip_whep_conformance.protocol import headers, sdp
from whip_whep_conformance.protocol.link import Link, parse_links
from whip_whep_conformance.registry import get as requirement


def in_force(client_case, *ids: str) -> str:
    """The first of `ids` the pair's WHEP profile has (capability() takes one ID, expect() picks itself)."""
    target = client_case.target
    return next((i for i in ids if requirement(i).applies_to(target.whip_profile, target.whep_profile)), ids[0])


def links(request: Request) -> list[Link]:
    """Every Link the answer to `request` carried (each field line may hold several)."""
    return parse_links([v for k, v in request.response_headers if k.lower() == "link"])


def session_requests(seen: Observed) -> list[Request]:
    """The player's requests to the endpoint and to its session: the ones a token must go on (CORS
    preflight OPTIONS excepted, draft-ietf-wish-whep-03 §4.8.1)."""
    ours = set(map(id, seen.endpoint_posts())) | set(map(id, seen.to_session()))
    return [r for r in seen.requests if id(r) in ours and r.method != "OPTIONS"]


def parsed(text: str) -> sdp.SessionDescription | None:
    try:
        return sdp.SessionDescription.parse(text)
    except (sdp.SdpSyntaxError, ValueError, KeyError, IndexError):
        return None


def is_sdp(request: Request) -> bool:
    return headers.media_type(request.header("Content-Type")) == headers.SDP


def connected(seen: Observed) -> bool | None:
    """Whether the player's session came up, by the server's account; None when the server gave no
    account of its sessions (GET /client/v4/sessions answered nothing), so the cases grade what the
    HTTP exchange shows instead of calling a session down that nobody reported on."""
    if not seen.sessions and not seen.sessions_before_stop and not seen.up:
        return None
    return seen.up
