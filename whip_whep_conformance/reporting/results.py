"""`results.json` and `junit.xml`: the machine-readable outputs of a conformance run.

Schema `whip-whep-conformance/results/1` (documented in the README): one object per run with
the targets, counts per verdict, the exit code, and one entry per case with its requirement IDs,
level, profile, verdict, message, checks, figures and redacted wire log.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from whip_whep_conformance import __version__, registry
from whip_whep_conformance.verdicts import Verdict, worst

SCHEMA = "whip-whep-conformance/results/1"


@dataclass
class CaseResult:
    nodeid: str
    name: str
    title: str
    target: str
    whip_profile: str
    whep_profile: str
    requirement_ids: list[str]
    verdict: Verdict
    params: dict[str, str] = field(default_factory=dict)
    message: str = ""
    checks: list[dict] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    wire_log: list[dict] = field(default_factory=list)
    duration_s: float = 0.0
    fails_run: bool = False  # set once the run is over: this case alone makes the exit code 1
    known_failure: str | None = None  # the baseline's reasons, when it sees only known failures

    def to_transport(self) -> dict:
        """Plain data, so a worker process can hand the result to the process writing reports."""
        return {**dataclasses.asdict(self), "verdict": self.verdict.value}

    @classmethod
    def from_transport(cls, data: dict) -> "CaseResult":
        return cls(**{**data, "verdict": Verdict(data["verdict"])})

    def to_json(self) -> dict:
        reqs = [registry.get(i).cited(self.whip_profile, self.whep_profile) for i in self.requirement_ids]
        return {
            "id": self.nodeid,
            "name": self.name,
            "title": self.title,
            "target": self.target,
            "profile": {"whip": self.whip_profile, "whep": self.whep_profile},
            "params": self.params,
            "requirements": [
                {"id": r.id, "spec": r.spec, "section": r.section, "level": r.stated,
                 "grade": r.grade, "text": r.text, "url": r.url}
                for r in reqs
            ],
            "level": reqs[0].stated if reqs else "",
            "verdict": self.verdict.value,
            "message": self.message,
            "checks": self.checks,
            "figures": self.figures,
            "wire_log": self.wire_log,
            "duration_s": round(self.duration_s, 3),
            "fails_run": self.fails_run,
            "known_failure": self.known_failure,
        }


def requirement_verdicts(checks: list[dict], verdict: Verdict, requirement_ids: list[str]) -> dict[str, Verdict]:
    """The verdict of each requirement a case graded: the worst of its checks. A case verdict
    worse than every check (an Error, a Fail raised outside a check) is charged to all the case's
    requirements, since nothing says which one it belongs to."""
    grades: dict[str, Verdict] = {}
    for check in checks:
        rid, seen = check["id"], Verdict(check["verdict"])
        grades[rid] = worst([grades[rid], seen]) if rid in grades else seen
    if not grades or verdict.rank < min(v.rank for v in grades.values()):
        for rid in requirement_ids:
            grades[rid] = worst([grades[rid], verdict]) if rid in grades else verdict
    return grades


def counts(cases: list[CaseResult]) -> dict[str, int]:
    result = {v.value: 0 for v in Verdict}
    for c in cases:
        result[c.verdict.value] += 1
    return result


def document(cases: list[CaseResult], *, started: str, finished: str, duration_s: float,
             targets: list[dict], exit_code: int, error: str | None) -> dict:
    return {
        "schema": SCHEMA,
        "suite_version": __version__,
        "started": started,
        "finished": finished,
        "duration_s": round(duration_s, 2),
        "targets": targets,
        "exit_code": exit_code,
        "error": error,
        "counts": counts(cases),
        "cases": [c.to_json() for c in cases],
    }


def write_json(doc: dict, path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # never leave a half-written report behind


def _first_line(message: str, default: str) -> str:
    return message.splitlines()[0][:500] if message else default


def write_junit(doc: dict, path: Path) -> None:
    """JUnit XML for CI: a <failure> or <error> exactly for the cases that fail the run.

    Fail -> failure, Error -> error, a Warning under --strict-conformance -> failure; Not
    applicable/Skipped -> skipped. A case that sees only known failures of the baseline is
    <skipped message="known failure (baseline): ..."> with the full message in system-out: the
    run's exit code is 0 for it, and skipped is what every common consumer (Jenkins' JUnit
    plugin, GitLab's test report, GitHub actions such as dorny/test-reporter and
    mikepenz/action-junit-report, Azure Pipelines) shows as neither red nor a plain pass; pytest
    itself writes its expected failures (xfail) the same way. A property `known_failure` with the
    baseline's reason keeps it findable.
    """
    cases = doc["cases"]
    strict = bool(doc.get("strict_conformance"))

    def fails(case: dict) -> bool:  # documents written before fails_run existed: by verdict
        if "fails_run" in case:
            return bool(case["fails_run"])
        return case["verdict"] in ("Fail", "Error") or (strict and case["verdict"] == "Warning")

    failing = [c for c in cases if fails(c)]
    errors = sum(1 for c in failing if c["verdict"] == "Error")
    skipped = sum(1 for c in cases if not fails(c) and (c.get("known_failure") or c["verdict"] in ("Not applicable", "Skipped")))
    suite = ET.Element(
        "testsuite", name="whip-whep-conformance", tests=str(len(cases) + (1 if doc["error"] else 0)),
        failures=str(len(failing) - errors), errors=str(errors + (1 if doc["error"] else 0)),
        skipped=str(skipped), time=str(doc["duration_s"]),
    )
    if doc["error"]:
        err = ET.SubElement(suite, "testcase", classname="target", name="reach target", time="0")
        ET.SubElement(err, "error", message=doc["error"][:500]).text = doc["error"]
    for case in cases:
        classname = case["id"].split("::")[0].replace("/", ".").removesuffix(".py")
        tc = ET.SubElement(suite, "testcase", classname=classname, name=case["id"].split("::", 1)[-1], time=str(case["duration_s"]))
        props = ET.SubElement(tc, "properties")
        ET.SubElement(props, "property", name="verdict", value=case["verdict"])
        for req in case["requirements"]:
            ET.SubElement(props, "property", name="requirement", value=req["id"])
        verdict, message = case["verdict"], case["message"]
        if fails(case) and verdict == "Error":
            ET.SubElement(tc, "error", message=_first_line(message, "Error")).text = message
        elif fails(case):
            prefix = "Warning (--strict-conformance): " if verdict == "Warning" else ""
            ET.SubElement(tc, "failure", message=prefix + _first_line(message, verdict)).text = message
        elif case.get("known_failure"):
            ET.SubElement(props, "property", name="known_failure", value=case["known_failure"])
            ET.SubElement(tc, "skipped", message=f"known failure (baseline): {case['known_failure']} ({verdict}: {_first_line(message, verdict)})"[:1000])
            ET.SubElement(tc, "system-out").text = f"{verdict} (known failure, baseline: {case['known_failure']}): {message}"
        elif verdict in ("Not applicable", "Skipped"):
            ET.SubElement(tc, "skipped", message=message[:500])
        elif message:
            ET.SubElement(tc, "system-out").text = f"{verdict}: {message}"
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
