"""Frame stamps (number + capture time drawn in the picture) and the figures computed from them."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import pytest

from whip_whep_conformance.webrtc import stamp
from whip_whep_conformance.harness.measurement import Measurement
from whip_whep_conformance.webrtc.media import PatternVideoTrack


def _pictures(count: int) -> list[av.VideoFrame]:
    track = PatternVideoTrack()

    async def take():
        return [await track.recv() for _ in range(count)]

    return asyncio.run(take())


def test_stamp_reads_back_from_the_raw_picture():
    pictures = _pictures(3)
    assert [stamp.read(p).number for p in pictures] == [0, 1, 2]


def test_damaged_stamp_is_rejected():
    picture = _pictures(1)[0]
    plane = picture.planes[0]
    data = bytearray(bytes(plane))
    size = stamp.block_size(picture.width)
    top = picture.height - stamp.band_height(picture.width)
    for y in range(top, top + size):  # invert the first block
        data[y * plane.line_size] = 255 - data[y * plane.line_size]
        for x in range(size):
            data[y * plane.line_size + x] = stamp.WHITE if data[y * plane.line_size + x] < stamp.THRESHOLD else stamp.BLACK
    plane.update(bytes(data))
    assert stamp.read(picture) is None, "a stamp with a flipped bit passed its CRC"


@pytest.mark.parametrize("encoder,decoder", [("libvpx", "libvpx"), ("libvpx-vp9", "vp9"), ("libx264", "h264")])
def test_stamp_survives_low_bitrate_compression(encoder, decoder):
    enc = av.CodecContext.create(encoder, "w")
    enc.width, enc.height, enc.pix_fmt, enc.bit_rate = 320, 240, "yuv420p", 150_000
    enc.time_base = Fraction(1, 30)
    # realtime settings, as the suite's publisher uses: a frame out per frame in
    enc.options = ({"preset": "ultrafast", "tune": "zerolatency"} if encoder == "libx264"
                   else {"deadline": "realtime", "lag-in-frames": "0", "cpu-used": "8"})
    dec = av.CodecContext.create(decoder, "r")
    read = []
    for index, picture in enumerate(_pictures(30)):
        picture.pts = index
        for packet in enc.encode(picture):
            read += [stamp.read(f) for f in dec.decode(packet)]
    numbers = [s.number if s else None for s in read]
    assert numbers == list(range(len(numbers))) and len(numbers) >= 20, f"stamps read after {encoder}: {numbers}"


def test_age_is_modular():
    assert stamp.Stamp(1, (1 << 32) - 10).age_ms(now_ms=5) == 15


def test_measurement_counts_lost_frames_and_freezes():
    m = Measurement()
    now = stamp.clock_ms()
    arrivals = [i / 30 for i in range(10)] + [10 / 30 + 0.5] + [10 / 30 + 0.5 + i / 30 for i in range(1, 5)]
    numbers = list(range(10)) + [13, 14, 15, 16, 17]  # 10-12 never arrived
    for arrival, number in zip(arrivals, numbers):
        m.add(arrival, stamp.Stamp(number, now - 40))
    m.add(arrivals[-1] + 1 / 30, None)
    figures = m.figures()
    assert (figures["frames_lost"], figures["freezes"], figures["frames_unstamped"]) == (3, 1, 1), figures
    assert 40 <= figures["latency_p95_ms"] < 1000, figures
