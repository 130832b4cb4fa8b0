"""RFC 9725 §4.4 as the client's side of it: what its offer has to be (bundle, one stream, actpass, full ICE)."""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.clients.observed import Observed
from whip_whep_conformance.protocol import sdp

from ._certificate import grade_certificate

pytestmark = pytest.mark.asyncio


def _offer(client_case, seen: Observed) -> sdp.SessionDescription:
    offer = seen.offer()
    if offer is None or not any(m.kind in ("audio", "video") for m in offer.media):
        client_case.not_applicable(f"no offer with media to read (WHIP-4.2-1 grades that): {seen.seen()}")
    return offer


@pytest.mark.requirement("WHIP-4.4.1-4")
async def test_client_offer_marks_bundled_sections_rtcp_mux_only(client_case):
    """Every bundled m-section of the offer carries a=rtcp-mux-only (RFC 8858): only an offer can (an
    answer must not, RFC 8858 §4.2), so this is the client's half of the rule."""
    seen = await client_case.observe("whip", "plain")
    offer = _offer(client_case, seen)
    bundled = [m for m in offer.media if m.mid in offer.bundled_mids]
    if not bundled:
        client_case.not_applicable("the offer bundles no m-section (WHIP-4.4.1 bundling is graded elsewhere)")
    missing = [m.mid for m in bundled if not m.rtcp_mux_only]
    client_case.expect(not missing, "WHIP-4.4.1-4", message=f"bundled m-sections {missing} lack a=rtcp-mux-only")


@pytest.mark.requirement("WHIP-4.4.2-1")
async def test_client_offer_names_one_media_stream(client_case):
    """Every m-section's msid names the same MediaStream (a section without msid names none: it fails too)."""
    seen = await client_case.observe("whip", "plain")
    offer = _offer(client_case, seen)
    streams = [m.msid for m in offer.media if m.kind in ("audio", "video")]
    client_case.expect(len(set(streams)) == 1 and None not in streams, "WHIP-4.4.2-1",
                       message=f"the offer's m-sections name the MediaStreams {streams}")


@pytest.mark.requirement("WHIP-4.4.2-2")
async def test_client_stream_has_at_most_one_audio_and_one_video_track(client_case):
    """The stream has at least one track, at most one audio and at most one video (each track is an
    m-section that sends: rejected or inactive sections carry no track)."""
    seen = await client_case.observe("whip", "plain")
    offer = _offer(client_case, seen)
    tracks = [m.kind for m in offer.media if m.kind in ("audio", "video") and not m.rejected
              and m.direction in ("sendonly", "sendrecv")]
    ok = 1 <= len(tracks) and tracks.count("audio") <= 1 and tracks.count("video") <= 1
    client_case.expect(ok, "WHIP-4.4.2-2", message=f"the offer sends the tracks {tracks}")


@pytest.mark.requirement("WHIP-4.4.4-1")
async def test_client_offer_uses_setup_actpass(client_case):
    """SHOULD: the offer leaves the DTLS role to the endpoint (a=setup:actpass, RFC 8842)."""
    seen = await client_case.observe("whip", "plain")
    offer = _offer(client_case, seen)
    setups = [m.setup for m in offer.media if not m.rejected]
    client_case.expect(all(s == "actpass" for s in setups), "WHIP-4.4.4-1", message=f"the offer's a=setup: {setups}")


@pytest.mark.requirement("WHIP-4.4.5-3")
async def test_client_uses_full_ice(client_case):
    """MUST: the client implements full ICE. Two signs, both needed: its offer does not declare ice-lite,
    and its session connected by the server's account (the server is ice-full and controlled, the
    offerer; a client that never sent the connectivity checks ICE needs would not get there)."""
    seen = await client_case.observe("whip", "plain")
    offer = _offer(client_case, seen)
    if offer.ice_lite:
        client_case.expect(False, "WHIP-4.4.5-3", message="the offer declares a=ice-lite")
    if seen.created() is None:
        client_case.not_applicable(f"the client made no session (no 201): {seen.seen()}")
    if not seen.up and not seen.sessions_before_stop:
        # the server gave no account of its sessions (GET /client/v4/sessions): half the rule can't be seen
        client_case.not_applicable("the offer declares no ice-lite, but the server gave no account of the session "
                                   "(GET /client/v4/sessions) to tell whether ICE connected")
    client_case.expect(seen.up, "WHIP-4.4.5-3",
                       message=f"the session never connected by the server's account: {seen.sessions_before_stop}")


@pytest.mark.requirement("SDP-DTLS-1")
async def test_client_presents_the_certificate_its_offer_names(client_case):
    """MUST: the certificate the client presents in its DTLS handshake (RFC 9725 §4.4 leaves media security
    to DTLS-SRTP, RFC 8842) matches an a=fingerprint of its offer (RFC 8122 §5). Read from the server's
    account of the handshake, which it records before its own check fails the transport on a mismatch."""
    grade_certificate(client_case, await client_case.observe("whip", "plain"))
