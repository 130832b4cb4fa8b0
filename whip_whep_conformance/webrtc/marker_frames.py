"""A video jitter buffer that hands a frame to the decoder at its last packet, as browsers do.

aiortc's JitterBuffer knows a frame is complete only when a packet of the *next* frame (another RTP
timestamp) arrives, so every frame waits one frame interval (33 ms at 30 fps) more than it must; for a
joiner whose first group of pictures comes in one burst, the burst's last frame waits for live media.
Browsers' packet buffers take a frame as complete at the packet with the RTP marker bit set when every
packet before it since the frame's first is there: the marker marks a video frame's last packet (RFC 3550
§5.1 via the payload formats: RFC 7741 §4.1 VP8, RFC 9628 §4.1 VP9, RFC 6184 §5.1 H.264). This does the
same, on top of aiortc's own rule (which still applies when a marker never comes); a gap still holds the
frame back. Like aiortc's, it hands on one frame per packet added: a frame completed out of order (its
gap filled after a later frame's marker came) goes out at the next packet. Opt-in (`Player(frames_at_marker=True)`): benchmarks/latency.py uses it, the suite's
players keep aiortc's rule.
"""

from __future__ import annotations

from aiortc.jitterbuffer import JitterBuffer, JitterFrame


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video JitterBuffer (capacity 512, no prefetch), completing a frame at its marker bit too."""

    def __init__(self) -> None:
        super().__init__(capacity=512, is_video=True)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        frame = super()._remove_frame(sequence_number)
        if frame is not None or self._origin is None:
            return frame
        packets = []
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None or (packets and packet.timestamp != packets[0].timestamp):
                return None  # a gap, or (aiortc's rule found nothing) a frame without its marker
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return JitterFrame(data=b"".join(p._data for p in packets), timestamp=packet.timestamp)  # type: ignore[attr-defined]
        return None


def install(receiver) -> None:
    """Give an aiortc video RTCRtpReceiver this jitter buffer (before any packet arrives)."""
    receiver._RTCRtpReceiver__jitter_buffer = MarkerJitterBuffer()
