"""The exceptions that end a case carry their verdict (one root, harness.outcome.CaseOutcome), and
keep the meaning they have to pytest: a violated MUST is a failed assertion, a case that does not
apply is a skip, an unreachable target or a read-only run's refusal is an ordinary exception."""

from __future__ import annotations

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.harness.client import CreationRefused
from whip_whep_conformance.harness.grading import ArrangeFailed, CaseEnded, ConformanceFailure, NotApplicable
from whip_whep_conformance.harness.outcome import CaseOutcome
from whip_whep_conformance.harness.wire import TargetUnreachable
from whip_whep_conformance.verdicts import Verdict

REQUIREMENT = registry.get("WHIP-4.2-4")

# the outcome, the verdict it carries (None: the case's checks decide), what pytest sees it as
OUTCOMES = [
    (ConformanceFailure(REQUIREMENT, "answered 200"), Verdict.FAIL, AssertionError),
    (NotApplicable("no WHEP endpoint"), Verdict.NOT_APPLICABLE, pytest.skip.Exception),
    (ArrangeFailed("arranging a viewer failed"), Verdict.NOT_APPLICABLE, pytest.skip.Exception),
    (CaseEnded("no trickle ICE"), None, pytest.skip.Exception),
    (CreationRefused("read-only"), Verdict.NOT_APPLICABLE, Exception),
    (TargetUnreachable("GET / failed"), Verdict.ERROR, Exception),
]


@pytest.mark.parametrize("outcome, verdict, to_pytest", OUTCOMES, ids=[type(o).__name__ for o, _, _ in OUTCOMES])
def test_an_outcome_carries_its_verdict_and_keeps_its_pytest_meaning(outcome, verdict, to_pytest):
    assert (isinstance(outcome, CaseOutcome), outcome.verdict, isinstance(outcome, to_pytest)) == (True, verdict, True), \
        f"{type(outcome).__name__}: a CaseOutcome with verdict {verdict} that pytest sees as {to_pytest.__name__}"


def test_a_skip_is_out_of_reach_of_except_exception():
    """As pytest's own outcomes: a case's `except Exception` never swallows Not applicable."""
    assert not isinstance(NotApplicable("n/a"), Exception), "NotApplicable must not be an Exception"


def test_an_unreachable_target_is_reported_as_a_crash_is():
    assert TargetUnreachable("GET / failed").reason() == "TargetUnreachable: GET / failed", \
        "the report names the exception's class, as for any Error"
