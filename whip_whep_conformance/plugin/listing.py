"""`--list-requirements`: the requirement registry as a table of contents, then exit."""

from __future__ import annotations

import os
import re
import sys

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.protocol import profiles


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """`--list-requirements`: the registry as a table of contents, then exit."""
    if not config.getoption("list_requirements"):
        return None
    try:
        _print_requirements()
    except BrokenPipeError:  # `--list-requirements | head`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print_requirements() -> None:
    rows = sorted(registry.load().values(), key=lambda r: (r.protocol, r.spec, _natural(r.section), _natural(r.id)))
    print(f"{'ID':16} {'LEVEL':8} {'GRADE':10} {'T'}  WHERE: PARAPHRASE")
    print(f"{'':16} {'':8} {'':10} {'^ testability: T HTTP only, M needs media, P partly, C client-only, N not black-box, I info'}")
    for req in rows:
        where = f"{req.spec} §{req.section}" if req.section[:1].isdigit() else req.spec
        profiles_note = f" [{', '.join(req.profiles)}]" if req.profiles else ""
        untested = f"\n{'':16} untested: {req.untested_reason}" if req.untested_reason else ""
        print(f"{req.id:16} {req.level:8} {req.grade:10} {req.testability}  {where}{profiles_note}: {req.text}{untested}")
    print(f"{len(rows)} requirements, {sum(1 for r in rows if not r.untested_reason)} checked by the suite")
    print("\nchecked / catalogued, by spec and grade (fail = MUST, warn = SHOULD, capability = MAY):")
    for spec in sorted({r.spec for r in rows}, key=profiles.spec_rank):
        counts = []
        for grade in registry.GRADES:
            of_grade = [r for r in rows if r.spec == spec and r.grade == grade]
            if of_grade:
                counts.append(f"{grade} {sum(1 for r in of_grade if not r.untested_reason)}/{len(of_grade)}")
        print(f"  {spec:36} {', '.join(counts)}")


def _natural(text: str) -> list:
    """Natural order ("4.10" after "4.9"); the console's case table sorts its sections by it too."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]
