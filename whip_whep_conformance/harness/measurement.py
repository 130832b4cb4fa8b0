"""What a viewer's decoded video says about the service: latency, lost frames, freezes.

Fed with each decoded picture's arrival time and frame stamp (`stamp.py`); figures are computed
on demand so a case can take them after as many frames as it waited for.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from whip_whep_conformance.webrtc import stamp

FREEZE_MIN_MS = 150.0  # a gap counts as a freeze above max(3 frame intervals, interval + 150 ms) (WebRTC's freeze rule)


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile of a non-empty list (q=0.95 for p95)."""
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


@dataclass
class Measurement:
    latencies_ms: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    arrivals_s: list[float] = field(default_factory=list)
    unreadable: int = 0  # decoded pictures without a readable stamp

    def add(self, arrival_s: float, frame_stamp: stamp.Stamp | None) -> None:
        self.arrivals_s.append(arrival_s)
        if frame_stamp is None:
            self.unreadable += 1
            return
        self.latencies_ms.append(frame_stamp.age_ms())
        self.numbers.append(frame_stamp.number)

    @property
    def frames(self) -> int:
        return len(self.arrivals_s)

    def frames_lost(self) -> int:
        """Frame numbers missing between the first and last stamp seen (modulo the 24-bit counter)."""
        if not self.numbers:
            return 0
        span = (self.numbers[-1] - self.numbers[0]) % (1 << stamp.NUMBER_BITS) + 1
        return max(span - len(set(self.numbers)), 0)

    def freezes(self) -> list[float]:
        """Gaps between decoded pictures long enough to be seen as a frozen picture, in ms."""
        gaps = [(b - a) * 1000 for a, b in zip(self.arrivals_s, self.arrivals_s[1:])]
        if len(gaps) < 3:
            return []
        typical = statistics.median(gaps)
        limit = max(3 * typical, typical + FREEZE_MIN_MS)
        return [g for g in gaps if g > limit]

    def latency(self, q: float) -> float | None:
        return float(quantile(self.latencies_ms, q)) if self.latencies_ms else None

    def figures(self, prefix: str = "") -> dict[str, float | int]:
        """Figures for a report: glass-to-glass p50/p95/max, lost frames, freezes."""
        figures: dict[str, float | int] = {f"{prefix}frames_decoded": self.frames,
                                           f"{prefix}frames_unstamped": self.unreadable}
        if self.latencies_ms:
            figures.update({
                f"{prefix}latency_p50_ms": self.latency(0.50) or 0,
                f"{prefix}latency_p95_ms": self.latency(0.95) or 0,
                f"{prefix}latency_max_ms": float(max(self.latencies_ms)),
            })
        freezes = self.freezes()
        figures.update({
            f"{prefix}frames_lost": self.frames_lost(),
            f"{prefix}freezes": len(freezes),
            f"{prefix}frozen_ms": round(sum(freezes)),
        })
        return figures
