"""Instant join (issue 24): the relay's own keyframe reading, its group-of-pictures cache, and a
joining viewer started from the cached keyframe rather than the publisher's next one."""

from __future__ import annotations

import asyncio

import av
import httpx
import pytest
from aiortc import RTCSessionDescription
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtp import RtpPacket

from whip_whep_conformance.harness import player
from whip_whep_conformance.reference_server import gop_cache
from whip_whep_conformance.reference_server.gop_cache import GopCache
from whip_whep_conformance.reference_server.keyframes import starts_keyframe
from whip_whep_conformance.webrtc import peer, vp9
from whip_whep_conformance.webrtc.media import PatternVideoTrack

from .test_vp9 import _frames as _pictures  # the suite's stamped pictures, 90 kHz pts

SDP = {"Content-Type": "application/sdp"}


ENCODERS = {"video/VP8": Vp8Encoder, "video/VP9": vp9.Vp9Encoder, "video/H264": H264Encoder}


@pytest.mark.parametrize("mime", sorted(ENCODERS))
def test_keyframe_starts_are_read_from_real_encoder_output(mime):
    """Per frame, whether the relay reads a keyframe in its RTP payloads (a real encoder's packetization:
    x264 puts SPS, PPS and an IDR slice in a STAP-A, then a second IDR slice): the first frame and a
    forced one, not the deltas."""
    encoder = ENCODERS[mime]()
    read = []
    for index, picture in enumerate(_pictures(6)):
        payloads, _ = encoder.encode(picture, force_keyframe=index == 4)
        read.append(any(starts_keyframe(mime, payload) for payload in payloads))
    assert read == [True, False, False, False, True, False], f"{mime}: keyframe per frame {read}"


def _packet(seq: int, timestamp: int, payload: bytes = b"\x00" * 100) -> RtpPacket:
    return RtpPacket(payload_type=96, sequence_number=seq & 0xFFFF, timestamp=timestamp, payload=payload)


def test_a_group_starts_with_its_keyframes_picture_and_keeps_what_follows():
    """H.264 sends SPS/PPS before the IDR slice under the same timestamp: the group starts with them,
    and a new keyframe replaces the group (sequence numbers wrap across it)."""
    cache = GopCache()
    cache.add(_packet(0xFFFD, 1000), keyframe=False)  # a delta picture before the keyframe
    cache.add(_packet(0xFFFE, 4000), keyframe=False)  # SPS/PPS
    cache.add(_packet(0xFFFF, 4000), keyframe=True)  # IDR start
    cache.add(_packet(0x0000, 4000), keyframe=False)
    cache.add(_packet(0x0001, 7000), keyframe=False)
    assert [p.sequence_number for p in cache.packets()] == [0xFFFE, 0xFFFF, 0, 1], cache.packets()


def test_a_group_over_its_span_is_dropped_until_the_next_keyframe():
    cache = GopCache()
    cache.add(_packet(1, 0), keyframe=True)
    cache.add(_packet(2, int(gop_cache.MAX_SPAN_S * gop_cache.CLOCK_RATE) + 3000), keyframe=False)
    assert cache.packets() == [], "a group longer than MAX_SPAN_S is not sent to joiners"


class HeldPattern(PatternVideoTrack):
    """The suite's pattern, held after `frames` pictures until `release` is set: the publisher's
    encoder then sends nothing, so the next keyframe comes only when the test lets it."""

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.frames, self.held, self.release = frames, asyncio.Event(), asyncio.Event()

    async def recv(self) -> av.VideoFrame:
        if self.count >= self.frames:
            self.held.set()
            await self.release.wait()
        return await super().recv()


HELD = 5  # pictures the publisher sends before the viewer joins: a keyframe and four deltas


async def _pictures_from_before_the_join(server) -> int:
    """Publish HELD pictures of VP8 (keyframes only on request), hold the encoder, let a viewer join,
    then release the publisher: how many of the HELD pictures the viewer decoded."""
    async with httpx.AsyncClient(timeout=15) as http:
        created = await http.post(f"{server.base_url}/client/v4/accounts/t/stream/live_inputs",
                                  headers={"Authorization": f"Bearer {server.api_token}"})
        urls = created.json()["result"]
        pub = player.publisher("vp8")
        track = HeldPattern(HELD)
        next(s for s in pub.getSenders() if s.kind == "video").replaceTrack(track)
        answer = await http.post(urls["webRTC"]["url"], content=await peer.local_offer(pub), headers=SDP)
        await pub.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        assert await peer.wait_connected(pub, 10) == "connected"
        await asyncio.wait_for(track.held.wait(), 10)
        viewer = player.Player([])
        posted = await http.post(urls["webRTCPlayback"]["url"], content=await peer.local_offer(viewer.pc), headers=SDP)
        await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
        assert await peer.wait_connected(viewer.pc, 10) == "connected"
        track.release.set()
        live = await viewer.wait_for("video", lambda s: any(n >= HELD for n in s.measurement.numbers), 15)
        numbers = list(viewer.streams["video"].measurement.numbers)
        await viewer.close()
        await pub.close()
    assert live, f"the viewer decoded no live picture after the publisher went on (decoded {numbers})"
    return sum(n < HELD for n in numbers)


def test_a_joining_viewer_starts_from_the_cached_keyframe(make_server):
    decoded = asyncio.run(_pictures_from_before_the_join(make_server()))
    assert decoded == HELD, f"the joiner decoded {decoded} of the {HELD} pictures cached before it joined"


def test_without_the_cache_a_joiner_waits_for_the_next_keyframe(make_server):
    """The no-gop-cache fault's proof (test_fault_layer.PROVEN_ELSEWHERE): nothing from before the join."""
    decoded = asyncio.run(_pictures_from_before_the_join(make_server(faults=("no-gop-cache",))))
    assert decoded == 0, f"without the cache the joiner still decoded {decoded} pictures from before it joined"
