"""draft-ietf-wish-whep-03 §4.5.3 (draft-murillo-whep-01 §4.4): the player runs full ICE."""

from __future__ import annotations

import pytest

from ._certificate import grade_certificate
from ._whep import connected

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHEPL-4.5.3-3", "WHEP01-4.4-4")
async def test_player_runs_full_ice(client_case):
    """The offer does not declare a=ice-lite (RFC 8839 §5.3: a lite agent says so), and the player's
    session came up against the reference server, a full agent too, whose checks a lite agent would
    only answer. What an agent does inside is not visible; its declaration and its connecting are."""
    seen = await client_case.observe("whep", "plain")
    offer = seen.offer()
    if offer is None:
        client_case.not_applicable(f"the player POSTed no SDP offer: {seen.seen()}")
    up = connected(seen)  # None: the server gave no account of its sessions; the declaration alone grades
    client_case.expect(not offer.ice_lite and up is not False, "WHEPL-4.5.3-3", "WHEP01-4.4-4",
                       message=("the offer declares a=ice-lite" if offer.ice_lite else
                                f"the player's session never connected (after {seen.stopped.how}, exit {seen.stopped.exit_code})"))


@pytest.mark.requirement("SDP-DTLS-1")
async def test_player_presents_the_certificate_its_sdp_names(client_case):
    """MUST: the certificate the player presents in its DTLS handshake (draft-ietf-wish-whep-03 §4.5 and
    draft-murillo-whep-01 §4.4 leave media security to DTLS-SRTP, RFC 8842) matches an a=fingerprint of
    its SDP: its offer, or its answer to a server offer (RFC 8122 §5). Read from the server's account of
    the handshake, which it records before its own check fails the transport on a mismatch."""
    grade_certificate(client_case, await client_case.observe("whep", "plain"))
