"""`--list-requirements`: the registry as a table of contents, with what the suite really checks.

"Checked" is what clean runs of the reference server grade (the generated `graded.toml`), not what
a marker or a file claims: a row is counted once a check of it has reached a verdict of its own.
"""

from __future__ import annotations

import re
from typing import Iterator

from whip_whep_conformance import registry
from whip_whep_conformance.protocol import profiles

HEADER = (
    f"{'ID':16} {'LEVEL':6} {'GRADE':10} {'T'}  WHERE: PARAPHRASE",
    f"{'':16} {'':6} {'':10} {'^ testability: T HTTP only, M needs media, P partly, C client-only, N not black-box, I info'}",
)


def lines() -> Iterator[str]:
    rows = sorted(registry.load().values(), key=lambda r: (r.protocol, r.spec, _natural(r.section), _natural(r.id)))
    checked = registry.checked_ids()
    yield from HEADER
    for req in rows:
        where = f"{req.spec} §{req.section}" if req.section[:1].isdigit() else req.spec
        profiles_note = f" [{', '.join(req.profiles)}]" if req.profiles else ""
        said = f" {req.stated}" if req.stated.lower() != req.spec.lower() else ""  # not "brief brief:"
        yield f"{req.id:16} {req.level:6} {req.grade:10} {req.testability}  {where}{said}{profiles_note}: {req.text}"
        if req.grade_reason:
            yield f"{'':16} graded {req.grade}: {req.grade_reason}"
        if req.untested_reason:
            yield f"{'':16} untested: {req.untested_reason}"
    yield f"{len(rows)} requirements, {sum(1 for r in rows if r.id in checked)} checked by the suite"
    yield "(checked: graded by a check in a clean run of the reference server, registry/graded.toml)"
    yield ""
    yield "checked / catalogued, by spec and grade (fail = MUST, warn = SHOULD, capability = MAY):"
    for spec in sorted({r.spec for r in rows}, key=profiles.spec_rank):
        counts = []
        for grade in registry.GRADES:
            of_grade = [r for r in rows if r.spec == spec and r.grade == grade]
            if of_grade:
                counts.append(f"{grade} {sum(1 for r in of_grade if r.id in checked)}/{len(of_grade)}")
        yield f"  {spec:36} {', '.join(counts)}"
    yield ""
    yield ("in force by profile (a protocol's rows that hold under that revision, whichever text they were read "
           f"from; {profiles.WHEP_04}'s from the editor's copy at 126ccac):")
    for protocol, revisions in (("whip", profiles.WHIP_PROFILES), ("whep", profiles.WHEP_PROFILES)):
        for revision in revisions:
            held = [r for r in rows if r.protocol == protocol and (not r.profiles or revision in r.profiles)]
            counts = [f"{grade} {sum(1 for r in held if r.grade == grade and r.id in checked)}/"
                      f"{sum(1 for r in held if r.grade == grade)}" for grade in registry.GRADES
                      if any(r.grade == grade for r in held)]
            yield f"  {revision:36} {', '.join(counts)}"


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]
