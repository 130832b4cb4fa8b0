"""Verdicts a conformance case can reach, ordered from worst to best.

A violated MUST is a Fail, a violated SHOULD a Warning, a MAY is Supported or Unsupported and
never fails; Info records what was seen without grading it.
"""

from __future__ import annotations

from enum import Enum


class Verdict(str, Enum):
    ERROR = "Error"
    FAIL = "Fail"
    WARNING = "Warning"
    UNSUPPORTED = "Unsupported"
    INFO = "Info"
    SUPPORTED = "Supported"
    PASS = "Pass"
    NOT_APPLICABLE = "Not applicable"
    SKIPPED = "Skipped"

    @property
    def rank(self) -> int:
        """Lower is worse; a case's verdict is the worst of its checks."""
        return list(Verdict).index(self)

    @property
    def fails_run(self) -> bool:
        return self in (Verdict.ERROR, Verdict.FAIL)


def worst(verdicts: list[Verdict], default: Verdict = Verdict.PASS) -> Verdict:
    return min(verdicts, key=lambda v: v.rank, default=default)


# Exit codes of a conformance run (README "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREACHABLE = 6
