"""The requirement registry is well-formed and every conformance case names rows of it."""

import re

import pytest

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance import registry
from whip_whep_conformance.harness.grading import CaseRecord, ConformanceFailure
from whip_whep_conformance.verdicts import Verdict
from whip_whep_conformance.harness.wire import WireLog

ID = re.compile(r"^(WHIP-(\d+(\.\d+)*|D)-\d+|WHEP01-[\d.]+-\d+|WHEPL-[\d.]+-\d+|WHEPE-[\d.]+-\d+|WHEPX-[\d.]+-\d+|WHEPP-\d+-\d+|HTTP-\d+|SDP-[A-Z0-9]+-\d+|BRIEF-[A-Z]+-\d+)$")


def test_ids_follow_the_catalogue_scheme():
    bad = [i for i in registry.load() if not ID.match(i)]
    assert not bad, bad


def test_rows_link_to_their_spec_text():
    missing = [r.id for r in registry.load().values() if not r.url]
    assert not missing, f"rows without a spec URL: {missing}"


def _record(whip=profiles.RFC9725, whep=profiles.WHEP_03) -> CaseRecord:
    return CaseRecord(whip, whep, WireLog())


def test_a_missed_must_fails_with_the_requirement():
    record = _record()
    try:
        record.expect(False, "WHIP-4.2-4", message="got 200")
    except ConformanceFailure as failure:
        assert failure.requirement.id == "WHIP-4.2-4" and "got 200" in str(failure)
    else:
        raise AssertionError("a missed MUST did not raise")


def test_a_missed_should_is_a_warning():
    record = _record()
    assert record.expect(False, "WHIP-D-4", message="200 on second DELETE") is False
    assert record.verdict is Verdict.WARNING


def test_a_rule_of_another_revision_is_info():
    record = _record(whip=profiles.WHIP_06)
    record.expect(False, "WHIP-4.2-7", message="201 for text/plain")
    assert record.verdict is Verdict.INFO
    assert "not required by draft-ietf-wish-whip-06" in record.checks[0].message


def test_the_revision_in_force_picks_the_id():
    record = _record(whep=profiles.MURILLO_01)
    record.expect(True, "WHEPL-4.2.5-4", "WHEP01-4.1-5", message="")
    assert record.checks[0].requirement_id == "WHEP01-4.1-5"


def _named_by_tests() -> set[str]:
    """Requirement IDs the conformance tests' markers name."""
    import importlib
    import inspect
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    named: set[str] = set()
    for path in sorted((root / "whip_whep_conformance" / "suites").rglob("test_*.py")):
        module = importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
        for _, func in inspect.getmembers(module, inspect.isfunction):
            for mark in getattr(func, "pytestmark", []):
                if mark.name == "requirement":
                    named.update(mark.args)
    return named


def test_every_row_is_checked_or_says_why_not():
    """"Checked" is what clean runs grade (registry/graded.toml), not what a marker or a file claims."""
    rows, checked = registry.load(), registry.checked_ids()
    silent = sorted(i for i, r in rows.items() if not r.untested_reason and i not in checked)
    stale = sorted(i for i, r in rows.items() if r.untested_reason and i in checked)
    assert not silent, f"rows no clean run grades and no untested_reason explains: {silent}"
    assert not stale, f"rows a clean run grades that still carry an untested_reason (drop it): {stale}"


def test_markers_claim_only_what_a_check_grades():
    """A marker names what its case grades. One no clean run grades is a claim that can never fail (drop it),
    unless its row says why no clean run reaches the check (e.g. it needs a feature the reference server
    lacks, such as a WHIP extension): then it is not counted checked, and the reason is listed."""
    rows, checked = registry.load(), registry.checked_ids()
    ungraded = sorted(i for i in _named_by_tests() - checked if not rows[i].untested_reason)
    assert not ungraded, f"marker IDs no check grades in a clean run (grade them or drop them from the marker): {ungraded}"


def test_every_graded_requirement_is_named_by_a_marker():
    """`--requirement ID` selects cases by their markers: a graded ID no marker names could not be selected."""
    unnamed = sorted(registry.checked_ids() - _named_by_tests())
    assert not unnamed, f"requirements graded in a clean run that no marker names: {unnamed}"


def test_the_graded_record_names_registry_rows():
    unknown = sorted(registry.checked_ids() - set(registry.load()))
    assert not unknown, f"registry/graded.toml names IDs the registry lacks (regenerate it): {unknown}"


def test_levels_are_a_closed_set_and_odd_grades_say_why():
    rows = registry.load().values()
    assert {r.level for r in rows} <= set(registry.LEVELS), sorted({r.level for r in rows})
    unexplained = [r.id for r in rows if r.grade != registry.LEVEL_GRADE[r.level] and not r.grade_reason]
    assert not unexplained, f"rows graded other than their level without a grade_reason: {unexplained}"


def test_the_loader_refuses_an_odd_grade_without_a_reason():
    row = registry.Requirement(id="WHIP-4.2-4", protocol="whip", spec="rfc9725", section="4.2", level="MUST",
                               grade="warn", text="", testability="T")
    with pytest.raises(ValueError, match="grade_reason"):  # a MUST graded warn needs a reason
        registry._validate(row, "test.toml")


def test_the_loader_refuses_a_free_text_level():
    row = registry.Requirement(id="WHIP-4.2-4", protocol="whip", spec="rfc9725", section="4.2", level="SHALL",
                               grade="fail", text="", testability="T")
    with pytest.raises(ValueError, match="keyword"):  # the closed set is MUST, SHOULD, MAY, INFO
        registry._validate(row, "test.toml")


def test_an_info_check_of_a_must_grades_nothing():
    """A MUST seen only as Info (a figure reported, a rule of another revision) could not have failed."""
    cases = [{"checks": [{"id": "WHIP-4.2-4", "verdict": "Info", "message": ""},
                         {"id": "WHIP-4.2-5", "verdict": "Pass", "message": ""}]}]
    assert registry.graded_in(cases) == {"WHIP-4.2-5"}


def test_an_open_proposal_is_only_ever_info():
    """WHEPP-* rows keep their own grade (a MUST is "fail"), but while the proposal is open no check of theirs is
    worse than Info: a miss says what was seen and what a merge would make of it, a hit says it is met."""
    record = _record()
    assert registry.get("WHEPP-40-1").grade == "fail" and registry.get("WHEPP-40-1").proposed
    assert record.expect(False, "WHEPP-40-1", message="text/plain got 400") is False  # no ConformanceFailure
    record.expect(True, "WHEPP-40-5", message="")
    record.capability(False, "WHEPP-44-1", "refused whole (422)")
    assert [c.verdict for c in record.checks] == [Verdict.INFO] * 3 and record.verdict is Verdict.INFO
    missed, met, untaken = (c.message for c in record.checks)
    assert "not met" in missed and "text/plain got 400" in missed and "merged as written, a Fail" in missed
    assert "): met." in met and "merged as written, Unsupported" in untaken
    assert registry.graded_in([{"checks": [c.to_json() for c in record.checks]}]) == set()  # grades nothing
