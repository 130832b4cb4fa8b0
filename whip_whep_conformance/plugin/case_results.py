"""A case's verdict and result, made in the process that ran it, from how its phases ended.

The exception that ended a case carries its verdict (harness.outcome.CaseOutcome: a violated MUST
is a Fail, a case that does not apply is Not applicable, a case that has its verdict already is the
worst of its checks); any other skip is Skipped, any other exception an Error. The result travels
on the teardown report, which pytest-xdist sends from a worker to the reporting process.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.harness.case import CASE
from whip_whep_conformance.harness.grading import CaseRecord
from whip_whep_conformance.harness.outcome import CaseOutcome
from whip_whep_conformance.plugin.session import CASE_ATTR, SECRETS_ATTR, VERDICT_ATTR, case_id, run_of
from whip_whep_conformance.reporting.results import CaseResult
from whip_whep_conformance.verdicts import Verdict, worst

RESULT = pytest.StashKey[CaseResult]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if run_of(item.config) is None or item.get_closest_marker("requirement") is None:
        return
    record = item.stash.get(CASE, None)
    result = item.stash.get(RESULT, None)
    if result is None:
        result = _new_result(item)
        item.stash[RESULT] = result
    result.duration_s += report.duration
    if report.when in ("setup", "call") and call.excinfo is not None:
        result.verdict, result.message = _ended_by(call.excinfo, record)
        if record is not None:
            result.message = record.log.redact(result.message)
        setattr(report, VERDICT_ATTR, result.verdict.value)
    elif report.when == "call" and record is not None:
        result.verdict, result.message = _graded(record)
    if report.when == "call":
        setattr(report, VERDICT_ATTR, result.verdict.value)
    if report.when == "teardown":
        if record is not None and record.checks:
            # the requirements the case actually graded, in order (parametrized cases grade subsets)
            result.requirement_ids = list(dict.fromkeys(c.requirement_id for c in record.checks))
        if record is not None:
            result.checks = [c.to_json() for c in record.checks]
            result.figures = dict(record.figures)
            result.wire_log = [e.to_json() for e in record.log.exchanges]
        # Carried on the report, which pytest-xdist sends from a worker to the reporting process.
        setattr(report, CASE_ATTR, result.to_transport())
        setattr(report, SECRETS_ATTR, list(record.log.secrets) if record is not None else [])
        report.user_properties.append(("verdict", result.verdict.value))


def _new_result(item: pytest.Item) -> CaseResult:
    """The case's entry in results.json before any phase has ended: its id, title, target, requirements."""
    target = item.funcargs.get("target") if hasattr(item, "funcargs") else None
    doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
    return CaseResult(
        nodeid=case_id(item.nodeid), name=getattr(item, "originalname", item.name),
        title=doc[0] if doc else item.name,
        target=target.describe() if target else "",
        whip_profile=target.whip_profile if target else "",
        whep_profile=target.whep_profile if target else "",
        requirement_ids=_in_force(list(item.get_closest_marker("requirement").args), target),
        params=_params(item),
        verdict=Verdict.PASS,
    )


def _ended_by(excinfo: pytest.ExceptionInfo, record: CaseRecord | None) -> tuple[Verdict, str]:
    """The verdict and message of a phase that ended with an exception: the exception's own verdict
    (CaseOutcome), or the checks' when it leaves the verdict to them; else a skip, else an Error."""
    exc = excinfo.value
    if isinstance(exc, CaseOutcome) and exc.verdict is not None:
        return exc.verdict, exc.reason()
    if isinstance(exc, CaseOutcome) and record is not None:
        return _graded(record)
    if excinfo.errisinstance(pytest.skip.Exception):
        return Verdict.SKIPPED, str(getattr(exc, "msg", exc))
    return Verdict.ERROR, f"{type(exc).__name__}: {exc}".strip()


def _graded(record: CaseRecord) -> tuple[Verdict, str]:
    """A case that ended normally (or with its verdict already made) is the worst of its checks."""
    verdict = worst([c.verdict for c in record.checks], default=Verdict.PASS)
    return verdict, "\n".join(c.message for c in record.checks if c.verdict is not Verdict.PASS and c.message)


def _in_force(ids: list[str], target) -> list[str]:
    """The marker's IDs that hold under the target's profiles (all of them if none does)."""
    if target is None:
        return ids
    held = [i for i in ids if registry.get(i).applies_to(target.whip_profile, target.whep_profile)]
    return held or ids


def _params(item: pytest.Item) -> dict[str, str]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    return {k: str(v) for k, v in callspec.params.items() if k != "target"}
