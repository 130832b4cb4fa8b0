"""WHEP endpoint URL discoverability as the player's side of it — the editor's copy after
draft-ietf-wish-whep-03, §4.2 (standing in for draft-ietf-wish-whep-04: ../shared/specs/whep/SOURCES.md).

"WHEP players and generic video player SDKs MAY use HTTP HEAD requests to determine if a URL is a WHEP
endpoint." What a player then does with the answer ("it SHOULD automatically configure itself to use WHEP
protocol handling without requiring additional user configuration", WHEPE-4.2-6) is its configuration and
user interface: a client run tells the player it plays WHEP, so that row stays catalogued, not checked."""

from __future__ import annotations

import pytest

from whip_whep_conformance.registry import get as requirement

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPE-4.2-1")
async def test_player_may_ask_the_endpoint_with_head(client_case):
    """MAY: the player sends HEAD to the endpoint URL it was given (to learn it is a WHEP endpoint: the
    answer is 200 typed application/sdp). Supported if it did, at any time of the run; Unsupported if it
    went straight to the POST. Not applicable where the row is not in the WHEP profile in force."""
    target = client_case.target
    if not requirement("WHEPE-4.2-1").applies_to(target.whip_profile, target.whep_profile):
        client_case.not_applicable(f"WHEPE-4.2-1 is a rule of the editor's copy after draft-ietf-wish-whep-03 (§4.2 WHEP "
                                   f"Endpoint URL Discoverability), not of {target.whep_profile}")
    seen = await client_case.observe("whep", "plain")
    heads = [r for r in seen.by_method("HEAD") if r.path.split("?")[0] == seen.endpoint_path]
    answer = f" (answered {heads[0].status}, typed {heads[0].response_header('Content-Type')!r})" if heads else ""
    client_case.capability(bool(heads), "WHEPE-4.2-1",
                           f"the player sent {len(heads) or 'no'} HEAD to the endpoint URL {seen.endpoint_path}{answer}; "
                           f"it sent: {seen.seen()}")
