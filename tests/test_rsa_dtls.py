"""The reference server takes peers whose DTLS certificate is RSA, in both DTLS roles it can be given.

GStreamer 1.22's webrtcbin (Meetecho's simple-whip-client) makes only RSA certificates; aiortc makes
ECDSA ones and its DTLS client offers only ECDHE-ECDSA suites. The test peer here is an aiortc peer with
an RSA certificate whose DTLS offers what an OpenSSL default would (ECDHE-RSA and ECDHE-ECDSA suites):

- server as DTLS **server**: an RSA publisher offers `a=setup:actpass`; the server answers `passive`
  (RFC 9725 §4.4.4 expects the media server to take the server role) and a viewer decodes its video;
- server as DTLS **client**, where the peer asks for it and must then be an RSA DTLS server the server's
  client offers RSA suites to: a publisher offering `a=setup:passive` (as FFmpeg 8's WHIP muxer does),
  and a viewer answering the server's offer (draft-murillo-whep-01 §4.2, empty POST) with `passive`.

Against the server before it answered `passive` and offered RSA suites, both failed ("no shared cipher").
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiortc import RTCCertificate, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import SRTPProtectionProfile, generate_certificate
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import SSL

from whip_whep_conformance.harness.embedded import EmbeddedServer
from tests.plain_shell import new_live_input
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player
from whip_whep_conformance.protocol import profiles, sdp

# What an OpenSSL-based peer with an RSA key can negotiate: RSA-authenticated suites when it is the DTLS
# server, and both kinds when it is the client (the server's certificate picks).
RSA_PEER_CIPHERS = (b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:"
                    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA")
FRAMES = 20


class RsaCertificate(RTCCertificate):
    """A 2048-bit RSA DTLS certificate, as GStreamer's dtls elements make."""

    @classmethod
    def generateCertificate(cls) -> "RsaCertificate":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key=key, cert=generate_certificate(key))  # type: ignore[arg-type]

    def _create_ssl_context(self, srtp_profiles: list[SRTPProtectionProfile]) -> SSL.Context:
        ctx = super()._create_ssl_context(srtp_profiles)
        ctx.set_cipher_list(RSA_PEER_CIPHERS)
        return ctx


def with_rsa_certificate(pc: RTCPeerConnection) -> RTCPeerConnection:
    """Give `pc` an RSA certificate (aiortc makes one ECDSA certificate per peer connection, privately,
    and hands it to each DTLS transport as a transceiver is added: so before any is)."""
    certificates = pc._RTCPeerConnection__certificates  # type: ignore[attr-defined]
    assert len(certificates) == 1 and not pc.getTransceivers(), "set the certificate before any transceiver"
    certificates[0] = RsaCertificate.generateCertificate()
    return pc


def rsa_peers(monkeypatch) -> None:
    """From here on, the suite's publisher() and Player() make RSA-certificate peers."""
    monkeypatch.setattr(player, "new_peer_connection",
                        lambda urls=None: with_rsa_certificate(peer.new_peer_connection(urls)))


def _is_rsa(pc: RTCPeerConnection, sdp_text: str) -> bool:
    """Whether `sdp_text` carries the fingerprint of `pc`'s RSA certificate."""
    (certificate,) = pc._RTCPeerConnection__certificates  # type: ignore[attr-defined]
    return isinstance(certificate, RsaCertificate) and certificate.getFingerprints()[0].value in sdp_text


def _setups(text: str) -> list[str | None]:
    return [m.setup for m in sdp.SessionDescription.parse(text).media]


async def _connected(pc: RTCPeerConnection) -> str:
    return await peer.wait_connected(pc, 15)


async def _rsa_publisher_to_viewer(server: EmbeddedServer, monkeypatch, offer_setup: str) -> dict:
    urls = new_live_input(server)
    viewer = player.Player([])
    rsa_peers(monkeypatch)
    sender = player.publisher("vp8", [])
    seen: dict = {}
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            offer = (await peer.local_offer(sender)).replace("a=setup:actpass", f"a=setup:{offer_setup}")
            seen["offer_is_rsa"] = _is_rsa(sender, offer)
            posted = await http.post(urls.whip_url, content=offer, headers={"Content-Type": "application/sdp"})
            seen["answer_setup"] = _setups(posted.text) if posted.status_code == 201 else posted.status_code
            await sender.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
            seen["publisher"] = await _connected(sender)
            played = await http.post(urls.whep_url, content=await peer.local_offer(viewer.pc),
                                     headers={"Content-Type": "application/sdp"})
            await viewer.pc.setRemoteDescription(RTCSessionDescription(played.text, "answer"))
            seen["frames"] = await viewer.wait_frames("video", FRAMES, 15) and viewer.streams["video"].frames
    finally:
        await viewer.close()
        await sender.close()
    return seen


async def _rsa_viewer_as_dtls_server(server: EmbeddedServer, monkeypatch) -> dict:
    urls = new_live_input(server)
    sender = player.publisher("vp8", [])
    rsa_peers(monkeypatch)
    viewer = player.Player([])
    seen: dict = {}
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            posted = await http.post(urls.whip_url, content=await peer.local_offer(sender),
                                     headers={"Content-Type": "application/sdp"})
            await sender.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
            seen["publisher"] = await _connected(sender)
            offered = await http.post(urls.whep_url)  # no body: the server offers (draft-murillo-whep-01 §4.2)
            seen["server_offer"] = offered.status_code
            await viewer.pc.setRemoteDescription(RTCSessionDescription(offered.text, "offer"))
            # aiortc would answer active (DTLS client); passive makes the server the DTLS client.
            answer = (await viewer.pc.createAnswer()).sdp.replace("a=setup:active", "a=setup:passive")
            await viewer.pc.setLocalDescription(RTCSessionDescription(answer, "answer"))
            answer = viewer.pc.localDescription.sdp
            seen["answer_setup"], seen["answer_is_rsa"] = _setups(answer), _is_rsa(viewer.pc, answer)
            session_url = httpx.URL(urls.whep_url).join(offered.headers["Location"])
            patched = await http.patch(session_url, content=answer, headers={"Content-Type": "application/sdp"})
            seen["answer_patch"] = patched.status_code
            seen["viewer"] = await _connected(viewer.pc)
            seen["frames"] = await viewer.wait_frames("video", FRAMES, 15) and viewer.streams["video"].frames
    finally:
        await viewer.close()
        await sender.close()
    return seen


@pytest.mark.parametrize("offer_setup, answer_setup", [("actpass", "passive"), ("passive", "active")],
                         ids=["actpass-server-is-dtls-server", "passive-server-is-dtls-client"])
def test_rsa_publisher_is_taken_in_either_dtls_role(make_server, monkeypatch, offer_setup, answer_setup):
    """actpass: what RFC 8842 asks of an offer (GStreamer's webrtcbin); passive: what FFmpeg 8's WHIP muxer offers."""
    seen = asyncio.run(_rsa_publisher_to_viewer(make_server(profiles.STANDARD), monkeypatch, offer_setup))
    assert (seen["offer_is_rsa"], seen["answer_setup"], seen["publisher"]) == (
        True, [answer_setup] * 2, "connected"), (
        f"RFC 9725 §4.4.4 / RFC 8842 §5.3: an RSA-certificate publisher's {offer_setup} offer should be answered "
        f"{answer_setup} and connect: {seen}")
    assert seen["frames"] >= FRAMES, f"no video from the RSA publisher reached a viewer: {seen}"


def test_rsa_viewer_is_served_with_the_server_as_dtls_client(make_server, monkeypatch):
    seen = asyncio.run(_rsa_viewer_as_dtls_server(make_server(profiles.CLOUDFLARE), monkeypatch))
    assert (seen["server_offer"], seen["answer_is_rsa"], seen["answer_setup"], seen["answer_patch"]) == (
        201, True, ["passive", "passive"], 204), f"the server's offer was not answered as planned: {seen}"
    assert (seen["viewer"], seen["frames"] >= FRAMES) == ("connected", True), (
        f"the server as DTLS client did not connect to an RSA DTLS server (ECDHE-RSA suites) or no video came: {seen}")
