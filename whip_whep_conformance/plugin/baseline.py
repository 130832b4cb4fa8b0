"""Known failures (`--baseline`) and what fails the run.

A case fails the run when a requirement it grades Fail or Error (with --strict-conformance, Warning
too) is not a known failure; known failures seen again are reported, and those now passing are named
so the baseline can shrink.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.plugin.session import SuiteRun
from whip_whep_conformance.reporting.results import CaseResult, requirement_verdicts
from whip_whep_conformance.verdicts import Verdict

# Grades at which a requirement is seen failing (a Warning is a violated SHOULD: still not fixed),
# and those at which it is seen holding.
NOT_PASSING = (Verdict.FAIL, Verdict.ERROR, Verdict.WARNING)
PASSING = (Verdict.PASS, Verdict.SUPPORTED)
UNGRADED = (Verdict.NOT_APPLICABLE, Verdict.SKIPPED)  # the case did not get as far as judging


def load(config: pytest.Config) -> dict[str, str]:
    """--baseline FILE: requirement ID -> reason; a file that is no such list, or an unknown ID, is a usage error."""
    path = config.getoption("baseline")
    if not path:
        return {}
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {str(e["id"]): str(e.get("reason", "")) for e in entries}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise pytest.UsageError(f"--baseline {path}: not a JSON list of {{\"id\", \"reason\"}} objects ({exc})") from None
    unknown = [i for i in known if i not in registry.load()]
    if unknown:
        raise pytest.UsageError(f"--baseline {path}: unknown requirement IDs {unknown}")
    return known


def _grades(case: CaseResult) -> dict[str, Verdict]:
    return requirement_verdicts(case.checks, case.verdict, case.requirement_ids)


def _blocking(verdict: Verdict, strict: bool) -> bool:
    return verdict.fails_run or (verdict is Verdict.WARNING and strict)


def fails(case: CaseResult, run: SuiteRun) -> bool:
    """A case fails the run when a requirement it grades Fail/Error (with --strict-conformance,
    Warning too) is not a known failure in the baseline."""
    if not _blocking(case.verdict, run.strict):
        return False
    grades = _grades(case)
    return not grades or any(_blocking(v, run.strict) and i not in run.baseline for i, v in grades.items())


def known_failure(case: CaseResult, run: SuiteRun) -> str | None:
    """The baseline's reasons when this case sees known failures again and fails nothing else
    (junit.xml and the report mark it known rather than failed)."""
    if fails(case, run):
        return None
    known = [i for i, v in _grades(case).items() if v in NOT_PASSING and i in run.baseline]
    return "; ".join(f"{i}: {run.baseline[i]}" if run.baseline[i] else i for i in known) or None


def report(run: SuiteRun) -> dict:
    """Known failures seen again (at any grade that is not a pass: Fail, Error or Warning), known
    failures now passing in every case that grades them (the baseline can shrink: removing them
    cannot fail the run), and failures the baseline does not know."""
    seen: dict[str, list[Verdict]] = {}
    for case in run.cases:
        for rid, verdict in _grades(case).items():
            seen.setdefault(rid, []).append(verdict)
    bad = {i for i, vs in seen.items() if any(v in NOT_PASSING for v in vs)}
    blocking = {i for i, vs in seen.items() if any(_blocking(v, run.strict) for v in vs)}
    graded = {i: [v for v in vs if v not in UNGRADED] for i, vs in seen.items()}
    return {
        "known": sorted(i for i in run.baseline if i in bad),
        "fixed": sorted(i for i in run.baseline if graded.get(i) and all(v in PASSING for v in graded[i])),
        "new_failures": sorted(blocking - set(run.baseline)),
    }
