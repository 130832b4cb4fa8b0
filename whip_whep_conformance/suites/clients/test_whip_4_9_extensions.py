"""RFC 9725 §4.9 as the client's side of it: a Link it does not know is no reason to give up."""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol.link import parse_links

pytestmark = pytest.mark.asyncio

KNOWN = {"ice-server"}


@pytest.mark.requirement("WHIP-4.9-3")
async def test_client_ignores_a_link_it_does_not_know(client_case):
    """MUST: the 201 carries a Link with an unknown rel; the client still publishes, until it is told to
    stop (a client that gave up exits by itself before the SIGINT)."""
    seen = await client_case.observe("whip", "unknown-link")
    created = seen.created()
    if created is None:
        client_case.not_applicable(f"the client made no session (no 201): {seen.seen()}")
    links = parse_links([v for k, v in created.response_headers if k.lower() == "link"])
    unknown = [str(link) for link in links if not set(link.rels) & KNOWN]
    if not unknown:
        client_case.not_applicable("the 201 carried no Link with an unknown rel (the server could not add one)")
    if seen.stopped.how == "manual":
        client_case.not_applicable("a person stopped the client (--manual): whether it gave up by itself is not seen")
    control = await client_case.observe("whip", "plain")
    if control.stopped.how == "exited by itself":  # the control: it runs until told to stop without the Link
        client_case.not_applicable("the client exits by itself in the plain scenario too: giving up is not the Link's doing")
    client_case.expect(seen.stopped.how != "exited by itself" and seen.up, "WHIP-4.9-3",
                       message=f"with the Link {unknown[0]} on the 201 the client "
                               + (f"exited by itself ({seen.stopped.exit_code}) before it was told to stop"
                                  if seen.stopped.how == "exited by itself" else "never connected its session"))
