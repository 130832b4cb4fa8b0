"""Which RTP payloads start a keyframe, as the relay reads them (VP8, VP9, H.264).

The server's own reading, apart from the suite's (`webrtc/media.is_keyframe` counts the keyframes a
player receives): a shared predicate would let one bug pass on both sides unseen. Only the payload
descriptors are read, never the bitstream: the relay does not decode.
"""

from __future__ import annotations

from typing import Callable

# H.264 NAL unit types (RFC 6184 §5.2, ITU-T H.264 table 7-1)
_IDR_SLICE, _STAP_A, _FU_A = 5, 24, 28


def vp8_starts_keyframe(payload: bytes) -> bool:
    """RFC 7741 §4.2-4.3: the first packet of partition 0 (S=1, PID=0), whose VP8 payload header has P=0."""
    if not payload:
        return False
    first = payload[0]
    if not first & 0x10 or first & 0x07:  # S: start of a partition; PID: partition index 0
        return False
    offset = 1
    if first & 0x80:  # X: the extension octet I L T K follows
        if len(payload) < 2:
            return False
        extension = payload[1]
        offset = 2
        if extension & 0x80:  # I: PictureID, 7 bits, or 15 when its M bit is set
            if len(payload) <= offset:
                return False
            offset += 2 if payload[offset] & 0x80 else 1
        if extension & 0x40:  # L: TL0PICIDX
            offset += 1
        if extension & 0x30:  # T or K: one octet TID Y KEYIDX
            offset += 1
    return len(payload) > offset and not payload[offset] & 0x01  # P, the inverse key frame flag


def vp9_starts_keyframe(payload: bytes) -> bool:
    """RFC 9628 §4.2: the start of a frame (B=1) that is not inter-picture predicted (P=0), in the base
    spatial layer when layer indices are present (L=1: SID 0)."""
    if not payload:
        return False
    first = payload[0]  # I P L F B E V Z
    if not first & 0x08 or first & 0x40:
        return False
    if not first & 0x20:
        return True
    offset = 1
    if first & 0x80:  # I: picture id, 7 or 15 bits (M)
        if len(payload) <= offset:
            return False
        offset += 2 if payload[offset] & 0x80 else 1
    if len(payload) <= offset:
        return False
    return (payload[offset] >> 1) & 0x07 == 0  # layer indices: TID(3) U SID(3) D


def h264_starts_keyframe(payload: bytes) -> bool:
    """RFC 6184: an IDR slice (NAL type 5) as a single NAL unit, inside a STAP-A (§5.7.1), or as the
    start (S=1) of an FU-A (§5.8)."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == _IDR_SLICE:
        return True
    if nal_type == _STAP_A:
        pos = 1
        while pos + 2 < len(payload):
            size = int.from_bytes(payload[pos:pos + 2], "big")
            if payload[pos + 2] & 0x1F == _IDR_SLICE:
                return True
            pos += 2 + size
        return False
    if nal_type == _FU_A and len(payload) > 1:
        return bool(payload[1] & 0x80) and payload[1] & 0x1F == _IDR_SLICE
    return False


_BY_MIME: dict[str, Callable[[bytes], bool]] = {
    "video/vp8": vp8_starts_keyframe,
    "video/vp9": vp9_starts_keyframe,
    "video/h264": h264_starts_keyframe,
}


def starts_keyframe(mime: str, payload: bytes) -> bool:
    """Whether `payload` (of codec `mime`) carries the start of a keyframe; False for other codecs."""
    test = _BY_MIME.get(mime.lower())
    return test is not None and test(payload)
