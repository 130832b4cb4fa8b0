"""conformance.html: parsed, self-contained, escaped, and complete."""

import json
from html.parser import HTMLParser

from whip_whep.report_html import render, write_html

EVIL = "<script>alert(1)</script>"


def _doc() -> dict:
    req = {"id": "WHIP-4.2-4", "spec": "rfc9725", "section": "4.2", "level": "MUST", "grade": "fail",
           "text": "A successful ingest POST is answered exactly 201 Created.", "url": "https://www.rfc-editor.org/rfc/rfc9725.html#section-4.2"}
    wire = [{"method": "POST", "url": "http://127.0.0.1/x", "request_headers": [["Content-Type", "application/sdp"]],
             "request_body": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "status": 200, "reason": "OK",
             "response_headers": [["Content-Type", "text/html"]], "response_body": EVIL, "error": "", "elapsed_ms": 3.0}]
    return {
        "schema": "whip-whep-conformance/results/1", "suite_version": "0.1.0", "started": "2026-11-24T00:00:00+00:00",
        "duration_s": 1.0, "exit_code": 1, "error": None,
        "targets": [{"label": "embedded", "whip_profile": "rfc9725", "whep_profile": "draft-ietf-wish-whep-03"}],
        "counts": {"Fail": 1, "Pass": 1},
        "cases": [
            {"id": "a::fail", "title": "POST a valid offer", "target": "embedded", "params": {}, "requirements": [req],
             "level": "MUST", "verdict": "Fail", "message": "expected 201 Created, got 200 OK", "checks": [], "figures": {},
             "wire_log": wire, "duration_s": 0.1},
            {"id": "b::pass", "title": "another", "target": "embedded", "params": {"codec": "vp8"}, "requirements": [],
             "level": "", "verdict": "Pass", "message": "", "checks": [], "figures": {"connect_ms": 12}, "wire_log": [], "duration_s": 0.1},
        ],
    }


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cases: list[str] = []
        self.headings: list[str] = []
        self.scripts_with_src = 0
        self.stylesheets = 0
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "case":
            self.cases.append(attrs["data-verdict"])
        self.scripts_with_src += tag == "script" and "src" in attrs
        self.stylesheets += tag == "link"
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


def test_report_lists_cases_by_section_self_contained_and_escaped(tmp_path):
    html = render(_doc())
    outline = Outline()
    outline.feed(html)
    assert html.startswith("<!DOCTYPE html>")
    assert outline.cases == ["Fail", "Pass"]
    assert outline.headings == ["rfc9725 §4.2", "Unmapped §"]
    assert outline.scripts_with_src == 0 and outline.stylesheets == 0
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "expected 201 Created, got 200 OK" in html and "rfc9725.html#section-4.2" in html
    path = tmp_path / "conformance.html"
    write_html(_doc(), path)
    assert path.read_text() == html and [p.name for p in tmp_path.iterdir()] == ["conformance.html"]


def test_unreachable_target_is_shown_first():
    doc = _doc() | {"error": "target http://x is unreachable", "cases": [], "counts": {}}
    assert "Target unreachable: target http://x is unreachable" in render(doc)
    json.dumps(doc)


def test_media_figures_are_tabulated():
    doc = {"cases": [{"id": "suites/brief/test_latency.py::t[vp9]", "requirements": [], "verdict": "Info", "level": "",
                      "params": {"codec": "vp9"}, "target": "embedded", "checks": [], "wire_log": [],
                      "figures": {"ttff_ms": 91, "latency_p95_ms": 38.0, "frames_lost": 0}}], "counts": {}}
    html = render(doc)
    table = html[html.index("Media measurements"):]
    assert "codec=vp9" in table and "<td>91</td>" in table and "<td>38.0</td>" in table, table[:600]
