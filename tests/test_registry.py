"""The requirement registry is well-formed and every conformance case names rows of it."""

import re

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


def test_every_row_is_tested_or_says_why_not():
    rows, named = registry.load(), _named_by_tests()
    silent = sorted(i for i, r in rows.items() if not r.untested_reason and i not in named)
    stale = sorted(i for i, r in rows.items() if r.untested_reason and i in named)
    assert not silent, f"rows no test checks and no untested_reason explains: {silent}"
    assert not stale, f"rows a test checks that still carry an untested_reason (drop it): {stale}"
