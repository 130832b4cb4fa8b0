"""The ramp's arithmetic (load/ramp.py) on made-up records: a step's figures merged from two generators'
raw per-viewer values, the SLOs a step breaks or cannot check, and the knee."""

from __future__ import annotations

from whip_whep_conformance.load.ramp import Slos, StepFigures, knee


def record(index: int, *, step: int = 1, status: int = 201, state: str = "connected", setup_ms: float = 50.0,
           ttff_ms: float | None = 200.0, expected: int = 1000, received: int = 1000, decoding: bool = False,
           latencies_ms: list[int] | None = None, error: str = "") -> dict:
    """One viewer's record as a generator reports it (viewer.Viewer.record)."""
    return {"index": index, "step": step, "decoding": decoding, "status": status, "state": state, "error": error,
            "setup_ms": setup_ms, "ttff_ms": ttff_ms, "expected": expected, "received": received, "packets": received,
            "retransmissions": 0, "keyframes": 1, "keyframe_requests": 0, "session": f"/s/{index}",
            "session_url": f"http://127.0.0.1/s/{index}", "latencies_ms": latencies_ms or []}


def step_of(records: list[dict], **extra) -> dict:
    return StepFigures(1, len(records), records, [0.2, 0.3], 10.0, **extra).figures()


def test_loss_is_merged_from_both_generators_raw_records() -> None:
    first = [record(i, received=1000) for i in range(10)]  # generator 0: no loss
    second = [record(10 + i, received=900) for i in range(10)]  # generator 1: 10% each
    loss = step_of(first + second)["loss_pct"]
    assert (loss["p95"], loss["max"]) == (10.0, 10.0), \
        f"the quantiles of the 20 viewers' own losses, not of two generators' summaries: {loss}"


def test_set_up_time_counts_only_answered_posts() -> None:
    records = [record(0, setup_ms=100.0), record(1, setup_ms=120.0),
               record(2, status=503, state="refused", setup_ms=1.0, ttff_ms=None, error="503 Service Unavailable")]
    setup = step_of(records)["setup_ms"]
    assert setup["p50"] >= 100.0, f"a refusal's 1 ms answer is no set-up time: {setup}"


def test_a_latency_slo_without_a_decoding_viewer_is_unmeasured_not_met() -> None:
    step = step_of([record(i) for i in range(4)])
    slos = Slos(latency_ms=500.0)
    assert (slos.broken(step), len(slos.unmeasured(step))) == ([], 1), \
        f"no SLO broken, the latency SLO reported unmeasured: {slos.broken(step)}, {slos.unmeasured(step)}"


def test_a_ttff_slo_is_broken_by_the_steps_p95() -> None:
    step = step_of([record(i, ttff_ms=100.0) for i in range(19)] + [record(19, ttff_ms=2000.0)])
    assert Slos(ttff_ms=1000.0).broken(step), f"TTFF p95 {step['ttff_ms']} breaks a 1000 ms SLO"


def test_the_knee_is_the_most_viewers_a_good_step_held() -> None:
    good, lossy = step_of([record(i) for i in range(4)]), step_of([record(i, received=900) for i in range(8)])
    saturated = {**step_of([record(i) for i in range(16)]), "generator_saturated": True}
    assert knee([good, lossy, saturated]) == 4, "a lossy step and a saturated one do not count"


def test_a_step_whose_publisher_slowed_is_marked_and_not_a_knee() -> None:
    step = step_of([record(i) for i in range(4)], publisher_packets_per_s=50.0, publisher_baseline=100.0)
    assert (step["publisher_slowed"], knee([step])) == (True, None), f"slowed, no knee: {step['publisher_slowed']}"


def test_a_saturated_join_marks_the_step() -> None:
    step = step_of([record(i) for i in range(4)], join_cpu=[0.95, 0.2])
    assert step["generator_saturated"], f"a generator at 95% of a core while viewers joined: {step['generator_cpu_join']}"
