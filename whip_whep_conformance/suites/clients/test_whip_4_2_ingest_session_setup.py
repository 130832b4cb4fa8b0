"""RFC 9725 §4.2 as the client's side of it: the offer POSTed, the session ended by DELETE."""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import headers

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.2-1")
async def test_client_posts_its_offer_to_the_endpoint(client_case):
    """The client makes a JSEP offer and POSTs it to the endpoint URL it was given."""
    seen = await client_case.observe("whip", "plain")
    offer = seen.offer()
    client_case.expect(offer is not None and any(m.kind in ("audio", "video") for m in offer.media), "WHIP-4.2-1",
                       message=f"no POST to the endpoint URL {seen.endpoint_path} carried an SDP offer with media; "
                               f"the client sent: {seen.seen()}")


@pytest.mark.requirement("WHIP-4.2-2")
async def test_client_types_its_offer_application_sdp(client_case):
    """The offer POST is typed application/sdp."""
    seen = await client_case.observe("whip", "plain")
    posts = seen.endpoint_posts()
    if not posts:
        client_case.not_applicable(f"the client sent no POST to the endpoint: {seen.seen()}")
    types = [p.header("Content-Type") for p in posts]
    client_case.expect(all(headers.media_type(t) == headers.SDP for t in types), "WHIP-4.2-2",
                       message=f"the endpoint POSTs were typed {types}")


@pytest.mark.requirement("WHIP-4.2-14")
async def test_client_ends_its_session_with_delete_on_the_location(client_case):
    """Told to stop (SIGINT), the client DELETEs the session URL the 201's Location named."""
    seen = await client_case.observe("whip", "plain")
    if seen.created() is None:
        client_case.not_applicable(f"the client made no session (no 201): {seen.seen()}")
    deletes = seen.deletes()
    client_case.expect(bool(deletes), "WHIP-4.2-14",
                       message=f"after {seen.stopped.how} the client exited ({seen.stopped.exit_code}) "
                               f"without a DELETE on {seen.session_url()}; it sent: {seen.seen()}")
