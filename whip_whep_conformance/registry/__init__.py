"""The requirement registry: every statement the suite grades, with where it comes from.

Rows live in `registry/*.toml` (one file per protocol). IDs follow the catalogues' scheme
(`WHIP-4.2-4`, `WHEP01-…`, `WHEPL-…`, `HTTP-…`, `SDP-…`, `BRIEF-…`). A row names the profiles it holds
in; graded against another profile, a violation is reported as Info and says so.

A row's `level` is one of LEVELS (the spec's word as written, "SHALL", "will", "derived", stays in
`keyword`); its `grade` says what a violation is. Where the grade is not the level's own (LEVEL_GRADE)
the row says why in `grade_reason`, and the loader refuses it otherwise. Whether the suite checks a
row is not written in the row: it is what clean runs grade (`graded.toml`, see `checked_ids`); a row
no clean run grades says why in `untested_reason`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.verdicts import Verdict

GRADES = {"fail": Verdict.FAIL, "warn": Verdict.WARNING, "capability": Verdict.UNSUPPORTED, "info": Verdict.INFO}
PROTOCOLS = ("whip", "whep", "http", "sdp", "brief")
TESTABILITY = {"T", "M", "P", "C", "N", "I"}
# The closed set of levels, each with the grade a violation of it gets unless the row says otherwise.
LEVEL_GRADE = {"MUST": "fail", "SHOULD": "warn", "MAY": "capability", "INFO": "info"}
LEVELS = tuple(LEVEL_GRADE)
# The open pull requests of the WHEP working group (WHEPP-* rows): proposals, not yet in any draft. Their rows
# keep the proposal's own level and grade; while the proposal is open every verdict of theirs is capped at Info
# (harness/grading.py), and only `--whep-proposals` runs their cases.
PROPOSALS_SPEC = "whep-open-prs"
# The generated record of what clean runs grade (tests/graded_record.py writes it); not a file of rows.
GRADED_FILE = "graded.toml"


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
    keyword: str = ""  # the spec's word where it is not the level itself ("SHALL", "will", "derived", "brief")
    grade_reason: str = ""  # why the grade is not the level's own (LEVEL_GRADE)

    @property
    def stated(self) -> str:
        """The level as the spec words it, for messages and reports ("SHALL", not "MUST")."""
        return self.keyword or self.level

    @property
    def violation(self) -> Verdict:
        return GRADES[self.grade]

    @property
    def proposed(self) -> bool:
        """An open proposal (an unmerged pull request), not a rule of any published draft: reported, never graded."""
        return self.spec == PROPOSALS_SPEC

    @property
    def url(self) -> str:
        base = profiles.SPEC_URLS.get(self.spec)
        if base is None:
            return ""
        anchor = "section-" + self.section if self.section[:1].isdigit() else ""
        return f"{base}#{anchor}" if anchor else base

    def cited(self, whip_profile: str, whep_profile: str) -> "Requirement":
        """The row as the revision in force words it: under draft-ietf-wish-whep-04 a -03 row (and an
        editor's-copy row, -04's proxy) cites -04 and its section number there; otherwise the row itself."""
        if self.protocol == "whep" and whep_profile == profiles.WHEP_04 and whep_profile in self.profiles:
            if self.spec == profiles.WHEP_03:
                return replace(self, spec=profiles.WHEP_04, section=whep_04_section(self.section))
            if self.spec == "whep-editors-copy":
                return replace(self, spec=profiles.WHEP_04)
        return self

    def applies_to(self, whip_profile: str, whep_profile: str) -> bool:
        if not self.profiles:
            return True
        active = whip_profile if self.protocol == "whip" else whep_profile
        return active in self.profiles


def whep_04_section(section: str) -> str:
    """A draft-ietf-wish-whep-03 section's number in -04 (read from the editor's copy): -04 inserts §4.2
    "WHEP Endpoint URL Discoverability", so every §4 section from 4.2 on moves down one (-03 §4.2.8 is
    -04 §4.3.8, -03 §4.9 is -04 §4.10); §1-3, §4.1 and §5 on keep theirs."""
    parts = section.split(".")
    if len(parts) > 1 and parts[0] == "4" and parts[1].isdigit() and int(parts[1]) >= 2:
        parts[1] = str(int(parts[1]) + 1)
    return ".".join(parts)


class UnknownRequirement(KeyError):
    pass


@cache
def load() -> dict[str, Requirement]:
    rows: dict[str, Requirement] = {}
    folder = resources.files(__package__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml") or entry.name == GRADED_FILE:
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
    if req.level not in LEVELS:
        raise ValueError(f"{source}: {req.id}: level {req.level!r} not in {LEVELS} (the spec's own word goes in keyword)")
    own = LEVEL_GRADE[req.level]
    if req.grade != own and not req.grade_reason:
        raise ValueError(f"{source}: {req.id}: a {req.level} graded {req.grade!r} (not {own!r}) needs a grade_reason")
    if req.grade == own and req.grade_reason:
        raise ValueError(f"{source}: {req.id}: grade_reason given, but {req.grade!r} is the grade of a {req.level}")
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


def graded_in(cases: list[dict]) -> set[str]:
    """Requirement IDs a run graded (results.json's cases): a check that reached a verdict of its own.

    An Info check of a requirement that is not itself Info (a rule of another revision, a figure
    reported) grades nothing: that check could not have failed."""
    rows = load()
    return {c["id"] for case in cases for c in case["checks"]
            if c["verdict"] != Verdict.INFO.value or rows[c["id"]].grade == "info"}


@cache
def graded() -> dict[str, frozenset[str]]:
    """The record of clean runs: configuration name -> requirement IDs its checks graded."""
    text = resources.files(__package__).joinpath(GRADED_FILE).read_text(encoding="utf-8")
    return {run["name"]: frozenset(run["graded"]) for run in tomllib.loads(text).get("run", [])}


def checked_ids() -> frozenset[str]:
    """What the suite checks: every requirement some clean run grades."""
    return frozenset().union(*graded().values())
