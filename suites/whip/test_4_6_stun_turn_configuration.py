"""RFC 9725 §4.6 — STUN/TURN server configuration in Link rel="ice-server" headers."""

import pytest

from whip_whep.link import LinkSyntaxError, ice_server_problems, parse_links

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
