"""The merged vendor matrix: parsed, not just written."""

import json
from html.parser import HTMLParser
from pathlib import Path

from whip_whep_conformance.reporting.matrix import render, write_matrix


def _doc(label: str, verdict: str) -> dict:
    req = {"id": "WHIP-4.2-4", "spec": "rfc9725", "section": "4.2", "level": "MUST", "grade": "fail",
           "text": "201 <Created>", "url": "https://www.rfc-editor.org/rfc/rfc9725.html#section-4.2"}
    return {"schema": "whip-whep-conformance/results/1", "started": "2026-11-24T00:00:00+00:00", "exit_code": 0,
            "targets": [{"label": label}], "cases": [{"verdict": verdict, "message": "got <200>", "requirements": [req]}]}


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class"):
            self.rows.append((attrs["class"], []))
        if tag == "td" and attrs.get("class") == "v":
            self._in_cell = True

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][1].append(data)
            self._in_cell = False


def test_rows_where_runs_differ_stand_out(tmp_path: Path):
    paths = []
    for name, verdict in (("vendor-a", "Pass"), ("vendor-b", "Fail")):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(_doc(name, verdict)))
        paths.append(path)
    out = tmp_path / "matrix.html"
    assert write_matrix(paths, out) == 2
    parser = Cells()
    parser.feed(out.read_text())
    assert parser.rows == [("differs", ["Pass", "Fail"])]
    html = out.read_text()
    assert "<Created>" not in html and "&lt;Created&gt;" in html, "text is escaped"
    assert "<script src" not in html and "<link" not in html, "self-contained"


def test_not_a_results_file_is_refused(tmp_path: Path):
    bad = tmp_path / "x.json"
    bad.write_text('{"schema": "other"}')
    try:
        write_matrix([bad], tmp_path / "m.html")
    except ValueError as exc:
        assert "not a whip-whep-conformance results.json" in str(exc)
    else:
        raise AssertionError("a foreign JSON file was merged")
    assert render([_doc("a", "Pass")]).startswith("<!DOCTYPE html>")


def test_a_publish_secret_in_a_runs_target_url_is_not_shown(tmp_path: Path):
    """A results.json whose target label is a fixed publish URL with its secret (as runs wrote them once)."""
    secret = "0123456789abcdef0123456789abcdef"
    doc = _doc(f"https://media.example.com/{secret}/webRTC/publish", "Fail")
    doc["cases"][0]["message"] = f"POST https://media.example.com/{secret}/webRTC/publish -> 200"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    write_matrix([path], tmp_path / "matrix.html")
    html = (tmp_path / "matrix.html").read_text()
    assert secret not in html and "/[redacted]/webRTC/publish" in html, html
