"""The suite's media endpoints: a WHIP publisher sending a chosen codec, and a WHEP player that
decodes what arrives and notes what was on the wire (payload types, SSRCs, keyframes).

Decoded frames are the evidence: "connected" proves nothing about media.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Sequence

from aiortc import RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket

from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.webrtc import marker_frames, stamp
from whip_whep_conformance.webrtc.media import PatternVideoTrack, is_keyframe
from whip_whep_conformance.harness.measurement import Measurement
from whip_whep_conformance.webrtc.peer import new_peer_connection
from whip_whep_conformance.harness.judgments import sdp_syntax

VIDEO_CODECS = {"vp8": "video/VP8", "vp9": "video/VP9", "h264": "video/H264"}


def publisher(codecs: str | Sequence[str], ice_server_urls: list[str] | None = None) -> RTCPeerConnection:
    """A WHIP publisher offering Opus and only `codecs` for video, in that preference order
    (H.264: Constrained Baseline 42e01f, packetization-mode 1), each with RTX."""
    pc = new_peer_connection(ice_server_urls)
    audio = pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    audio.setCodecPreferences(opus_only())
    video = pc.addTransceiver(PatternVideoTrack(), direction="sendonly")
    video.setCodecPreferences(video_codecs(codecs))
    for sender in pc.getSenders():
        _ignore_bandwidth_estimates(sender)
    return pc


def opus_only() -> list[RTCRtpCodecCapability]:
    return [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == "audio/opus"]


def video_codecs(codecs: str | Sequence[str]) -> list[RTCRtpCodecCapability]:
    """Codec preferences for `codecs` (suite names, in order) plus RTX; H.264 is 42e01f mode 1 only."""
    names = [codecs] if isinstance(codecs, str) else list(codecs)
    available = RTCRtpSender.getCapabilities("video").codecs
    chosen = []
    for name in names:
        mime = VIDEO_CODECS[name].lower()
        chosen += [c for c in available
                   if c.mimeType.lower() == mime and c.parameters.get("profile-level-id", "42e01f") == "42e01f"]
    return chosen + [c for c in available if c.mimeType.lower() == "video/rtx"]


def _ignore_bandwidth_estimates(sender: RTCRtpSender) -> None:
    """aiortc rebuilds its encoder, starting with a keyframe, whenever REMB moves the target
    bitrate by 10%. A fixed bitrate means keyframes come only at the start and when asked for,
    which the checks of keyframe requests depend on."""
    original = sender._handle_rtcp_packet

    async def handle(packet) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            return
        await original(packet)

    sender._handle_rtcp_packet = handle


@dataclass
class Stream:
    """What one player saw of one kind of media."""

    frames: int = 0
    first_frame_s: float | None = None
    payload_types: set[int] = field(default_factory=set)
    ssrcs: set[int] = field(default_factory=set)
    keyframes: int = 0
    retransmissions: int = 0  # RTX packets (RFC 4588) received
    repaired: set[int] = field(default_factory=set)  # the original sequence numbers (OSN, RFC 4588 §4) those RTX packets carried
    reported: bool = False  # a receiver report went out naming a media SSRC with the server's last SR (LSR ≠ 0)
    receiver_reports: int = 0  # receiver reports (RTCP RR) sent about this stream
    last_sequence_number: int | None = None
    last_ssrc: int | None = None  # the media SSRC that carried last_sequence_number (a NACK names both)
    last_packet_s: float | None = None  # time.monotonic() of the latest RTP packet (any payload type)
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    measurement: Measurement = field(default_factory=Measurement)  # video: from the frame stamps


class Player:
    """A WHEP player: recvonly audio+video, decoding every frame it receives."""

    def __init__(self, ice_server_urls: list[str] | None = None, codecs: Sequence[str] | None = None,
                 frames_at_marker: bool = False) -> None:
        """`codecs`: offer only these video codecs (suite names), and only Opus; default: all aiortc has.
        `frames_at_marker`: decode a video frame at its last packet, as browsers do (webrtc.marker_frames)."""
        self.pc = new_peer_connection(ice_server_urls)
        self.streams = {"audio": Stream(), "video": Stream()}
        self.started = time.monotonic()  # reset by whoever POSTs the offer: time to first frame counts from there
        self._tasks: list[asyncio.Task] = []
        self._codec_names: dict[int, str] | None = None
        self._repair_ssrcs: set[int] | None = None
        for kind in ("audio", "video"):
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            if codecs is not None:
                transceiver.setCodecPreferences(video_codecs(codecs) if kind == "video" else opus_only())
            if kind == "video" and frames_at_marker:
                marker_frames.install(transceiver.receiver)
            self._watch_wire(transceiver.receiver, self.streams[kind], kind)
        self.pc.on("track", self._on_track)

    def _watch_wire(self, receiver, stream: Stream, kind: str) -> None:
        original = receiver._handle_rtp_packet

        async def observe(packet, arrival_time_ms: int) -> None:
            stream.last_packet_s = time.monotonic()
            codec = self.codec_name(packet.payload_type) or ""
            if codec.lower().endswith("/rtx") or packet.ssrc in self.repair_ssrcs():
                stream.retransmissions += 1
                if len(packet.payload) >= 2:
                    stream.repaired.add(int.from_bytes(packet.payload[:2], "big"))
                stream.progress.set()
            else:
                stream.payload_types.add(packet.payload_type)
                stream.ssrcs.add(packet.ssrc)
                stream.last_sequence_number, stream.last_ssrc = packet.sequence_number, packet.ssrc
            if kind == "video" and is_keyframe(codec, packet.payload):
                stream.keyframes += 1
                stream.progress.set()
            await original(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = observe
        send_rtcp = receiver._send_rtcp

        async def report(packet) -> None:
            await send_rtcp(packet)
            reports = [r for r in getattr(packet, "reports", None) or [] if r.ssrc in stream.ssrcs]
            if reports:
                stream.receiver_reports += 1
                stream.reported = stream.reported or any(r.lsr for r in reports)
                stream.progress.set()

        receiver._send_rtcp = report

    def _on_track(self, track) -> None:
        stream = self.streams[track.kind]

        async def consume() -> None:
            try:
                while True:
                    frame = await track.recv()
                    now = time.monotonic()
                    if stream.first_frame_s is None:
                        stream.first_frame_s = now - self.started
                    if track.kind == "video":
                        stream.measurement.add(now, stamp.read(frame))
                    stream.frames += 1
                    stream.progress.set()
            except MediaStreamError:
                pass

        self._tasks.append(asyncio.ensure_future(consume()))

    def signalled_ssrcs(self, kind: str) -> list[int]:
        """The a=ssrc values the applied answer announces for `kind`."""
        if self.pc.remoteDescription is None:
            return []
        media = sdp_syntax.parse(self.pc.remoteDescription.sdp).media
        return [ssrc for m in media if m.kind == kind for ssrc in m.ssrcs]

    def has_rtx(self, kind: str) -> bool:
        """Whether the applied answer negotiated retransmission (RFC 4588) for `kind`."""
        if self.pc.remoteDescription is None:
            return False
        media = sdp_syntax.parse(self.pc.remoteDescription.sdp).media
        return any(c.name.lower() == "rtx" for m in media if m.kind == kind for c in m.codecs)

    def codec_name(self, payload_type: int) -> str | None:
        """The codec a payload type stands for in the answer this player applied."""
        if self._codec_names is None and not self._read_answer():
            return None
        assert self._codec_names is not None
        return self._codec_names.get(payload_type)

    def repair_ssrcs(self) -> set[int]:
        """The SSRCs the applied answer names as retransmission streams: the second SSRC of each
        a=ssrc-group:FID (RFC 5576 §4.2, RFC 4588 §8.1). Their packets are repairs, never media."""
        if self._repair_ssrcs is None and not self._read_answer():
            return set()
        assert self._repair_ssrcs is not None
        return self._repair_ssrcs

    def _read_answer(self) -> bool:
        """Read the applied answer's codecs and repair SSRCs once, at the first packet (one parse: it is
        on the way to the first frame). False while no answer is applied."""
        if self.pc.remoteDescription is None:
            return False
        media = sdp_syntax.parse(self.pc.remoteDescription.sdp).media
        self._codec_names = {codec.payload: f"{m.kind}/{codec.name}" for m in media for codec in m.codecs}
        groups = [value.split() for m in media for value in m.attributes.get("ssrc-group", [])]
        self._repair_ssrcs = {int(ssrc) for group in groups if group[:1] == ["FID"]
                              for ssrc in group[2:] if ssrc.isdigit()}
        return True

    def figures(self, prefix: str = "") -> dict[str, float | int]:
        """Time to first decoded frame (from the POST) and the video measurement, for a report."""
        video = self.streams["video"]
        figures: dict[str, float | int] = {}
        if video.first_frame_s is not None:
            figures[f"{prefix}ttff_ms"] = round(video.first_frame_s * 1000)
        figures.update(video.measurement.figures(prefix))
        return figures

    def loss_pct(self) -> float | None:
        """Video frames lost, in percent of the stamped frames sent between the first and last one seen."""
        m = self.streams["video"].measurement
        if not m.numbers:
            return None
        lost = m.frames_lost()
        return 100.0 * lost / (lost + len(set(m.numbers)))

    def longest_gap_ms(self, since_s: float | None = None, until_s: float | None = None) -> float | None:
        """The longest time without a decoded video frame between `since_s` and `until_s` (time.monotonic()
        values; default: the first and the last frame), counting the wait before the first and after the last."""
        arrivals = self.streams["video"].measurement.arrivals_s
        if since_s is not None:
            arrivals = [a for a in arrivals if a >= since_s]
        if until_s is not None:
            arrivals = [a for a in arrivals if a <= until_s]
        points = ([since_s] if since_s is not None else []) + arrivals + ([until_s] if until_s is not None else [])
        if len(points) < 2:
            return None
        return max(b - a for a, b in zip(points, points[1:])) * 1000

    async def wait_for(self, kind: str, condition, timeout_s: float) -> bool:
        """Wait until `condition(stream)` holds for `kind`, at most `timeout_s`."""
        stream = self.streams[kind]
        deadline = time.monotonic() + timeout_s
        while True:
            stream.progress.clear()  # before the check, so no progress between them is lost
            if condition(stream):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(stream.progress.wait(), remaining)
            except asyncio.TimeoutError:
                return condition(stream)

    async def wait_silence(self, kind: str, quiet_s: float, timeout_s: float) -> float | None:
        """Wait until no RTP of `kind` has arrived for `quiet_s`: the seconds from now to the last packet
        (0 if it came before), or None if packets still flowed at `timeout_s`."""
        stream = self.streams[kind]
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            stream.progress.clear()
            now = time.monotonic()
            last = stream.last_packet_s if stream.last_packet_s is not None else float("-inf")
            if now - last >= quiet_s:
                return max(0.0, last - started)
            if now >= deadline:
                return None
            try:
                await asyncio.wait_for(stream.progress.wait(), min(deadline, last + quiet_s) - now)
            except asyncio.TimeoutError:
                pass

    async def wait_frames(self, kind: str, count: int, timeout_s: float) -> bool:
        target = self.streams[kind].frames + count
        return await self.wait_for(kind, lambda s: s.frames >= target, timeout_s)

    async def request_keyframe(self) -> None:
        """Send a PLI (RFC 4585 §6.3.1) naming the SSRC video arrives on."""
        stream = self.streams["video"]
        transceiver = next(t for t in self.pc.getTransceivers() if t.kind == "video")
        for ssrc in stream.ssrcs:
            await transceiver.receiver._send_rtcp_pli(ssrc)

    async def request_retransmission(self) -> int | None:
        """Send a generic NACK (RFC 4585 §6.2.1) for the newest video packet; returns its sequence number.

        The NACK names the media SSRC that carried that packet (RFC 4585 §6.2.1: the media source),
        never a retransmission stream's: packets on an RTX payload type or on an SSRC the answer's
        ssrc-group:FID names as the repair stream are not media, and a NACK naming one asks for nothing."""
        stream = self.streams["video"]
        if stream.last_sequence_number is None or stream.last_ssrc is None:
            return None
        transceiver = next(t for t in self.pc.getTransceivers() if t.kind == "video")
        seq = stream.last_sequence_number
        await transceiver.receiver._send_rtcp_nack(stream.last_ssrc, [seq])
        return seq

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
