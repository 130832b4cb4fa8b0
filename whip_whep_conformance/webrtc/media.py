"""Media the suite's peers send and what they can tell about the RTP they receive.

The publisher's picture is small (2-core machines encode it for every media case) and changes
every frame, so encoders produce real keyframes and deltas rather than empty frames.
"""

from __future__ import annotations

import av
from aiortc.mediastreams import VideoStreamTrack

from whip_whep_conformance.webrtc import stamp, vp9


class PatternVideoTrack(VideoStreamTrack):
    """A moving test pattern, 30 fps, `width`×`height`, each frame stamped with its number and capture time."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.width, self.height = width, height
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        # A ramp sliding two pixels per frame: real motion, but never a scene cut, so encoders
        # make keyframes only when asked (scene-cut keyframes would hide a missing request).
        stripe = bytes(((x + 2 * self.count) * 2) % 256 for x in range(self.width))
        band = stamp.stamped_rows(stamp.Stamp(self.count, stamp.clock_ms()), self.width)
        frame.planes[0].update(stripe * (self.height - stamp.band_height(self.width)) + band)
        chroma = bytes([128]) * (self.width // 2 * self.height // 2)
        frame.planes[1].update(chroma)
        frame.planes[2].update(chroma)
        frame.pts, frame.time_base = pts, time_base
        self.count += 1
        return frame


def is_keyframe(mime: str, payload: bytes) -> bool:
    """Whether an RTP payload starts a keyframe (RFC 7741 for VP8, RFC 9628 for VP9, RFC 6184 for H.264)."""
    mime = mime.lower()
    if not payload:
        return False
    if mime == "video/vp9":
        return vp9.is_keyframe(payload)
    if mime == "video/vp8":
        first = payload[0]
        offset = 1
        if first & 0x80:  # X: extension octet follows
            ext = payload[1]
            offset = 2
            if ext & 0x80:  # I: picture id, 7 or 15 bits
                offset += 2 if payload[offset] & 0x80 else 1
            if ext & 0x40:  # L: TL0PICIDX
                offset += 1
            if ext & 0x30:  # T or K
                offset += 1
        start = first & 0x10 and (first & 0x0F) == 0
        return bool(start) and len(payload) > offset and payload[offset] & 0x01 == 0
    if mime == "video/h264":
        nal = payload[0] & 0x1F
        if nal in (5, 7, 8):  # IDR slice, SPS, PPS
            return True
        if nal == 24:  # STAP-A: look at the aggregated units
            pos = 1
            while pos + 2 < len(payload):
                size = int.from_bytes(payload[pos:pos + 2], "big")
                if payload[pos + 2] & 0x1F in (5, 7):
                    return True
                pos += 2 + size
            return False
        if nal == 28 and len(payload) > 1:  # FU-A start of an IDR
            return bool(payload[1] & 0x80) and payload[1] & 0x1F == 5
    return False
