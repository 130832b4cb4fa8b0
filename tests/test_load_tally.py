"""The load viewer's count of RTP (load/viewer.py Tally): loss from extended sequence numbers, duplicates
ignored, a keyframe complete only with every packet from its first to its marker."""

from __future__ import annotations

import struct

from whip_whep_conformance.load.viewer import Tally

VP8 = 96
ANSWER = """v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
t=0 0
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 127.0.0.1
a=rtpmap:96 VP8/90000
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
"""
KEY_START, DELTA_START, MIDDLE = b"\x10\x00\x00\x00", b"\x10\x01\x00\x00", b"\x00\x00\x00\x00"


def rtp(seq: int, ts: int, payload: bytes, marker: bool = False, pt: int = VP8, ssrc: int = 1) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, ssrc) + payload


def frames(first_seq: int, count: int, per_frame: int = 3, key_every: int = 10) -> list[bytes]:
    """`count` frames of `per_frame` packets each, a keyframe every `key_every` frames."""
    packets, seq = [], first_seq
    for frame in range(count):
        for k in range(per_frame):
            payload = (KEY_START if frame % key_every == 0 else DELTA_START) if k == 0 else MIDDLE
            packets.append(rtp(seq, 3000 * frame, payload, marker=k == per_frame - 1))
            seq += 1
    return packets


def tally_of(packets: list[bytes]) -> Tally:
    tally = Tally()
    tally.learn(ANSWER)
    for packet in packets:
        tally.packet(packet)
    return tally


def test_loss_is_the_sequence_numbers_missing_across_a_wrap_with_duplicates_ignored() -> None:
    sent = frames(0xFFFF - 50, 40)  # 120 packets, the sequence number wraps after 51
    received = [p for i, p in enumerate(sent) if i % 12 != 5]  # 10 lost
    received[20:20] = received[10:13]  # three duplicates
    received += [rtp(7, 0, MIDDLE, pt=97)]  # a retransmission: counted, never media
    expected, got = tally_of(received).loss()
    assert (expected, got) == (120, 110), f"(expected, received): {(expected, got)}"


def test_a_keyframe_missing_a_packet_is_no_first_frame() -> None:
    sent = frames(100, 11, key_every=10)  # keyframes are frames 0 and 10 (packets 0-2 and 30-32)
    broken = [p for i, p in enumerate(sent) if i != 1]  # the first keyframe's middle packet lost
    before, through = tally_of(broken[:-1]), tally_of(broken)
    assert (before.first_frame_s, through.first_frame_s is not None, through.keyframes) == (None, True, 2), \
        "no first frame until the second keyframe's last packet"


def asking_tally() -> tuple[Tally, list[int]]:
    """A tally whose keyframe requests (the PLIs it would send) are recorded by media SSRC."""
    tally, asked = Tally(), []
    tally.learn(ANSWER)
    tally.request_keyframe = asked.append
    return tally, asked


def test_a_viewer_joining_mid_gop_asks_for_a_keyframe_once_per_interval() -> None:
    tally, asked = asking_tally()
    for packet in frames(100, 20, key_every=10)[3:27]:  # frames 1-8: deltas, fed well within KEYFRAME_REQUEST_S
        tally.packet(packet)
    assert asked == [1], f"one PLI for the video SSRC on the first delta frame, none again within the interval: {asked}"


def test_a_viewer_whose_first_frame_is_a_keyframe_never_asks_for_one() -> None:
    tally, asked = asking_tally()
    for packet in frames(100, 20, key_every=10):  # a keyframe first, then deltas
        tally.packet(packet)
    assert (tally.first_frame_s is not None, asked) == (True, []), f"no PLI once a keyframe is complete: {asked}"


def one_second_of_packets() -> tuple[Tally, list[float]]:
    """A tally on a made-up clock fed 100 packets over 1 s (one every 10 ms) from its window's start."""
    now = [0.0]
    tally = Tally()
    tally.learn(ANSWER)
    tally.clock = lambda: now[0]
    tally.window()
    for i, packet in enumerate(frames(100, 34)[:100]):
        now[0] = i * 0.01
        tally.packet(packet)
    return tally, now


def test_a_stream_that_stops_is_counted_as_loss_at_its_own_rate() -> None:
    """2 s of nothing before the window ends: the silence is loss (about 200 packets at the stream's rate),
    not a perfect count of the first second."""
    tally, now = one_second_of_packets()
    now[0] += 2.0
    expected, received = tally.loss()
    assert received == 100 and 290 <= expected <= 310, f"(expected, received) after 2 s of silence: {(expected, received)}"


def test_a_steady_stream_is_not_counted_as_loss() -> None:
    tally, now = one_second_of_packets()
    now[0] += 0.01
    assert tally.loss() == (100, 100), f"(expected, received) at the window's end: {tally.loss()}"


def test_a_keyframe_whose_first_packet_comes_late_is_a_first_frame() -> None:
    """Reordered: the keyframe's second packet arrives before its first; the frame is complete all the same."""
    key = frames(100, 1)  # one keyframe of three packets
    tally = tally_of([key[1], key[0], key[2]])
    assert (tally.keyframes, tally.first_frame_s is not None) == (1, True), \
        f"one keyframe, a first frame: {tally.keyframes}, {tally.first_frame_s}"


def test_a_keyframe_whose_marker_comes_before_its_first_packet_is_a_first_frame() -> None:
    key = frames(100, 1)
    tally = tally_of([key[2], key[1], key[0]])
    assert (tally.keyframes, tally.first_frame_s is not None) == (1, True), \
        f"one keyframe, a first frame: {tally.keyframes}, {tally.first_frame_s}"
