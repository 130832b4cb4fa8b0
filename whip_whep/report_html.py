"""`conformance.html`: one self-contained page a vendor can read, like h2spec's table of contents
with Autobahn's per-case detail (expectation, observation, wire log) one click away.

Everything is inline (CSS, a few lines of JS) so the file opens from disk or a CI artifact with
no network; every value from the wire is escaped.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path

from .profiles import spec_rank
from .report_matrix import COLOURS


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _badge(verdict: str) -> str:
    return f'<span class="badge" style="background:{COLOURS.get(verdict, "#777")}">{escape(verdict)}</span>'


def _body(text: str) -> str:
    """Bodies as sent: SDP one line per row (CRLF normalised)."""
    return f"<pre>{escape(text.replace(chr(13) + chr(10), chr(10)))}</pre>" if text else ""


def _exchange(e: dict) -> str:
    request = "\n".join([f"{e['method']} {e['url']}", *(f"{k}: {v}" for k, v in e["request_headers"])])
    if e.get("status") is None:
        response = f"no response: {e.get('error', '')}"
    else:
        response = "\n".join([f"{e['status']} {e.get('reason', '')}", *(f"{k}: {v}" for k, v in e["response_headers"])])
    return (
        f'<div class="exchange"><pre class="req">{escape(request)}</pre>{_body(e.get("request_body", ""))}'
        f'<pre class="res">{escape(response)}</pre>{_body(e.get("response_body", ""))}'
        f'<small>{e.get("elapsed_ms", "")} ms</small></div>'
    )


def _case(case: dict) -> str:
    reqs = case.get("requirements", [])
    ids = ", ".join(
        f'<a href="{escape(r["url"])}" rel="noreferrer">{escape(r["id"])}</a>' if r.get("url") else escape(r["id"])
        for r in reqs
    )
    params = " ".join(f"{k}={v}" for k, v in case.get("params", {}).items())
    parts = [
        f'<div class="case" data-verdict="{escape(case["verdict"])}">',
        f'<div class="head">{_badge(case["verdict"])} <b>{ids}</b> <small>{escape(case.get("level", ""))}</small> '
        f'{escape(case.get("title", ""))} {f"<small>({escape(params)})</small>" if params else ""}'
        f'<small class="target">{escape(case.get("target", ""))}</small></div>',
    ]
    for r in reqs:
        parts.append(f'<div class="req-text">{escape(r["text"])}</div>')
    if case.get("message"):
        parts.append(f'<pre class="message">{escape(case["message"])}</pre>')
    checks = [c for c in case.get("checks", []) if c["verdict"] != "Pass" and c["message"] not in case.get("message", "")]
    if checks:
        parts.append("<ul>" + "".join(f"<li>{_badge(c['verdict'])} {escape(c['id'])} {escape(c['message'])}</li>" for c in checks) + "</ul>")
    if case.get("figures"):
        parts.append("<p>figures: " + ", ".join(f"{escape(str(k))} = {escape(str(v))}" for k, v in case["figures"].items()) + "</p>")
    if case.get("wire_log"):
        parts.append(f'<details><summary>wire log ({len(case["wire_log"])} exchanges)</summary>'
                     + "".join(_exchange(e) for e in case["wire_log"]) + "</details>")
    parts.append(f'<small class="id">{escape(case["id"])} · {case.get("duration_s", 0)} s</small></div>')
    return "".join(parts)


MEDIA_COLUMNS = (("ttff_ms", "first frame (ms)"), ("latency_p50_ms", "latency p50 (ms)"),
                 ("latency_p95_ms", "p95 (ms)"), ("latency_max_ms", "max (ms)"), ("frames_decoded", "frames"),
                 ("frames_lost", "lost"), ("freezes", "freezes"))


def _media_table(cases: list[dict]) -> str:
    """The media measurements side by side (cases whose figures carry unprefixed latency keys)."""
    rows = [c for c in cases if "latency_p95_ms" in c.get("figures", {}) or "ttff_ms" in c.get("figures", {})]
    if not rows:
        return ""
    head = "".join(f"<th>{escape(label)}</th>" for _, label in MEDIA_COLUMNS)
    body = "".join(
        f"<tr><td>{escape(c.get('target', ''))}</td><td>{escape(' '.join(f'{k}={v}' for k, v in c.get('params', {}).items()))}</td>"
        + "".join(f"<td>{escape(str(c['figures'].get(key, '–')))}</td>" for key, _ in MEDIA_COLUMNS) + "</tr>"
        for c in rows
    )
    return f'<h2>Media measurements</h2><table class="figures"><tr><th>target</th><th>case</th>{head}</tr>{body}</table>'


def render(doc: dict) -> str:
    cases = doc.get("cases", [])
    groups: dict[tuple[str, str], list[dict]] = {}
    for case in cases:
        req = case["requirements"][0] if case.get("requirements") else None
        key = (req["spec"], req["section"]) if req else ("Unmapped", "")
        groups.setdefault(key, []).append(case)
    ordered = sorted(groups, key=lambda k: (k[0] == "Unmapped", spec_rank(k[0]), _natural(k[1])))
    counts = doc.get("counts", {})
    summary_rows = "".join(
        f"<tr><td>{escape(spec)} §{escape(section)}</td><td>"
        + " ".join(f"{_badge(v)}&nbsp;{n}" for v, n in Counter(c["verdict"] for c in groups[(spec, section)]).most_common())
        + "</td></tr>"
        for spec, section in ordered
    )
    targets = "".join(
        f"<li>{escape(t.get('label', ''))} — WHIP {escape(t.get('whip_profile', ''))}, WHEP {escape(t.get('whep_profile', ''))}</li>"
        for t in doc.get("targets", [])
    )
    filters = "".join(
        f'<label><input type="checkbox" checked data-filter="{escape(v)}"> {_badge(v)} {n}</label> '
        for v, n in counts.items() if n
    )
    sections = "".join(
        f'<section><h2>{escape(spec)} §{escape(section)}</h2>{"".join(_case(c) for c in groups[(spec, section)])}</section>'
        for spec, section in ordered
    )
    error = f'<p class="error">Target unreachable: {escape(doc["error"])}</p>' if doc.get("error") else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>WHIP/WHEP conformance report</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5em;max-width:80em}} h2{{border-bottom:1px solid #ccc;margin-top:1.5em}}
.badge{{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}}
.case{{border:1px solid #ddd;border-radius:4px;margin:.5em 0;padding:.5em}} .target,.id{{color:#777;display:block}}
.req-text{{color:#333;margin:.2em 0}} pre{{background:#f6f6f6;padding:.4em;overflow-x:auto;margin:.2em 0}}
pre.message{{background:#fff3f3}} .error{{background:#c62828;color:#fff;padding:.5em}} table td{{padding:2px 8px}}
table.figures td,table.figures th{{border-bottom:1px solid #eee;text-align:right}} table.figures td:first-child{{text-align:left}}
.exchange{{border-left:3px solid #1565c0;padding-left:.5em;margin:.5em 0}} pre.res{{background:#eef4ff}}
</style></head><body>
<h1>WHIP/WHEP conformance report</h1>
{error}
<ul>{targets}</ul>
<p>started {escape(str(doc.get("started", "")))} · {doc.get("duration_s", "")} s · suite {escape(str(doc.get("suite_version", "")))}
· exit code {doc.get("exit_code")} · {len(cases)} cases</p>
<p id="filters">{filters}</p>
<table>{summary_rows}</table>
{_media_table(cases)}
{sections}
<script>
document.querySelectorAll('#filters input').forEach(box => box.addEventListener('change', () => {{
  document.querySelectorAll('.case[data-verdict="' + box.dataset.filter + '"]')
    .forEach(c => c.style.display = box.checked ? '' : 'none');
}}));
</script>
</body></html>
"""


def write_html(doc: dict, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render(doc), encoding="utf-8")
    tmp.replace(path)
