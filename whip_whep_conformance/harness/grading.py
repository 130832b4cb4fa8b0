"""One conformance case's checks and verdict, in the spirit of Autobahn's expectations.

Tests state what they expect against a requirement ID; the requirement's grade (not the test)
decides whether a miss is a Fail, a Warning, Unsupported or Info, and the profile in force
decides whether the requirement holds at all. An open proposal (a WHEPP-* row, registry.PROPOSALS_SPEC) is
the one exception: whatever its grade, its checks are capped at PROPOSAL_CAP, here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.registry import Requirement
from whip_whep_conformance.verdicts import Verdict, worst
from whip_whep_conformance.harness.outcome import CaseOutcome
from whip_whep_conformance.harness.wire import WireLog


class ConformanceFailure(CaseOutcome, AssertionError):
    """A violated MUST: the case fails with this message (an AssertionError to pytest)."""

    verdict = Verdict.FAIL

    def __init__(self, requirement: Requirement, message: str) -> None:
        super().__init__(message)
        self.requirement = requirement


class NotApplicable(CaseOutcome, pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The case does not apply to this target (feature absent, option not given); a skip to pytest."""

    verdict = Verdict.NOT_APPLICABLE

    def reason(self) -> str:
        return str(self.msg)


class ArrangeFailed(NotApplicable):
    """A step that only sets the case up failed ("arranging a viewer failed: POST answered 500").

    Not applicable, not an Error: what went wrong is a rule graded once, in the case about it (the
    message names that rule), and counting it again in every case that needed the step would turn
    one defect into dozens. The case's wire log shows the exchange. The message always starts
    "arranging …" or "no usable answer", so the report never shows the suite's internals."""


class CaseEnded(CaseOutcome, pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The case has its verdict already (e.g. the target lacks an optional feature): stop here.

    A skip to pytest (nothing crashed); the plugin reports the verdict of the checks made."""

    verdict = None

    def reason(self) -> str:
        return str(self.msg)


@dataclass
class Check:
    requirement_id: str
    verdict: Verdict
    message: str

    def to_json(self) -> dict:
        return {"id": self.requirement_id, "verdict": self.verdict.value, "message": self.message}


# Rules of Cloudflare's product (the brief), not of any spec: one publisher per live input, the live
# inputs API and its URLs. A plain WHIP/WHEP endpoint owes none of them, so they are graded only where
# the product is being tested (a live inputs API, or the Cloudflare profile pair); elsewhere what was
# seen is Info. (The brief's media rules stay graded: that --whep-endpoint plays what --endpoint
# publishes is what the user says by giving both.)
PRODUCT_RULES = frozenset({"BRIEF-PUB-1", "BRIEF-URL-1", "BRIEF-API-1", "BRIEF-API-2", "BRIEF-API-3"})

# The most an open proposal's check can give (a row of registry.PROPOSALS_SPEC, run only under --whep-proposals):
# the working group has not decided, so a server is told where it stands and never failed. The rows keep the
# proposal's own level and grade, so a proposal merged into a draft (rows under that draft's spec) loses the cap.
PROPOSAL_CAP = Verdict.INFO


@dataclass
class CaseRecord:
    """What a case observed; the pytest plugin turns it into a results.json entry."""

    whip_profile: str
    whep_profile: str
    log: WireLog
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, float | int | str] = field(default_factory=dict)
    product_in_scope: bool = True  # False: a plain endpoint under the standard profiles (see PRODUCT_RULES)

    # --- grading -------------------------------------------------------------------------
    def _in_force(self, ids: tuple[str, ...]) -> tuple[Requirement | None, list[Requirement]]:
        reqs = [registry.get(i) for i in ids]
        for req in reqs:
            if req.applies_to(self.whip_profile, self.whep_profile):
                return req, reqs
        return None, reqs

    def profile_of(self, req: Requirement) -> str:
        return self.whip_profile if req.protocol == "whip" else self.whep_profile

    def expect(self, ok: bool, *ids: str, message: str) -> bool:
        """Record that the requirement(s) `ids` hold (`ok`) or not; a missed MUST raises.

        With several IDs (the same rule in different revisions), the first that holds in the
        profile in force grades the check.
        """
        req, reqs = self._in_force(ids)
        proposal = next((r for r in reqs if r.proposed), None)
        if proposal is not None:
            self._proposal_seen(proposal, ok, message)
            return ok
        if req is not None and req.id in PRODUCT_RULES and not self.product_in_scope:
            note = "holds" if ok else f"observed: {self.log.redact(message)}"
            self.checks.append(Check(req.id, Verdict.INFO,
                                     f"{req.id} is a rule of Cloudflare's product, not of WHIP/WHEP: graded only against a "
                                     f"live inputs API (--live-inputs) or the Cloudflare profiles; {note}"))
            return ok
        if req is None:
            names = ", ".join(f"{r.id} ({', '.join(r.profiles)})" for r in reqs)
            note = "holds" if ok else f"not required by {self._profiles_text()}; observed: {self.log.redact(message)}"
            self.checks.append(Check(reqs[0].id, Verdict.INFO, f"{names}: {note}"))
            return ok
        if ok:
            self.checks.append(Check(req.id, Verdict.PASS, ""))
            return True
        text = self.log.redact(self.describe(req, message))
        self.checks.append(Check(req.id, req.violation, text))
        if req.violation is Verdict.FAIL:
            raise ConformanceFailure(req, text)
        return False

    def capability(self, supported: bool, req_id: str, message: str) -> bool:
        req = registry.get(req_id)
        if req.proposed:
            self._proposal_seen(req, supported, message)
            return supported
        verdict = Verdict.SUPPORTED if supported else Verdict.UNSUPPORTED
        self.checks.append(Check(req_id, verdict, self.log.redact(message)))
        return supported

    def unsupported(self, req_id: str, message: str) -> NoReturn:
        """The target lacks what this case is about: report Unsupported and end the case."""
        self.capability(False, req_id, message)
        raise CaseEnded(self.log.redact(message))

    def within(self, value: float | None, limit: float | None, req_id: str, message: str) -> bool:
        """A measured figure against a user's limit: Info when no limit was set, else Pass or Fail.

        Figures depend on the machine and network the suite runs on, so only the user can say
        what is too slow for them (e.g. `--max-latency-ms`).
        """
        req = registry.get(req_id)
        if limit is None or value is None:
            self.info(req_id, message if value is not None else f"not measured: {message}")
            return True
        if value <= limit:
            self.checks.append(Check(req.id, Verdict.PASS, ""))
            return True
        text = self.log.redact(self.describe(req, f"{message} (limit {limit:g})"))
        self.checks.append(Check(req.id, Verdict.FAIL, text))
        raise ConformanceFailure(req, text)

    def _proposal_seen(self, req: Requirement, met: bool, message: str) -> None:
        """An open proposal's check: PROPOSAL_CAP whether met or not, saying which, and what a merge would make of a miss."""
        pr = f"PR #{req.section[2:]}" if req.section.startswith("PR") else req.section
        if met:
            text = f"[{req.id}] open proposal ({pr}, not in any draft): met. {req.text}"
        else:
            would = {"fail": "a Fail", "warn": "a Warning", "capability": "Unsupported", "info": "Info"}[req.grade]
            text = (f"open proposal ({pr}, not in any draft), not met; reported {PROPOSAL_CAP.value} until the working "
                    f"group decides (merged as written, {would})\n{self.describe(req, message)}")
        self.checks.append(Check(req.id, PROPOSAL_CAP, self.log.redact(text)))

    def info(self, req_id: str, message: str) -> None:
        registry.get(req_id)
        self.checks.append(Check(req_id, Verdict.INFO, self.log.redact(message)))

    def not_applicable(self, reason: str) -> NoReturn:
        raise NotApplicable(self.log.redact(reason))

    def describe(self, req: Requirement, message: str) -> str:
        req = req.cited(self.whip_profile, self.whep_profile)  # the revision in force's own section
        if req.spec == "brief":  # not a spec: its level is "brief" too, which read "brief brief:"
            where = "Cloudflare product brief" + (f" ({req.stated})" if req.stated.lower() != "brief" else "")
        else:
            spec = f"{req.spec} §{req.section}" if req.section[:1].isdigit() else req.spec
            where = f"{spec} {req.stated}"
        return (
            f"[{req.id}] {where}: {req.text}\n"
            f"  observed: {message}\n"
            f"  last exchange: {self.log.last()}"
        )

    def _profiles_text(self) -> str:
        return f"{self.whip_profile} / {self.whep_profile}"

    @property
    def verdict(self) -> Verdict:
        return worst([c.verdict for c in self.checks], default=Verdict.PASS)
