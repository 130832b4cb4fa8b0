"""The one root of every exception that ends a case with a verdict of its own.

As httpx keys everything off one root exception, the plugin reads a case's verdict from the
exception that ended it (`exc.verdict`, `exc.reason()`) instead of mapping unrelated classes one by
one. Each outcome keeps the pytest meaning it had: a violated MUST is an AssertionError (pytest shows
a failure), a case that does not apply is pytest's skip, an unreachable target is an ordinary
Exception; the root itself adds only the verdict.
"""

from __future__ import annotations

from typing import ClassVar

from whip_whep_conformance.verdicts import Verdict


class CaseOutcome(BaseException):
    """An exception that carries the verdict of the case it ends.

    Derived from BaseException, not Exception, so that the skips among its subclasses stay out of
    reach of an `except Exception` as pytest's own outcomes are; the others derive from Exception
    (or AssertionError) too, and are caught by it as before. Never raised itself.
    """

    verdict: ClassVar[Verdict | None] = Verdict.ERROR  # None: the checks the case made decide

    def reason(self) -> str:
        """What the report says about the verdict (the message of the exception, by default)."""
        return str(self)
