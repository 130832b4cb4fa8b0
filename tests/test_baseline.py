"""--baseline as a CI user relies on it: a known failure seen again, at whatever grade, stays known
(never "fixed, remove it"), keeps the run green, and does not turn CI's JUnit widgets red."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from whip_whep_conformance.reporting.results import write_junit

from .test_cli import STANDARD, _cli

# unknown-session-200 answers a DELETE of a session that does not exist (any more) with 200: a
# violated SHOULD (WHIP-D-4), so a Warning (tests/fault_map.toml) in both cases that grade it.
WARNING_FAULT = ["--server-fault=unknown-session-200", "--requirement=WHIP-D-4"]


def _junit_cases(path) -> dict[str, ET.Element]:
    return {tc.get("name"): tc for tc in ET.parse(path).getroot().iter("testcase")}


def test_a_baselined_warning_is_known_not_fixed_and_keeps_a_strict_run_green(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps([{"id": "WHIP-D-4", "reason": "unknown sessions answered 200 (ticket 12)"}]))
    reports = tmp_path / "reports"

    run = _cli([*STANDARD, *WARNING_FAULT, f"--baseline={baseline}", "--strict-conformance",
                f"--reports-dir={reports}", "-q"], tmp_path)

    doc = json.loads((reports / "results.json").read_text())
    warned = [c for c in doc["cases"] if c["verdict"] == "Warning"]
    assert warned, f"control: the fault must yield a Warning: {[c['verdict'] for c in doc['cases']]}"
    junit = _junit_cases(reports / "junit.xml")
    seen = {
        "exit": run.returncode,
        "baseline": doc["baseline"],
        "remove hint": "remove from the baseline" in run.stdout,
        "junit failures": [n for n, tc in junit.items() if tc.find("failure") is not None or tc.find("error") is not None],
        "junit known": sorted(n for n, tc in junit.items()
                              if (s := tc.find("skipped")) is not None and s.get("message", "").startswith("known failure (baseline)")),
    }
    assert seen == {
        "exit": 0,
        "baseline": {"known": ["WHIP-D-4"], "fixed": [], "new_failures": []},
        "remove hint": False,
        "junit failures": [],
        "junit known": sorted(c["id"].split("::", 1)[1] for c in warned),
    }, run.stdout[-3000:]


def test_without_the_baseline_the_same_warning_fails_a_strict_run_and_junit_shows_it(tmp_path):
    """The control of the test above: the Warning is what would fail the run."""
    reports = tmp_path / "reports"
    run = _cli([*STANDARD, *WARNING_FAULT, "--strict-conformance", f"--reports-dir={reports}", "-q"], tmp_path)
    failures = [tc.find("failure").get("message") for tc in _junit_cases(reports / "junit.xml").values() if tc.find("failure") is not None]
    assert (run.returncode, bool(failures), all(m.startswith("Warning (--strict-conformance)") for m in failures)) == (1, True, True), failures


def _case(verdict: str, **extra) -> dict:
    return {"id": f"suites/x.py::t[{verdict}]", "requirements": [{"id": "WHIP-4.2-4"}], "verdict": verdict,
            "message": f"{verdict} message\nmore", "duration_s": 0.1, **extra}


def test_junit_marks_known_failures_skipped_and_real_ones_failed(tmp_path):
    doc = {"error": None, "duration_s": 1, "strict_conformance": False, "counts": {}, "cases": [
        _case("Fail", fails_run=False, known_failure="WHIP-4.2-4: we answer 200"),
        _case("Error", fails_run=True, known_failure=None),
        _case("Warning", fails_run=False, known_failure=None),
    ]}
    path = tmp_path / "junit.xml"
    write_junit(doc, path)
    suite = ET.parse(path).getroot()
    shape = {tc.get("name"): [child.tag for child in tc if child.tag != "properties"] for tc in suite.iter("testcase")}
    counts = {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert (shape, counts) == (
        {"t[Fail]": ["skipped", "system-out"], "t[Error]": ["error"], "t[Warning]": ["system-out"]},
        {"tests": "3", "failures": "0", "errors": "1", "skipped": "1"},
    )
