"""Checked-in expectations of the suite's verdicts on one lab server, and their comparison with a run.

A file `expected/<server>.toml` holds groups of cases that share a verdict and a cause:

    [[expect]]
    verdict = "Fail"
    cause = "simple-whip-server src/whip.js:523: GET on the endpoint answered 405"
    spec = "RFC 9725 §4.2"
    cases = ["suites/...::test_x[whip]"]
    # only while a known suite defect gives another verdict today:
    pending_suite_fix = "issue 17 item 3: a 5xx restart counted as supported"
    observed = "Pass"

`verdict` is the verdict the suite SHOULD give, judged from the spec text and the peer's source.
A pending row whose run shows `observed` is reported as pending (the lead sees which rows wait for a
suite fix); one that shows `verdict` means the fix landed (the pending mark should go); anything else
is a change and fails, like every other difference, in either direction.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

EXPECTED = Path(__file__).resolve().parent / "expected"


@dataclass(frozen=True)
class Row:
    case: str
    verdict: str
    cause: str
    spec: str
    pending: str = ""
    observed: str = ""


@dataclass
class Comparison:
    changed: list[str] = field(default_factory=list)        # fail the test
    unexpected: list[str] = field(default_factory=list)     # cases run but not in the file: fail
    missing: list[str] = field(default_factory=list)        # rows whose case did not run: fail
    pending: list[str] = field(default_factory=list)        # known suite defects, still there
    fix_landed: list[str] = field(default_factory=list)     # pending rows that now match
    changed_ids: list[str] = field(default_factory=list)    # the case ids behind `changed`

    @property
    def ok(self) -> bool:
        return not (self.changed or self.unexpected or self.missing)

    def report(self) -> str:
        parts = []
        for title, rows in (("changed verdicts (expected -> got)", self.changed),
                            ("cases with no expectation (add a row with its cause)", self.unexpected),
                            ("expected cases that did not run", self.missing),
                            ("pending suite fixes (the suite still gives the false verdict)", self.pending),
                            ("pending suite fixes that landed (drop the pending mark)", self.fix_landed)):
            if rows:
                parts.append(f"{title}: {len(rows)}\n  " + "\n  ".join(rows))
        return "\n".join(parts) or "all verdicts as expected"


def load(server: str) -> tuple[dict, dict[str, Row]]:
    """The file's header (suite options, notes) and its rows keyed by case id."""
    doc = tomllib.loads((EXPECTED / f"{server}.toml").read_text())
    rows: dict[str, Row] = {}
    for group in doc.get("expect", []):
        for case in group["cases"]:
            if case in rows:
                raise ValueError(f"{server}.toml lists {case} twice")
            rows[case] = Row(case, group["verdict"], group["cause"], group.get("spec", ""),
                             group.get("pending_suite_fix", ""), group.get("observed", ""))
    return doc, rows


def compare(rows: dict[str, Row], results: dict) -> Comparison:
    got = {c["id"]: c for c in results.get("cases", [])}
    out = Comparison()
    for case_id, case in sorted(got.items()):
        verdict = case["verdict"]
        row = rows.get(case_id)
        if row is None:
            out.unexpected.append(f"{case_id}: {verdict} ({_first_line(case)})")
        elif verdict == row.verdict:
            if row.pending:
                out.fix_landed.append(f"{case_id}: now {verdict} ({row.pending})")
        elif row.pending and verdict == row.observed:
            out.pending.append(f"{case_id}: {verdict}, should be {row.verdict} ({row.pending})")
        else:
            out.changed_ids.append(case_id)
            out.changed.append(f"{case_id}: expected {row.verdict} ({row.cause}), got {verdict}: {_first_line(case)}")
    out.missing = [f"{cid}: expected {row.verdict}" for cid, row in sorted(rows.items()) if cid not in got]
    return out


def recheck(first: Comparison, second: Comparison) -> Comparison:
    """`first` with its changed cases replaced by their verdicts in `second`, a re-run of just those cases:
    a media case can miss a deadline once on a loaded machine; a real change shows twice."""
    merged = Comparison(unexpected=first.unexpected, missing=first.missing,
                        pending=first.pending + second.pending, fix_landed=first.fix_landed + second.fix_landed)
    merged.changed, merged.changed_ids = second.changed, second.changed_ids
    return merged


def _first_line(case: dict) -> str:
    message = (case.get("message") or "").strip()
    return message.splitlines()[0][:240] if message else "no message"
