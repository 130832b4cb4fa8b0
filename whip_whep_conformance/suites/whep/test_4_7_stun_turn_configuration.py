"""WHEP STUN/TURN server configuration — draft-ietf-wish-whep-03 §4.7, draft-murillo-whep-01 §4.7:
the 201 may name ICE servers in Link rel="ice-server" headers, in RFC 9725's format."""

import pytest

from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.7-1", "WHEP01-4.7-1")
async def test_201_may_name_ice_servers(case):
    """POST a viewer offer: the 201 may name STUN/TURN servers in Link rel="ice-server" headers (MAY)."""
    urls = await case.live_input()
    _, posted = await case.play(urls)
    if posted.status != 201:
        case.not_applicable(f"no 201 to look at: the POST got {posted.describe()}")
    servers = [link for link in case.links(posted.response) if "ice-server" in link.rels]
    req = rules.in_force("ice-server-links", "whep", case.target.whip_profile, case.target.whep_profile)
    case.capability(bool(servers), req, f"the 201 names {len(servers)} STUN/TURN server(s) {[s.target for s in servers]}")
