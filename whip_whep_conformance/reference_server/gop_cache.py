"""The current group of pictures of one forwarded video stream, for instant join.

A joining viewer that waits for the publisher's next keyframe waits for a keyframe request, its
coalescing (one per 300 ms for all viewers) and the encoder; several viewers joining together wait
longest. Like Janus's `videobufferkf` and SRS's GOP cache, the relay keeps the last keyframe and the
packets that followed, and starts a new viewer from them at once (`Relay._start`).

Bounded: a group longer than MAX_PACKETS, MAX_BYTES or MAX_SPAN_S of media is dropped until the
next keyframe (a joiner then asks for one, as without the cache). The span bounds how old the first
pictures a joiner decodes can be; MAX_PACKETS stays under the relay's NACK history, so a viewer's
NACK of a packet of its burst can still be answered.

A burst's pictures are as old as the group: a viewer decodes them at once, then the live ones, so its
first second of latency figures shows the group's age. To keep that short, the relay asks for a new
keyframe when a viewer POSTs and the group is older than FRESH_S (`age_s`): the viewer's ICE and DTLS
take about as long as the encoder, so the new keyframe is usually cached by the time it connects, and
the join never waits for it.
"""

from __future__ import annotations

import time

from aiortc.rtp import RtpPacket

MAX_PACKETS = 800  # < relay.HISTORY (1024)
MAX_BYTES = 1_500_000
MAX_SPAN_S = 1.0  # of RTP time from the keyframe: the age of the oldest picture a joiner is sent
FRESH_S = 0.2  # a group younger than this serves a POSTing viewer without a new keyframe
CLOCK_RATE = 90000  # every video codec's RTP clock (RFC 7741, 9628, 6184)


def after(a: int, b: int, bits: int) -> bool:
    """Whether `a` comes after `b` in a wrapping counter (RFC 3550 serial arithmetic)."""
    return 0 < (a - b) % (1 << bits) < 1 << (bits - 1)


class GopCache:
    """The last keyframe of one stream and what followed it, in sequence order."""

    def __init__(self) -> None:
        self._gop: dict[int, RtpPacket] | None = None  # by sequence number; None: no usable group
        self._start_seq = self._start_ts = 0
        self._bytes = 0
        self._picture: list[RtpPacket] = []  # the packets of the newest picture (one RTP timestamp)
        self._keyframe_at = 0.0  # time.monotonic() when the group's keyframe arrived

    def add(self, packet: RtpPacket, keyframe: bool) -> None:
        """Keep a forwarded packet; `keyframe`: it starts a keyframe (keyframes.starts_keyframe),
        which starts a new group with the packets of its picture seen so far (H.264's SPS and PPS
        arrive before the IDR slice, under the same timestamp)."""
        if not self._picture or after(packet.timestamp, self._picture[0].timestamp, 32):
            self._picture = [packet]
        elif packet.timestamp == self._picture[0].timestamp:
            self._picture.append(packet)
        elif keyframe:
            # a keyframe's start that arrives after a newer picture (reordered, or repaired by RTX):
            # it cannot start a group whose later pictures the cache would not hold; an ordinary packet
            keyframe = False
        if keyframe:
            self._gop = {p.sequence_number: p for p in self._picture}
            self._start_seq = self._earliest(self._gop)
            self._start_ts = packet.timestamp
            self._keyframe_at = time.monotonic()
            self._bytes = sum(len(p.payload) for p in self._gop.values())
            return
        if self._gop is None or packet.sequence_number in self._gop:
            return
        if not after(packet.sequence_number, self._start_seq, 16):
            return  # from before the group's keyframe (reordered, or a late repair)
        self._gop[packet.sequence_number] = packet
        self._bytes += len(packet.payload)
        span_s = ((packet.timestamp - self._start_ts) % (1 << 32)) / CLOCK_RATE
        if len(self._gop) > MAX_PACKETS or self._bytes > MAX_BYTES or span_s > MAX_SPAN_S:
            self.clear()

    @staticmethod
    def _earliest(packets: dict[int, RtpPacket]) -> int:
        """The first sequence number of a few close ones, across a wrap."""
        numbers = list(packets)
        return next(s for s in numbers if not any(after(s, other, 16) for other in numbers))

    def age_s(self) -> float:
        """Seconds since the group's keyframe arrived; infinite when there is no group."""
        return time.monotonic() - self._keyframe_at if self._gop is not None else float("inf")

    def clear(self) -> None:
        """No usable group until the next keyframe (a simulcast switch, a group over its bounds)."""
        self._gop = None
        self._bytes = 0

    def packets(self) -> list[RtpPacket]:
        """The group in sequence order, [] when there is none."""
        if self._gop is None:
            return []
        return sorted(self._gop.values(), key=lambda p: (p.sequence_number - self._start_seq) % 0x10000)
