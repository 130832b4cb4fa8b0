"""conformance.html: parsed, self-contained, escaped, and complete; failures first, linked, with a
compliance line per spec and the media figures plotted; readable at desktop and phone width."""

import json
import re
from html.parser import HTMLParser

import pytest

from whip_whep_conformance.reporting.html import compliance_line, compliance, render, write_html

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
    """Case boxes (verdict, id), section headings, the failures list's links, external resources."""

    def __init__(self) -> None:
        super().__init__()
        self.cases: list[str] = []
        self.case_ids: list[str] = []
        self.headings: list[str] = []
        self.attention: list[tuple[str, str]] = []  # (verdict, href) in page order
        self.summary_links: list[str] = []
        self.scripts_with_src = 0
        self.stylesheets = 0
        self.external = 0  # src=, url(), <image>: anything fetched from elsewhere
        self._in_h2 = False
        self._section = ""
        self._list = ""
        self._item_verdict = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "case":
            self.cases.append(attrs["data-verdict"])
            self.case_ids.append(attrs["id"])
        if tag == "section":
            self._section = attrs.get("id", "")
        if tag in ("ol", "table"):
            self._list = attrs.get("class", "")
        if tag == "li" and self._list == "attention":
            self._item_verdict = attrs["data-verdict"]
        if tag == "a" and self._list == "attention" and attrs["href"].startswith("#"):
            self.attention.append((self._item_verdict, attrs["href"][1:]))
        if tag == "a" and self._list == "summary":
            self.summary_links.append(attrs["href"])
        self.scripts_with_src += tag == "script" and "src" in attrs
        self.stylesheets += tag == "link"
        self.external += tag in ("img", "image", "iframe") or ("src" in attrs)
        self._in_h2 = tag == "h2" and self._section.startswith("sec-")

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
    assert outline.scripts_with_src == 0 and outline.stylesheets == 0 and outline.external == 0 and "url(" not in html
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "expected 201 Created, got 200 OK" in html and "rfc9725.html#section-4.2" in html
    path = tmp_path / "conformance.html"
    write_html(_doc(), path)
    assert path.read_text() == html and [p.name for p in tmp_path.iterdir()] == ["conformance.html"]


def test_unreachable_target_is_shown_first():
    doc = _doc() | {"error": "target http://x is unreachable", "cases": [], "counts": {}}
    html = render(doc)
    assert "Target unreachable: target http://x is unreachable" in html and "No Fail, Error or Warning" not in html
    json.dumps(doc)


def test_media_figures_are_tabulated():
    doc = {"cases": [{"id": "suites/brief/test_latency.py::t[vp9]", "requirements": [], "verdict": "Info", "level": "",
                      "params": {"codec": "vp9"}, "target": "embedded", "checks": [], "wire_log": [],
                      "figures": {"ttff_ms": 91, "latency_p95_ms": 38.0, "frames_lost": 0}}], "counts": {}}
    html = render(doc)
    table = html[html.index("Media measurements"):]
    assert "codec=vp9" in table and "<td>91</td>" in table and "<td>38.0</td>" in table, table[:600]


def _verdict_case(n: int, verdict: str, req_id: str, grade: str, section: str = "4.2", message: str = "") -> dict:
    level = {"fail": "MUST", "warn": "SHOULD", "capability": "MAY"}[grade]
    req = {"id": req_id, "spec": "rfc9725", "section": section, "level": level, "grade": grade, "text": f"{req_id} text", "url": ""}
    return {"id": f"suites/whip/t.py::case{n}", "title": f"case {n}", "target": "embedded", "params": {}, "requirements": [req],
            "level": level, "verdict": verdict, "message": message or (f"{verdict}: observed something" if verdict != "Pass" else ""),
            "checks": [{"id": req_id, "verdict": verdict, "message": ""}] if verdict != "Error" else [],
            "figures": {}, "wire_log": [], "duration_s": 0.1}


def _mixed_doc() -> dict:
    cases = [
        _verdict_case(1, "Warning", "WHIP-S-1", "warn"),
        _verdict_case(2, "Pass", "WHIP-M-1", "fail"),
        _verdict_case(3, "Error", "WHIP-M-2", "fail", section="4.3"),
        _verdict_case(4, "Fail", "WHIP-M-3", "fail", section="4.3"),
        _verdict_case(5, "Pass", "WHIP-M-4", "fail"),
        _verdict_case(6, "Supported", "WHIP-Y-1", "capability"),
        _verdict_case(7, "Not applicable", "WHIP-M-5", "fail"),
    ]
    return {"cases": cases, "counts": {}, "targets": [], "error": None}


def test_failures_come_first_fail_then_error_then_warning_each_linking_to_its_case():
    outline = Outline()
    outline.feed(render(_mixed_doc()))
    ids = {int(cid.rsplit("case", 1)[1]): cid for cid in outline.case_ids}  # case boxes are in section order
    assert outline.attention == [("Fail", ids[4]), ("Error", ids[3]), ("Warning", ids[1])], (outline.attention, ids)


def test_summary_rows_link_to_their_sections_and_to_the_failing_cases():
    html = render(_mixed_doc())
    outline = Outline()
    outline.feed(html)
    targets = {href[1:] for href in outline.summary_links}
    sections = set(re.findall(r'<section id="(sec-[^"]+)"', html))
    failing = {cid for cid in outline.case_ids if cid.endswith(("case1", "case3", "case4"))}
    assert targets == sections | failing, (targets, sections)


def test_compliance_line_counts_each_checked_requirement_of_each_spec_once():
    doc = _mixed_doc()
    doc["cases"].append(_verdict_case(8, "Pass", "WHIP-S-1", "warn"))  # the same SHOULD passing elsewhere: still warns
    line = compliance_line("rfc9725", compliance(doc["cases"])["rfc9725"])
    assert line == "RFC 9725: 2/4 MUSTs checked pass (1 fail, 1 error), 0/1 SHOULD pass (1 warn), 1/1 MAY supported"
    assert line in render(doc)


def _media_doc() -> dict:
    def media(n: int, codec: str, ttff: int, p50: float, p95: float, top: float) -> dict:
        return {"id": f"suites/brief/test_latency.py::t[{codec}]", "name": "t", "title": "latency", "requirements": [],
                "verdict": "Info", "level": "", "params": {"codec": codec}, "target": "embedded", "checks": [], "wire_log": [],
                "message": "", "duration_s": 3,
                "figures": {"ttff_ms": ttff, "latency_p50_ms": p50, "latency_p95_ms": p95, "latency_max_ms": top, "frames_lost": 0}}
    return {"cases": [media(1, "vp9", 200, 40.0, 51.0, 69.0), media(2, "vp8", 100, 42.0, 60.0, 75.0)], "counts": {}}


def test_media_figures_are_plotted_as_inline_svg_per_codec():
    html = render(_media_doc())
    svgs = re.findall(r'<svg class="media-plot (\w+)".*?</svg>', html, re.S)
    ttff = re.search(r'<svg class="media-plot ttff".*?</svg>', html, re.S).group(0)
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', ttff)]
    assert (svgs, len(widths), round(widths[0] / widths[1], 2)) == (["ttff", "latency"], 2, 2.0), (svgs, widths)


def test_the_page_fits_desktop_and_phone_width_in_chromium(tmp_path):
    """Long unbroken messages and SDP lines wrap; the failures list and the plots are there."""
    from playwright.sync_api import sync_playwright

    from .clients.browser_harness import chromium

    doc = _mixed_doc()
    unbroken = "x" * 700
    doc["cases"][3]["message"] = f"[WHIP-M-3] observed: a=fingerprint:sha-256 {unbroken}\n  last exchange: POST http://127.0.0.1/{unbroken}"
    doc["cases"] += _media_doc()["cases"]
    doc["cases"][0]["wire_log"] = _doc()["cases"][0]["wire_log"]
    doc["cases"][0]["wire_log"][0]["response_body"] = "a=candidate:" + unbroken
    path = tmp_path / "conformance.html"
    write_html(doc, path)
    seen = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            for width in (1400, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(path.as_uri())
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                page.screenshot(path=str(tmp_path / f"conformance-{width}.png"), full_page=True)
                seen[width] = page.evaluate("""() => ({
                    overflow: document.scrollingElement.scrollWidth > innerWidth,
                    failures: document.querySelectorAll('ol.attention li').length,
                    plots: document.querySelectorAll('svg.media-plot').length,
                })""")
                page.close()
        finally:
            browser.close()
    expected = {"overflow": False, "failures": 3, "plots": 2}
    assert seen == {1400: expected, 390: expected}, f"{seen}; screenshots in {tmp_path}"


def test_known_failures_of_the_baseline_are_marked_and_listed_after_new_ones_of_their_verdict():
    doc = _mixed_doc()
    doc["cases"].append(_verdict_case(8, "Fail", "WHIP-M-6", "fail") | {"known_failure": "WHIP-M-6: vendor ticket 7"})
    doc["cases"][0] |= {"known_failure": "WHIP-S-1: planned"}
    outline = Outline()
    outline.feed(render(doc))
    order = [href.rsplit("case", 1)[1] for _, href in outline.attention]
    html = render(doc)
    assert (order, html.count('class="known" title="WHIP-M-6: vendor ticket 7"')) == (["4", "8", "3", "1"], 2), order
