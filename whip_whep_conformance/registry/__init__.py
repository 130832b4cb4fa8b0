"""The requirement registry: every statement the suite grades, with where it comes from.

Rows live in `registry/*.toml` (one file per protocol). IDs follow the catalogues' scheme
(`WHIP-4.2-4`, `WHEP01-…`, `WHEPL-…`, `HTTP-…`, `SDP-…`, `BRIEF-…`). A row names the profiles it holds
in; graded against another profile, a violation is reported as Info and says so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.verdicts import Verdict

GRADES = {"fail": Verdict.FAIL, "warn": Verdict.WARNING, "capability": Verdict.UNSUPPORTED, "info": Verdict.INFO}
PROTOCOLS = ("whip", "whep", "http", "sdp", "brief")
TESTABILITY = {"T", "M", "P", "C", "N", "I"}


@dataclass(frozen=True)
class Requirement:
    id: str
    protocol: str
    spec: str
    section: str
    level: str
    grade: str
    text: str
    testability: str
    profiles: tuple[str, ...] = field(default=())
    untested_reason: str = ""

    @property
    def violation(self) -> Verdict:
        return GRADES[self.grade]

    @property
    def url(self) -> str:
        base = profiles.SPEC_URLS.get(self.spec)
        if base is None:
            return ""
        anchor = "section-" + self.section if self.section[:1].isdigit() else ""
        return f"{base}#{anchor}" if anchor else base

    def applies_to(self, whip_profile: str, whep_profile: str) -> bool:
        if not self.profiles:
            return True
        active = whip_profile if self.protocol == "whip" else whep_profile
        return active in self.profiles


class UnknownRequirement(KeyError):
    pass


@cache
def load() -> dict[str, Requirement]:
    rows: dict[str, Requirement] = {}
    folder = resources.files(__package__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        for raw in data.get("requirement", []):
            req = Requirement(**{**raw, "profiles": tuple(raw.get("profiles", ()))})
            _validate(req, entry.name)
            if req.id in rows:
                raise ValueError(f"{entry.name}: requirement {req.id} is defined twice")
            rows[req.id] = req
    return rows


def _validate(req: Requirement, source: str) -> None:
    known = profiles.WHIP_PROFILES + profiles.WHEP_PROFILES
    if req.protocol not in PROTOCOLS:
        raise ValueError(f"{source}: {req.id}: protocol {req.protocol!r} not in {PROTOCOLS}")
    if req.grade not in GRADES:
        raise ValueError(f"{source}: {req.id}: grade {req.grade!r} not in {sorted(GRADES)}")
    if req.testability not in TESTABILITY:
        raise ValueError(f"{source}: {req.id}: testability {req.testability!r}")
    for p in req.profiles:
        if p not in known:
            raise ValueError(f"{source}: {req.id}: unknown profile {p!r}")


def get(req_id: str) -> Requirement:
    try:
        return load()[req_id]
    except KeyError:
        raise UnknownRequirement(f"requirement {req_id!r} is not in the registry") from None
