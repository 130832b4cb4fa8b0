"""The relay's contract with aiortc, and its codec rule, as a user of the server meets them."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

import httpx
import pytest
from aiortc import RTCSessionDescription
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTCRtpSender

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.reference_server.relay import same_codec
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player


def test_aiortc_is_the_version_the_relay_hooks():
    """The relay and the suite's players reach into aiortc internals; an upgrade must be re-checked."""
    assert version("aiortc") == "1.16.0" and version("aioice") == "0.13.0", (
        "aiortc/aioice changed: re-check whip_whep_conformance/reference_server/relay.py and whip_whep_conformance/harness/player.py hooks, then update the pins"
    )

    async def inspect() -> None:
        pc = peer.new_peer_connection([])
        transceiver = pc.addTransceiver("video", direction="sendrecv")
        receiver, sender = transceiver.receiver, transceiver.sender
        assert hasattr(receiver, "_RTCRtpReceiver__jitter_buffer") and hasattr(receiver, "_send_rtcp_pli")
        assert hasattr(sender, "_ssrc") and hasattr(sender, "_rtx_ssrc")
        assert hasattr(transceiver, "_codecs") and hasattr(transceiver, "_headerExtensions")
        await pc.close()

    asyncio.run(inspect())
    assert callable(getattr(RTCRtpReceiver, "_handle_rtp_packet"))
    assert callable(getattr(RTCRtpSender, "_handle_rtcp_packet"))


def _h264(payload: int, **parameters):
    from aiortc import RTCRtpCodecParameters

    return RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=payload, parameters=parameters)


def test_same_codec_matches_h264_by_profile_and_mode():
    cb = _h264(102, **{"packetization-mode": 1, "profile-level-id": "42e01f"})
    cb_other_pt = _h264(125, **{"packetization-mode": "1", "profile-level-id": "42c01f"})
    main = _h264(103, **{"packetization-mode": 1, "profile-level-id": "4d001f"})
    mode0 = _h264(104, **{"packetization-mode": 0, "profile-level-id": "42e01f"})
    assert same_codec(cb, cb_other_pt) and not same_codec(cb, main) and not same_codec(cb, mode0)


@pytest.mark.parametrize("sent,accepted,carried", [
    ("42e01f", "42001f", True),  # RFC 6184 §8.1: Constrained Baseline is a subset of Baseline
    ("42001f", "42e01f", False),  # ... not the other way round
    ("42e01f", None, True),  # absent is Baseline (RFC 6184 §8.1), which takes Constrained Baseline
    (None, "42e01f", False),  # a Baseline stream does not fit a Constrained Baseline decoder
    (None, "42001f", True),
    ("640c1f", "64001f", True),  # High: named by profile_idc
])
def test_relay_h264_rule_reads_profiles_as_rfc_6184(sent, accepted, carried):
    def codec(plid):
        return _h264(102, **({"packetization-mode": 1} | ({"profile-level-id": plid} if plid else {})))

    assert same_codec(codec(sent), codec(accepted)) is carried, f"{sent} into {accepted}"


async def _scenario(server: EmbeddedServer) -> dict:
    seen: dict = {}
    async with httpx.AsyncClient(timeout=15) as http:
        created = await http.post(f"{server.base_url}/client/v4/accounts/t/stream/live_inputs",
                                  headers={"Authorization": f"Bearer {server.api_token}"})
        urls = created.json()["result"]
        pub = player.publisher("h264")
        answer = await http.post(urls["webRTC"]["url"], content=await peer.local_offer(pub), headers={"Content-Type": "application/sdp"})
        await pub.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        assert await peer.wait_connected(pub, 10) == "connected"
        # A viewer that offers VP8 only cannot carry an H.264 publication: never silence. Under
        # draft-ietf-wish-whep-03 the refusal is a 406 counter-offer in the live codec (422 under -01).
        vp8_only = peer.new_peer_connection([])
        video = vp8_only.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"])
        refused = await http.post(urls["webRTCPlayback"]["url"], content=await peer.local_offer(vp8_only), headers={"Content-Type": "application/sdp"})
        seen["refused"] = (refused.status_code, refused.text)
        await vp8_only.close()
        # The publisher ending ends its viewers visibly.
        viewer = player.Player([])
        posted = await http.post(urls["webRTCPlayback"]["url"], content=await peer.local_offer(viewer.pc), headers={"Content-Type": "application/sdp"})
        await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
        assert await peer.wait_connected(viewer.pc, 10) == "connected"
        assert await viewer.wait_frames("video", 5, 10)
        ended = asyncio.Event()
        viewer.pc.on("connectionstatechange", lambda: viewer.pc.connectionState in ("closed", "failed") and ended.set())
        location = httpx.URL(urls["webRTC"]["url"]).join(answer.headers["Location"])
        await http.delete(str(location))
        try:
            await asyncio.wait_for(ended.wait(), 40)
            seen["viewer_after_publisher_left"] = viewer.pc.connectionState
        except asyncio.TimeoutError:
            seen["viewer_after_publisher_left"] = viewer.pc.connectionState
        gone = await http.delete(str(httpx.URL(urls["webRTCPlayback"]["url"]).join(posted.headers["Location"])))
        seen["viewer_session_after"] = gone.status_code
        await viewer.close()
        await pub.close()
    return seen


@pytest.fixture
def server(make_server):
    return make_server(token=False)


def test_codec_rule_and_publisher_end(server):
    seen = asyncio.run(_scenario(server))
    status, body = seen["refused"]
    assert status == 406 and "H264/90000" in body and "VP8" not in body, seen
    assert seen["viewer_session_after"] == 404, "the viewer's session ends with the publisher"
    assert seen["viewer_after_publisher_left"] in ("closed", "failed"), seen


async def _publisher_feedback(server: EmbeddedServer) -> set[str]:
    """Which RTCP the publisher hears from the server while it streams to it."""
    from aiortc.rtp import RtcpPsfbPacket, RtcpRrPacket

    heard: set[str] = set()
    both = asyncio.Event()
    async with httpx.AsyncClient(timeout=15) as http:
        created = await http.post(f"{server.base_url}/client/v4/accounts/t/stream/live_inputs",
                                  headers={"Authorization": f"Bearer {server.api_token}"})
        urls = created.json()["result"]
        pub = peer.publisher([])  # plain aiortc publisher: it sends abs-send-time, so REMB can flow
        for sender in pub.getSenders():
            original = sender._handle_rtcp_packet

            async def listen(packet, original=original) -> None:
                if isinstance(packet, RtcpRrPacket):
                    heard.add("receiver report")
                elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == 15:
                    heard.add("REMB")
                if {"receiver report", "REMB"} <= heard:
                    both.set()
                await original(packet)

            sender._handle_rtcp_packet = listen
        answer = await http.post(urls["webRTC"]["url"], content=await peer.local_offer(pub), headers={"Content-Type": "application/sdp"})
        await pub.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        assert await peer.wait_connected(pub, 10) == "connected"
        try:
            await asyncio.wait_for(both.wait(), 15)
        except asyncio.TimeoutError:
            pass
        await pub.close()
    return heard


def test_publisher_still_gets_receiver_reports_and_bandwidth_estimates(server):
    """Intercepting aiortc's receiver must not silence the RTCP a publisher adapts its sending to."""
    assert asyncio.run(_publisher_feedback(server)) == {"receiver report", "REMB"}
