"""The reports of a load run: results.json (schema results/1, no cases, a `load` section) and
conformance.html (its load section with the plots, reporting/html.py and reporting/svg.py).

A load run grades no requirement, so `cases` is empty and `counts` all zero: readers of results/1 keep
working, and `whip-whep-conformance merge` refuses a load run by name (it has no verdicts to set side by side).
"""

from __future__ import annotations

from pathlib import Path

from whip_whep_conformance.reporting.html import write_html
from whip_whep_conformance.reporting.results import document, write_json

LOAD_SCHEMA = "whip-whep-conformance/load/1"


def write_reports(reports_dir: Path, *, load: dict, started: str, finished: str, duration_s: float,
                  target: dict, exit_code: int, error: str | None) -> Path:
    """Write results.json and conformance.html into `reports_dir`; the path of results.json."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    doc = document([], started=started, finished=finished, duration_s=duration_s, targets=[target],
                   exit_code=exit_code, error=error)
    doc["load"] = {"schema": LOAD_SCHEMA, **load}
    results = reports_dir / "results.json"
    write_json(doc, results)
    write_html(doc, reports_dir / "conformance.html")
    return results
