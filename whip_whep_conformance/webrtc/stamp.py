"""A frame stamp: the frame number and capture time drawn into the picture as big black/white blocks.

Measuring glass-to-glass latency needs to know, for each decoded picture, which published
picture it is and when it was captured. RTP timestamps cannot say that across a relay, so the
publisher draws both into the bottom of the luma plane: 64 blocks (two rows of 32), each one
bit, large enough that VP8, VP9 and H.264 at a few hundred kbit/s keep them readable. A CRC-8
rejects a stamp that compression or a half-decoded frame damaged.

The capture time is CLOCK_MONOTONIC in milliseconds, modulo 2^32: the same clock for every
process on the machine, so a viewer in another process can measure too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import av

COLUMNS, ROWS = 32, 2
BITS = COLUMNS * ROWS
NUMBER_BITS, TIME_BITS, CRC_BITS = 24, 32, 8
BLACK, WHITE = 16, 235  # video-range luma
THRESHOLD = (BLACK + WHITE) // 2


@dataclass(frozen=True)
class Stamp:
    number: int  # frame number, modulo 2^24
    captured_ms: int  # CLOCK_MONOTONIC milliseconds, modulo 2^32

    def age_ms(self, now_ms: int | None = None) -> int:
        """Milliseconds since capture (the clock wraps every 49 days; the difference does not care)."""
        now = clock_ms() if now_ms is None else now_ms
        return (now - self.captured_ms) % (1 << TIME_BITS)


def clock_ms() -> int:
    return (time.monotonic_ns() // 1_000_000) % (1 << TIME_BITS)


def block_size(width: int) -> int:
    return width // COLUMNS


def stamped_rows(stamp: Stamp, width: int) -> bytes:
    """The luma bytes of the stamp band: ROWS × block_size(width) picture rows of `width` bytes."""
    size = block_size(width)
    if size < 4:
        raise ValueError(f"a {width}-pixel-wide picture is too narrow for a frame stamp (needs {COLUMNS * 4})")
    bits = _bits(stamp)
    band = bytearray()
    for row in range(ROWS):
        line = bytearray()
        for column in range(COLUMNS):
            line += bytes([WHITE if bits[row * COLUMNS + column] else BLACK]) * size
        line += bytes([BLACK]) * (width - len(line))
        band += bytes(line) * size
    return bytes(band)


def band_height(width: int) -> int:
    return ROWS * block_size(width)


def read(frame: av.VideoFrame) -> Stamp | None:
    """The stamp of a decoded picture, or None when it has none or it is damaged."""
    if frame.format.name not in ("yuv420p", "yuvj420p", "nv12"):  # 8-bit luma first
        frame = frame.reformat(format="yuv420p")
    plane = frame.planes[0]
    data, stride = memoryview(plane), plane.line_size
    size = block_size(frame.width)
    top = frame.height - ROWS * size
    if top < 0:
        return None
    bits = []
    for row in range(ROWS):
        y = top + row * size + size // 2
        for column in range(COLUMNS):
            x = column * size + size // 2
            # the mean of a 2x2 patch at the block's centre, away from edge ringing
            value = (data[y * stride + x] + data[y * stride + x + 1]
                     + data[(y + 1) * stride + x] + data[(y + 1) * stride + x + 1]) // 4
            bits.append(value > THRESHOLD)
    return _stamp(bits)


def _bits(stamp: Stamp) -> list[bool]:
    payload = (stamp.number % (1 << NUMBER_BITS)) << TIME_BITS | stamp.captured_ms % (1 << TIME_BITS)
    word = payload << CRC_BITS | _crc8(payload.to_bytes(7, "big"))
    return [bool(word >> (BITS - 1 - i) & 1) for i in range(BITS)]


def _stamp(bits: list[bool]) -> Stamp | None:
    word = 0
    for bit in bits:
        word = word << 1 | bit
    payload, crc = word >> CRC_BITS, word & 0xFF
    if _crc8(payload.to_bytes(7, "big")) != crc:
        return None
    return Stamp(number=payload >> TIME_BITS, captured_ms=payload & ((1 << TIME_BITS) - 1))


def _crc8(data: bytes) -> int:
    """CRC-8/ATM (polynomial 0x07)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1 ^ 0x07) & 0xFF if crc & 0x80 else crc << 1 & 0xFF
    return crc
