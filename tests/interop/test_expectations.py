"""The lab's comparison of a run with its expectations: every difference fails, in either direction;
a known suite defect is reported apart only while the suite still gives the verdict recorded for it."""

from __future__ import annotations

from tests.interop import expectations
from tests.interop.expectations import Row

CASE = "suites/x.py::test_a[target]"


def _run(verdict: str, case: str = CASE) -> dict:
    return {"cases": [{"id": case, "verdict": verdict, "message": "observed: something"}]}


def _rows(verdict: str, pending: str = "", observed: str = "") -> dict[str, Row]:
    return {CASE: Row(CASE, verdict, "whip.js:1", "RFC 9725 §4.2", pending, observed)}


def test_the_expected_verdict_passes() -> None:
    assert expectations.compare(_rows("Fail"), _run("Fail")).ok


def test_a_lost_defect_fails() -> None:
    comparison = expectations.compare(_rows("Fail"), _run("Pass"))
    assert not comparison.ok and comparison.changed_ids == [CASE], comparison.report()


def test_a_new_fail_fails() -> None:
    assert not expectations.compare(_rows("Pass"), _run("Fail")).ok


def test_a_case_without_a_row_fails() -> None:
    comparison = expectations.compare({}, _run("Pass"))
    assert not comparison.ok and comparison.unexpected, comparison.report()


def test_a_row_whose_case_did_not_run_fails() -> None:
    comparison = expectations.compare(_rows("Pass"), {"cases": []})
    assert not comparison.ok and comparison.missing, comparison.report()


def test_a_pending_suite_fix_is_reported_apart_while_the_false_verdict_stays() -> None:
    comparison = expectations.compare(_rows("Not applicable", "item 3", "Fail"), _run("Fail"))
    assert comparison.ok and comparison.pending, comparison.report()


def test_a_landed_suite_fix_is_named() -> None:
    comparison = expectations.compare(_rows("Not applicable", "item 3", "Fail"), _run("Not applicable"))
    assert comparison.ok and comparison.fix_landed, comparison.report()


def test_a_pending_row_that_changes_otherwise_fails() -> None:
    assert not expectations.compare(_rows("Not applicable", "item 3", "Fail"), _run("Pass")).ok


def test_an_unjudged_row_fails_once_its_verdict_changes() -> None:
    assert not expectations.compare(_rows("unjudged", "item 5", "Error"), _run("Pass")).ok


def test_a_recheck_keeps_only_changes_that_repeat() -> None:
    first = expectations.compare(_rows("Pass"), _run("Warning"))
    again = expectations.compare(_rows("Pass"), _run("Pass"))
    assert expectations.recheck(first, again).ok


def test_every_expectation_file_loads_with_a_cause_for_each_row() -> None:
    for path in sorted(expectations.EXPECTED.glob("*.toml")):
        _, rows = expectations.load(path.stem)
        assert rows and all(r.cause and r.verdict for r in rows.values()), path.name
        assert all(r.observed for r in rows.values() if r.pending), f"{path.name}: a pending row without `observed`"
