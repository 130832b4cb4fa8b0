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

from . import __version__, registry
from .verdicts import Verdict

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

    def to_transport(self) -> dict:
        """Plain data, so a worker process can hand the result to the process writing reports."""
        return {**dataclasses.asdict(self), "verdict": self.verdict.value}

    @classmethod
    def from_transport(cls, data: dict) -> "CaseResult":
        return cls(**{**data, "verdict": Verdict(data["verdict"])})

    def to_json(self) -> dict:
        reqs = [registry.get(i) for i in self.requirement_ids]
        return {
            "id": self.nodeid,
            "name": self.name,
            "title": self.title,
            "target": self.target,
            "profile": {"whip": self.whip_profile, "whep": self.whep_profile},
            "params": self.params,
            "requirements": [
                {"id": r.id, "spec": r.spec, "section": r.section, "level": r.level,
                 "grade": r.grade, "text": r.text, "url": r.url}
                for r in reqs
            ],
            "level": reqs[0].level if reqs else "",
            "verdict": self.verdict.value,
            "message": self.message,
            "checks": self.checks,
            "figures": self.figures,
            "wire_log": self.wire_log,
            "duration_s": round(self.duration_s, 3),
        }


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


def write_junit(doc: dict, path: Path) -> None:
    """JUnit XML for CI: Fail → failure, Error → error, Not applicable/Skipped → skipped."""
    cases = doc["cases"]
    c = doc["counts"]
    suite = ET.Element(
        "testsuite", name="whip-whep-conformance", tests=str(len(cases)),
        failures=str(c["Fail"]), errors=str(c["Error"] + (1 if doc["error"] else 0)),
        skipped=str(c["Not applicable"] + c["Skipped"]), time=str(doc["duration_s"]),
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
        verdict = case["verdict"]
        if verdict == "Fail":
            ET.SubElement(tc, "failure", message=case["message"].splitlines()[0][:500] if case["message"] else "Fail").text = case["message"]
        elif verdict == "Error":
            ET.SubElement(tc, "error", message=case["message"].splitlines()[0][:500] if case["message"] else "Error").text = case["message"]
        elif verdict in ("Not applicable", "Skipped"):
            ET.SubElement(tc, "skipped", message=case["message"][:500])
        elif case["message"]:
            ET.SubElement(tc, "system-out").text = f"{verdict}: {case['message']}"
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
