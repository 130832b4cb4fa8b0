"""Plain RTP over local UDP, for peers that have no encoder or decoder of their own (werift).

`RtpSource` encodes a moving test pattern (VP8) and silence (Opus) with aiortc's codecs and sends the RTP
to two UDP ports, as werift's own examples feed it from FFmpeg or GStreamer: werift then does all of the
WebRTC side (ICE, DTLS-SRTP, RTCP, SDP). `RtpSink` takes the RTP a peer forwards and decodes it, so
"the viewer received media" means frames decoded, not packets counted.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from aiortc.codecs import depayload
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from whip_whep_conformance.webrtc.media import PatternVideoTrack, is_keyframe

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
KEYFRAME_EVERY = 30  # frames: a viewer that joins after the publisher waits at most a second for one


class RtpSource:
    """VP8 + Opus RTP to 127.0.0.1:video_port / audio_port, paced by the tracks' own clocks (30 fps, 20 ms)."""

    def __init__(self, video_port: int, audio_port: int) -> None:
        self.ports = {"video": video_port, "audio": audio_port}
        self.sent = {"video": 0, "audio": 0}
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for kind, track, encoder, pt in (("video", PatternVideoTrack(), Vp8Encoder(), 96),
                                          ("audio", AudioStreamTrack(), OpusEncoder(), 111)):
            transport, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=("127.0.0.1", self.ports[kind]))
            self._tasks.append(asyncio.create_task(self._send(kind, track, encoder, pt, transport)))

    async def _send(self, kind: str, track, encoder, pt: int, transport) -> None:
        sequence, ssrc, count = random.randrange(1 << 16), random.randrange(1 << 32), 0
        try:
            while True:
                frame = await track.recv()
                payloads, timestamp = encoder.encode(frame, force_keyframe=(count % KEYFRAME_EVERY == 0))
                count += 1
                for i, payload in enumerate(payloads):
                    packet = RtpPacket(payload_type=pt, marker=int(i == len(payloads) - 1 and kind == "video"),
                                       sequence_number=sequence, timestamp=timestamp & 0xFFFFFFFF, ssrc=ssrc,
                                       payload=payload)
                    transport.sendto(packet.serialize())
                    sequence = (sequence + 1) & 0xFFFF
                    self.sent[kind] += 1
        finally:
            transport.close()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class Decoded:
    """What a sink made of one kind of media."""
    packets: int = 0
    keyframes: int = 0
    frames: int = 0
    errors: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)


class _Sink(asyncio.DatagramProtocol):
    def __init__(self, kind: str, seen: Decoded) -> None:
        self.kind, self.seen = kind, seen
        self.decoder = Vp8Decoder() if kind == "video" else OpusDecoder()
        self.jitter = JitterBuffer(capacity=128, is_video=True) if kind == "video" else None

    def datagram_received(self, data: bytes, addr) -> None:
        packet = RtpPacket.parse(data)
        self.seen.packets += 1
        if self.kind == "audio":
            self._decode(JitterFrame(packet.payload, packet.timestamp))
            return
        if is_keyframe("video/VP8", packet.payload):
            self.seen.keyframes += 1
        packet._data = depayload(VP8, packet.payload)  # what aiortc's own receiver hands its jitter buffer
        _, frame = self.jitter.add(packet)
        if frame is not None:
            self._decode(frame)

    def _decode(self, frame: JitterFrame) -> None:
        try:
            self.seen.frames += len(self.decoder.decode(frame))
        except Exception:  # noqa: BLE001 - an undecodable frame is counted, not fatal: frames decide
            self.seen.errors += 1
        self.seen.progress.set()


class RtpSink:
    """Two local UDP ports that decode the VP8 / Opus RTP sent to them."""

    def __init__(self) -> None:
        self.seen = {"video": Decoded(), "audio": Decoded()}
        self.ports: dict[str, int] = {}
        self._transports: list[asyncio.DatagramTransport] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for kind in ("video", "audio"):
            transport, _ = await loop.create_datagram_endpoint(
                lambda kind=kind: _Sink(kind, self.seen[kind]), local_addr=("127.0.0.1", 0))
            self.ports[kind] = transport.get_extra_info("sockname")[1]
            self._transports.append(transport)

    async def wait_frames(self, kind: str, count: int, timeout_s: float) -> bool:
        seen = self.seen[kind]
        try:
            async with asyncio.timeout(timeout_s):
                while seen.frames < count:
                    seen.progress.clear()
                    await seen.progress.wait()
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
