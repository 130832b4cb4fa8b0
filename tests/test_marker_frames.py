"""whip_whep_conformance.webrtc.marker_frames over aiortc's own RtpPacket and JitterBuffer: a video frame
goes to the decoder at its marker bit when nothing before it is missing, and aiortc's rule (the next
frame's first packet) still holds when no marker comes."""

from __future__ import annotations

from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from whip_whep_conformance.webrtc.marker_frames import MarkerJitterBuffer


def _packet(sequence_number: int, timestamp: int, marker: bool, data: bytes) -> RtpPacket:
    packet = RtpPacket(payload_type=96, sequence_number=sequence_number, timestamp=timestamp, marker=marker)
    packet._data = data  # type: ignore[attr-defined]  # what aiortc's receiver stores before the jitter buffer
    return packet


def _frames(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[tuple[int, bytes] | None]:
    """What add() hands on after each packet: (timestamp, data) or None."""
    out = []
    for packet in packets:
        _, frame = buffer.add(packet)
        out.append(None if frame is None else (frame.timestamp, frame.data))
    return out


FRAME = [_packet(10, 3000, False, b"a"), _packet(11, 3000, False, b"b"), _packet(12, 3000, True, b"c")]


def test_a_frame_is_complete_at_its_marker_bit() -> None:
    assert _frames(MarkerJitterBuffer(), FRAME) == [None, None, (3000, b"abc")], \
        "the frame's three packets are all there at its marker: it goes to the decoder then"


def test_aiortc_alone_waits_for_the_next_frame() -> None:
    # the control: what the marker rule changes
    assert _frames(JitterBuffer(capacity=512, is_video=True), FRAME) == [None, None, None], \
        "aiortc's own buffer holds a complete frame until another timestamp arrives"


def test_a_gap_holds_the_frame_back() -> None:
    packets = [FRAME[0], FRAME[2], _packet(11, 3000, False, b"b")]
    assert _frames(MarkerJitterBuffer(), packets) == [None, None, (3000, b"abc")], \
        "with packet 11 missing, the marker alone does not complete the frame; its late arrival does"


def test_without_a_marker_aiortc_rule_still_applies() -> None:
    packets = [_packet(10, 3000, False, b"a"), _packet(11, 3000, False, b"b"), _packet(12, 6000, False, b"x")]
    assert _frames(MarkerJitterBuffer(), packets) == [None, None, (3000, b"ab")], \
        "a frame whose marker never comes goes out when the next frame begins, as before"


def test_consecutive_frames_each_go_at_their_marker() -> None:
    second = [_packet(13, 6000, False, b"d"), _packet(14, 6000, True, b"e")]
    assert _frames(MarkerJitterBuffer(), FRAME + second) == [None, None, (3000, b"abc"), None, (6000, b"de")], \
        "after one frame leaves at its marker, the next starts clean and leaves at its own"
