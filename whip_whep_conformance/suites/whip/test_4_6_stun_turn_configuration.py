"""RFC 9725 §4.6 — STUN/TURN server configuration in Link rel="ice-server" headers."""

import pytest

from whip_whep_conformance.harness.judgments.ice_servers import ice_server_problems
from whip_whep_conformance.protocol.link import LinkSyntaxError, parse_links

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.6-2")
async def test_ice_server_links_are_well_formed(case):
    """POST a valid offer: every Link on the 201 is RFC 8288, and each ice-server entry is usable."""
    _, _, posted = await case.publish()
    values = posted.response.headers.get_list("Link")
    if not values:
        case.not_applicable("the 201 carries no Link header (no STUN/TURN configuration offered)")
    try:
        links = parse_links(values)
        problem = ""
    except LinkSyntaxError as exc:
        links, problem = [], str(exc)
    case.expect(not problem, "WHIP-4.6-2", message=f"Link {values} does not parse as RFC 8288: {problem}")
    servers = [link for link in links if "ice-server" in link.rels]
    problems = [p for link in servers for p in ice_server_problems(link)]
    case.expect(not problems, "WHIP-4.6-2", message="; ".join(problems))


def _ice_servers(case, response):
    return [link for link in case.links(response) if "ice-server" in link.rels]


@pytest.mark.requirement("WHIP-4.6-1")
async def test_201_may_name_ice_servers(case):
    """POST a valid offer: the 201 may name STUN/TURN servers in Link rel="ice-server" headers (MAY)."""
    _, _, posted = await case.publish()
    servers = _ice_servers(case, posted.response)
    case.capability(bool(servers), "WHIP-4.6-1",
                    f"the 201 names {len(servers)} STUN/TURN server(s) {[s.target for s in servers]}")


@pytest.mark.requirement("WHIP-4.6-3")
async def test_turn_links_carry_credentials(case):
    """Every turn:/turns: ice-server Link on the 201 has a username and a credential."""
    _, _, posted = await case.publish()
    turn = [s for s in _ice_servers(case, posted.response) if s.target.lower().startswith(("turn:", "turns:"))]
    if not turn:
        case.not_applicable("the 201 names no TURN server")
    lacking = [s.target for s in turn if not (s.params.get("username") and s.params.get("credential"))]
    case.expect(not lacking, "WHIP-4.6-3", message=f"TURN server(s) {lacking} come without username and credential")


@pytest.mark.requirement("WHIP-4.6-4")
async def test_plain_options_may_name_ice_servers(case):
    """A plain OPTIONS to the endpoint (not a CORS preflight) may carry the ice-server Links too (MAY)."""
    urls = await case.live_input()
    response = await case.signalling.request("OPTIONS", urls.whip_url)
    servers = _ice_servers(case, response)
    case.capability(bool(servers), "WHIP-4.6-4", f"OPTIONS answered {response.status_code} naming {len(servers)} ice-server(s)")
