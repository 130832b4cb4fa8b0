"""The vendor matrix: several conformance runs side by side, one row per requirement.

Modelled on Autobahn|Testsuite's report: columns are runs (targets or profiles), cells are the
verdict each run reached for the requirement; rows where runs disagree stand out.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from whip_whep_conformance.protocol.profiles import spec_rank
from whip_whep_conformance.reporting.results import requirement_verdicts
from whip_whep_conformance.verdicts import Verdict, worst
from whip_whep_conformance.harness.wire import redact_document, url_secrets

COLOURS = {
    "Pass": "#2e7d32", "Supported": "#2e7d32", "Fail": "#c62828", "Error": "#c62828",
    "Warning": "#ef6c00", "Info": "#1565c0", "Unsupported": "#546e7a",
    "Not applicable": "#9e9e9e", "Skipped": "#9e9e9e",
}


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def load(paths: list[Path]) -> list[dict]:
    docs = []
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable results.json ({exc})") from None
        if not str(doc.get("schema", "")).startswith("whip-whep-conformance/results/"):
            raise ValueError(f"{path}: not a whip-whep-conformance results.json (schema {doc.get('schema')!r})")
        if doc.get("load") and not doc.get("cases"):
            raise ValueError(f"{path}: a load run (whip-whep-conformance load) grades no requirement: "
                             "nothing to set side by side (its figures are in its conformance.html)")
        doc["_path"] = str(path)
        docs.append(_redacted(doc))
    return docs


def _redacted(doc: dict) -> dict:
    """A run's target URL may carry a publish secret (a results.json written before labels were
    redacted): the matrix shows none of it, in headers or messages."""
    secrets = [s for t in doc.get("targets", []) for s in url_secrets(str(t.get("label", ""))) if s != "[redacted]"]
    return redact_document(doc, secrets) if secrets else doc


def _label(doc: dict) -> str:
    targets = "; ".join(f"{t['label']}" for t in doc.get("targets", [])) or doc.get("_path", "?")
    return f"{targets} — {doc.get('started', '')}"


def matrix(docs: list[dict]) -> tuple[list[dict], list[list[tuple[str, str]]]]:
    """Rows (requirements) and, per row, one (verdict, message) cell per run."""
    requirements: dict[str, dict] = {}
    cells: dict[str, dict[int, list[tuple[Verdict, str]]]] = {}
    for index, doc in enumerate(docs):
        for case in doc.get("cases", []):
            # Each requirement at the verdict its own checks gave it: a case that graded a MAY
            # Supported and a MUST Fail shows the MAY Supported, not Fail (one rule, one grade).
            graded = requirement_verdicts(case.get("checks", []), Verdict(case["verdict"]),
                                          [r["id"] for r in case.get("requirements", [])])
            messages = {c["id"]: c.get("message", "") for c in case.get("checks", []) if c.get("message")}
            for req in case.get("requirements", []):
                requirements.setdefault(req["id"], req)
                verdict = graded.get(req["id"], Verdict(case["verdict"]))
                message = messages.get(req["id"], "") if verdict is not Verdict(case["verdict"]) else case.get("message", "")
                cells.setdefault(req["id"], {}).setdefault(index, []).append((verdict, message))
    rows = sorted(requirements.values(), key=lambda r: (spec_rank(r["spec"]), _natural(r["section"]), _natural(r["id"])))
    table = []
    for req in rows:
        line = []
        for index in range(len(docs)):
            seen = cells[req["id"]].get(index)
            if not seen:
                line.append(("—", ""))
                continue
            verdict = worst([v for v, _ in seen])
            line.append((verdict.value, next((m for v, m in seen if v is verdict and m), "")))
        table.append(line)
    return rows, table


def render(docs: list[dict]) -> str:
    rows, table = matrix(docs)
    head = "".join(
        f"<th>{escape(_label(d))}<br><small>{escape(d.get('_path', ''))} · exit {d.get('exit_code')}</small></th>" for d in docs
    )
    body = []
    for req, line in zip(rows, table):
        differs = len({v for v, _ in line}) > 1
        cells = "".join(
            f'<td class="v" style="background:{COLOURS.get(v, "#eee")}" title="{escape(m[:600])}">{escape(v)}</td>'
            for v, m in line
        )
        link = f'<a href="{escape(req["url"])}" rel="noreferrer">{escape(req["spec"])} §{escape(req["section"])}</a>' if req.get("url") else escape(req["spec"])
        body.append(
            f'<tr class="{"differs" if differs else "same"}"><td><b>{escape(req["id"])}</b> '
            f'<small>{escape(req["level"])}</small><br><small>{link}</small></td>'
            f'<td class="text">{escape(req["text"])}</td>{cells}</tr>'
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>WHIP/WHEP conformance matrix</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5em}} table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:4px 6px;vertical-align:top}} th{{background:#f4f4f4;font-weight:600}}
td.v{{color:#fff;text-align:center;white-space:nowrap}} td.text{{max-width:32em}}
tr.differs td:first-child{{border-left:5px solid #ef6c00}} body.only-diff tr.same{{display:none}}
</style></head><body>
<h1>WHIP/WHEP conformance matrix</h1>
<p>{len(docs)} runs, {len(rows)} requirements; rows where the runs disagree are marked on the left.
<label><input type="checkbox" onchange="document.body.classList.toggle('only-diff',this.checked)"> only differences</label></p>
<table><thead><tr><th>requirement</th><th>paraphrase</th>{head}</tr></thead>
<tbody>{''.join(body)}</tbody></table>
</body></html>
"""


def write_matrix(paths: list[Path], output: Path) -> int:
    docs = load(paths)
    tmp = output.with_suffix(output.suffix + ".tmp")
    tmp.write_text(render(docs), encoding="utf-8")
    tmp.replace(output)
    return len(docs)
