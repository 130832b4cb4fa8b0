"""The ramp: steps of viewers (they accumulate), each held, then measured; the figures of a step, the SLOs
a step may break (which ends the ramp), and the knee.

Figures are merged from the raw per-viewer values every generator reports (never percentiles of
percentiles): set-up time and time to first frame of the viewers that joined in the step, packet loss of
every viewer over the step's window, glass-to-glass latency of every stamp the decoding sample read in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from whip_whep_conformance.harness.measurement import quantile

SATURATED_CPU = 0.85  # a generator process using this much of one core measures itself, not the target
PUBLISHER_SLOWED = 0.8  # a publisher sending under this share of the first step's packets/s has slowed
KNEE_LOSS_PCT, KNEE_TTFF_MS = 1.0, 1000.0  # the knee: the most viewers with loss < 1% and TTFF p95 < 1 s


def parse_viewers(text: str) -> list[int]:
    """`N` (one step) or `START:STOP:STEP` (a ramp, STOP included); ValueError saying what is wrong."""
    parts = text.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"--viewers={text}: give N or START:STOP:STEP (whole numbers)") from None
    if len(numbers) == 1:
        start = stop = numbers[0]
        step = 1
    elif len(numbers) == 3:
        start, stop, step = numbers
    else:
        raise ValueError(f"--viewers={text}: give N or START:STOP:STEP")
    if start < 1 or step < 1 or stop < start:
        raise ValueError(f"--viewers={text}: START and STEP must be at least 1 and STOP at least START")
    counts = list(range(start, stop + 1, step))
    return counts if counts[-1] == stop else counts + [stop]


@dataclass(frozen=True)
class Slos:
    ttff_ms: float | None = None
    loss_pct: float | None = None
    latency_ms: float | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.ttff_ms, self.loss_pct, self.latency_ms))

    def broken(self, step: dict) -> list[str]:
        """What the step missed, in words ("TTFF p95 1200 ms > 1000 ms")."""
        missed = []
        checks = (("TTFF p95", step["ttff_ms"]["p95"], self.ttff_ms, "ms"),
                  ("loss p95", step["loss_pct"]["p95"], self.loss_pct, "%"),
                  ("glass-to-glass p95", step["latency_ms"]["p95"], self.latency_ms, "ms"))
        for name, value, limit, unit in checks:
            if limit is None:
                continue
            if value is None:
                if name != "glass-to-glass p95" or step["decoding"]:  # no decoding viewer: unmeasured()
                    missed.append(f"{name} not measured (no viewer got {'a frame' if unit == 'ms' else 'media'})")
            elif value > limit:
                missed.append(f"{name} {value:g} {unit} > {limit:g} {unit}")
        return missed


    def unmeasured(self, step: dict) -> list[str]:
        """SLOs the step could not check at all (not the target's doing): a latency SLO with no decoding viewer."""
        if self.latency_ms is not None and not step["decoding"]:
            return ["--slo-latency-ms: no viewer decodes (a stamp is read only by a generator on the publisher's machine)"]
        return []


def _summary(values: list[float], *, top: bool = False) -> dict:
    """p50/p95 (and max) of raw values; an infinite value (a viewer that never got there) makes the
    quantile it reaches None (unmeasured), never a finite number that looks good."""
    if not values:
        return {"p50": None, "p95": None, **({"max": None} if top else {})}

    def shown(q: float) -> float | None:
        value = quantile(values, q)
        return None if math.isinf(value) else round(value, 2)

    summary = {"p50": shown(0.5), "p95": shown(0.95)}
    if top:
        summary["max"] = None if math.isinf(max(values)) else round(max(values), 2)
    return summary


@dataclass
class StepFigures:
    """The raw per-viewer values of one step, from every generator."""

    number: int  # 1-based
    asked: int  # viewers asked for, all steps so far
    records: list[dict] = field(default_factory=list)  # every viewer's report at the end of the window
    cpu: list[float] = field(default_factory=list)  # each generator's share of one core over the window
    window_s: float = 0.0
    join_cpu: list[float] = field(default_factory=list)  # each generator's share of one core while its viewers joined
    master_cpu: float | None = None  # the master's (the publishers encode in it) over the join and the hold
    publisher_packets_per_s: float | None = None  # what the publishers sent over the hold
    publisher_baseline: float | None = None  # the first step's: a step well below it had a slowed publisher

    def figures(self) -> dict:
        joined = [r for r in self.records if r["step"] == self.number]
        alive = [r for r in self.records if r["state"] == "connected"]
        refusals: dict[str, int] = {}
        for r in self.records:
            if r["state"] in ("refused", "unreachable"):
                key = str(r["status"]) if r["status"] is not None else "no answer"
                refusals[key] = refusals.get(key, 0) + 1
        losses = []
        for r in alive:
            expected, received = r["expected"], r["received"]
            losses.append(100.0 * (expected - received) / expected if expected > 0 else 100.0)
        latencies = [float(v) for r in alive for v in r["latencies_ms"]]
        packets = sorted(r["expected"] / self.window_s for r in alive if self.window_s > 0)
        saturated = any(c >= SATURATED_CPU for c in self.cpu + self.join_cpu)
        pps, baseline = self.publisher_packets_per_s, self.publisher_baseline
        slowed = (self.master_cpu is not None and self.master_cpu >= SATURATED_CPU) or (
            pps is not None and baseline is not None and pps < PUBLISHER_SLOWED * baseline)
        return {
            "step": self.number,
            "viewers": self.asked,
            "joined": len(joined),
            "connected": len(alive),
            "refused": sum(refusals.values()),
            "refusals": refusals,  # by HTTP status ("no answer": the POST got none)
            "failed": sum(1 for r in self.records if r["state"] not in ("connected", "refused", "unreachable")),
            "counter_offers": sum(1 for r in joined if r["status"] == 406 and r["state"] == "connected"),  # answered by PATCH
            "errors": sorted({r["error"] for r in self.records if r["error"]})[:5],
            "setup_ms": _summary([r["setup_ms"] for r in joined if r["setup_ms"] is not None and _answered(r)]),
            "ttff_ms": _summary([r["ttff_ms"] if r["ttff_ms"] is not None else math.inf for r in joined]),
            "without_first_frame": sum(1 for r in joined if r["ttff_ms"] is None),
            "loss_pct": _summary(losses, top=True),
            "latency_ms": _summary(latencies),
            "decoding": sum(1 for r in alive if r["decoding"]),
            "packets_per_s": round(packets[len(packets) // 2], 1) if packets else None,
            "keyframes": sum(r["keyframes"] for r in alive),
            "keyframe_requests": sum(r["keyframe_requests"] for r in joined),  # cheap viewers' PLIs before a first frame
            "generator_cpu": [round(c, 3) for c in self.cpu],
            "generator_cpu_join": [round(c, 3) for c in self.join_cpu],
            "generator_saturated": saturated,
            "master_cpu": None if self.master_cpu is None else round(self.master_cpu, 3),
            "publisher_packets_per_s": None if pps is None else round(pps, 1),
            "publisher_slowed": slowed,  # the load tool's own limit: its figures are not the target's
            "window_s": round(self.window_s, 2),
        }


def _answered(record: dict) -> bool:
    """Set-up time is POST -> 201 (or a 406 counter-offer answered by a 2xx PATCH): a refusal's quick
    answer would make the set-up figures look good."""
    if record["status"] == 201:
        return True
    return record["status"] == 406 and record["state"] not in ("refused", "unreachable") \
        and not record["error"].startswith("the 406 counter-offer could not")


def knee(steps: list[dict]) -> int | None:
    """The most viewers a step held with every asked viewer connected, loss p95 < 1% and TTFF p95 < 1 s
    (steps where a generator was saturated do not count: they measured the generator)."""
    good = [s["connected"] for s in steps
            if not s["generator_saturated"] and not s.get("publisher_slowed") and s["connected"] == s["viewers"]
            and s["loss_pct"]["p95"] is not None and s["loss_pct"]["p95"] < KNEE_LOSS_PCT
            and s["ttff_ms"]["p95"] is not None and s["ttff_ms"]["p95"] < KNEE_TTFF_MS]
    return max(good) if good else None


def console_line(step: dict) -> str:
    """One line per step, as the console shows it."""
    def pair(summary: dict, unit: str, digits: int = 0) -> str:
        def one(v):
            return "–" if v is None else f"{v:.{digits}f}"
        return f"p50 {one(summary['p50'])} / p95 {one(summary['p95'])}" + (
            f" / max {one(summary['max'])}" if "max" in summary else "") + f" {unit}"

    refused = f", {step['refused']} refused ({', '.join(f'{k}: {n}' for k, n in step['refusals'].items())})" if step["refused"] else ""
    failed = f", {step['failed']} failed" if step["failed"] else ""
    failed += f" ({step['counter_offers']} through a 406 counter-offer)" if step.get("counter_offers") else ""
    cpu = ", ".join(f"{c:.0%}" for c in step["generator_cpu"])
    return (f"step {step['step']}: {step['viewers']} viewers asked, {step['connected']} connected{refused}{failed}"
            f" · set-up {pair(step['setup_ms'], 'ms')} · TTFF {pair(step['ttff_ms'], 'ms')}"
            f" · loss {pair(step['loss_pct'], '%', 2)} · glass-to-glass {pair(step['latency_ms'], 'ms')}"
            f" ({step['decoding']} decoding) · generator CPU {cpu}"
            + (" · GENERATOR SATURATED (these figures are the generator's limit, not the target's)"
               if step["generator_saturated"] else "")
            + (" · PUBLISHER SLOWED (the master's CPU or its packets/s: not the target's doing)"
               if step.get("publisher_slowed") else ""))
