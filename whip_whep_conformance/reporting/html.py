"""`conformance.html`: one self-contained page a vendor can read, like h2spec's table of contents
with Autobahn's per-case detail (expectation, observation, wire log) one click away.

What needs attention comes first (failures, then errors, then warnings, each linking to its
case), then a compliance line per spec, the summary table, the media figures as a plot, and the
cases by section. Everything is inline (CSS, SVG, a few lines of JS) so the file opens from disk
or a CI artifact with no network; every value from the wire is escaped.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path

from whip_whep_conformance.protocol.profiles import spec_rank
from whip_whep_conformance.reporting.matrix import COLOURS
from whip_whep_conformance.reporting.svg import load_plots, media_plot
from whip_whep_conformance.reporting.results import requirement_verdicts
from whip_whep_conformance.verdicts import Verdict

# The failures-first list, in this order (worst first).
ATTENTION = ("Fail", "Error", "Warning")


def _natural(text: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _badge(verdict: str) -> str:
    return f'<span class="badge" style="background:{COLOURS.get(verdict, "#777")}">{escape(verdict)}</span>'


def _anchor(prefix: str, text: str) -> str:
    """An id usable in a URL fragment as it is."""
    return prefix + re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def spec_label(spec: str) -> str:
    """rfc9725 -> RFC 9725; drafts and other names as they are."""
    m = re.fullmatch(r"rfc(\d+)", spec)
    return f"RFC {m.group(1)}" if m else spec


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


def _ids(case: dict, linked: bool = True) -> str:
    reqs = case.get("requirements", [])
    return ", ".join(
        f'<a href="{escape(r["url"])}" rel="noreferrer">{escape(r["id"])}</a>' if linked and r.get("url") else escape(r["id"])
        for r in reqs
    )


def _params(case: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in case.get("params", {}).items())


def _known(case: dict) -> str:
    reason = case.get("known_failure")
    return f' <span class="known" title="{escape(reason)}">known failure (baseline)</span>' if reason else ""


def _case(case: dict, anchor: str) -> str:
    params = _params(case)
    parts = [
        f'<div class="case" id="{anchor}" data-verdict="{escape(case["verdict"])}">',
        f'<div class="head">{_badge(case["verdict"])}{_known(case)} <b>{_ids(case)}</b> <small>{escape(case.get("level", ""))}</small> '
        f'{escape(case.get("title", ""))} {f"<small>({escape(params)})</small>" if params else ""}'
        f'<small class="target">{escape(case.get("target", ""))}</small></div>',
    ]
    for r in case.get("requirements", []):
        parts.append(f'<div class="req-text">{escape(r["text"])}</div>')
    if case.get("known_failure"):
        parts.append(f'<div class="req-text">baseline: {escape(case["known_failure"])}</div>')
    if case.get("message"):
        parts.append(f'<pre class="message">{escape(case["message"])}</pre>')
    checks = [c for c in case.get("checks", []) if c["verdict"] != "Pass" and c["message"] not in case.get("message", "")]
    if checks:
        parts.append('<ul class="checks">' + "".join(f"<li>{_badge(c['verdict'])} {escape(c['id'])} {escape(c['message'])}</li>" for c in checks) + "</ul>")
    if case.get("figures"):
        parts.append("<p>figures: " + ", ".join(f"{escape(str(k))} = {escape(str(v))}" for k, v in case["figures"].items()) + "</p>")
    if case.get("wire_log"):
        parts.append(f'<details><summary>wire log ({len(case["wire_log"])} exchanges)</summary>'
                     + "".join(_exchange(e) for e in case["wire_log"]) + "</details>")
    parts.append(f'<small class="id">{escape(case["id"])} · {case.get("duration_s", 0)} s</small></div>')
    return "".join(parts)


def _attention(cases: list[dict], anchors: dict[int, str]) -> str:
    """Failures, then errors, then warnings: one line each, linking to the case."""
    rows = sorted((i for i, c in enumerate(cases) if c["verdict"] in ATTENTION),
                  key=lambda i: (ATTENTION.index(cases[i]["verdict"]), bool(cases[i].get("known_failure")), i))
    if not rows:  # nothing ran is not a clean run: say so only when cases did run
        return '<section id="attention"><h2>Needs attention</h2><p class="ok">No Fail, Error or Warning.</p></section>' if cases else ""
    items = []
    for i in rows:
        c = cases[i]
        first = [line if len(line) <= 240 else line[:239] + "…" for line in (c.get("message") or "").strip().splitlines()[:1]]
        params = _params(c)
        items.append(
            f'<li data-verdict="{escape(c["verdict"])}">{_badge(c["verdict"])}{_known(c)} '
            f'<a href="#{anchors[i]}"><b>{_ids(c, linked=False) or escape(c["id"])}</b> {escape(c.get("title", ""))}'
            f'{f" ({escape(params)})" if params else ""}</a> <small class="target">{escape(c.get("target", ""))}</small>'
            f'{f"<div class=first>{escape(first[0])}</div>" if first else ""}</li>'
        )
    tally = ", ".join(f"{n} {v}" for v, n in Counter(cases[i]["verdict"] for i in rows).items())
    return f'<section id="attention"><h2>Needs attention ({tally})</h2><ol class="attention">{"".join(items)}</ol></section>'


def compliance(cases: list[dict]) -> dict[str, dict[str, Counter]]:
    """Per spec and grade, how many requirements the cases checked came out how.

    A requirement's outcome is the worst verdict any case gave it (over every target); one that
    was only Not applicable, Skipped or Info (another revision's rule) was not checked."""
    levels = {r["id"]: r for c in cases for r in c.get("requirements", [])}
    worst: dict[str, Verdict] = {}
    for c in cases:
        ids = [r["id"] for r in c.get("requirements", [])]
        for rid, verdict in requirement_verdicts(c.get("checks", []), Verdict(c["verdict"]), ids).items():
            if rid not in levels or verdict in (Verdict.NOT_APPLICABLE, Verdict.SKIPPED, Verdict.INFO):
                continue
            worst[rid] = verdict if rid not in worst or verdict.rank < worst[rid].rank else worst[rid]
    result: dict[str, dict[str, Counter]] = {}
    for rid, verdict in worst.items():
        req = levels[rid]
        result.setdefault(req["spec"], {}).setdefault(req.get("grade", ""), Counter())[verdict.value] += 1
    return result


def compliance_line(spec: str, grades: dict[str, Counter]) -> str:
    """E.g. "RFC 9725: 49/49 MUSTs checked pass, 10/13 SHOULDs pass (3 warn)"."""
    parts = []
    if must := grades.get("fail"):
        n = sum(must.values())
        extra = [f"{must[v]} {v.lower()}" for v in ("Fail", "Error") if must[v]]
        parts.append(f"{must['Pass']}/{n} MUST{'s' if n != 1 else ''} checked pass" + (f" ({', '.join(extra)})" if extra else ""))
    if should := grades.get("warn"):
        n = sum(should.values())
        extra = [f"{should[v]} {'warn' if v == 'Warning' else v.lower()}" for v in ("Warning", "Fail", "Error") if should[v]]
        parts.append(f"{should['Pass']}/{n} SHOULD{'s' if n != 1 else ''} pass" + (f" ({', '.join(extra)})" if extra else ""))
    if may := grades.get("capability"):
        n = sum(may.values())
        parts.append(f"{may['Supported'] + may['Pass']}/{n} MAY{'s' if n != 1 else ''} supported")
    return f"{spec_label(spec)}: {', '.join(parts)}" if parts else ""


def _compliance(cases: list[dict]) -> str:
    by_spec = compliance(cases)
    lines = []
    for spec in sorted(by_spec, key=spec_rank):
        text = compliance_line(spec, by_spec[spec])
        if not text:
            continue
        grades = by_spec[spec]
        bad = any(g[v] for g in grades.values() for v in ("Fail", "Error"))
        warn = any(g["Warning"] for g in grades.values())
        cls = "bad" if bad else "warn" if warn else "good"
        lines.append(f'<li class="{cls}">{escape(text)}</li>')
    return f'<h2>Compliance by spec</h2><ul class="compliance">{"".join(lines)}</ul>' if lines else ""


MEDIA_COLUMNS = (("ttff_ms", "first frame (ms)"), ("latency_p50_ms", "latency p50 (ms)"),
                 ("latency_p95_ms", "p95 (ms)"), ("latency_max_ms", "max (ms)"), ("frames_decoded", "frames"),
                 ("frames_lost", "lost"), ("freezes", "freezes"))


def _is_media(case: dict) -> bool:
    """Figures with the unprefixed media keys (one viewer's TTFF and latency)."""
    return "latency_p95_ms" in case.get("figures", {}) or "ttff_ms" in case.get("figures", {})


def _media(cases: list[dict], anchors: dict[int, str]) -> str:
    """The media measurements: a plot, then the table, each row linking to its case."""
    rows = [(i, c) for i, c in enumerate(cases) if _is_media(c)]
    if not rows:
        return ""
    head = "".join(f"<th>{escape(label)}</th>" for _, label in MEDIA_COLUMNS)
    body = "".join(
        f"<tr><td>{escape(c.get('target', ''))}</td><td><a href=\"#{anchors[i]}\">{escape(_params(c) or c.get('name', c['id']))}</a></td>"
        + "".join(f"<td>{escape(str(c['figures'].get(key, '–')))}</td>" for key, _ in MEDIA_COLUMNS) + "</tr>"
        for i, c in rows
    )
    return (f'<section id="media"><h2>Media measurements</h2>{media_plot([c for _, c in rows])}'
            f'<div class="scroll"><table class="figures"><tr><th>target</th><th>case</th>{head}</tr>{body}</table></div></section>')


LOAD_COLUMNS = (("viewers", "viewers"), ("connected", "connected"), ("refused", "refused"), ("failed", "failed"),
                ("setup_ms", "set-up p50/p95 (ms)"), ("ttff_ms", "TTFF p50/p95 (ms)"), ("loss_pct", "loss p50/p95/max (%)"),
                ("latency_ms", "glass-to-glass p50/p95 (ms)"), ("decoding", "decoding"), ("generator_cpu", "generator CPU"))


def _load_cell(step: dict, key: str) -> str:
    value = step.get(key)
    if isinstance(value, dict):
        return " / ".join("–" if v is None else f"{v:g}" for v in value.values())
    if key == "generator_cpu":
        return ", ".join(f"{c:.0%}" for c in value or []) + (" saturated" if step.get("generator_saturated") else "")
    if key == "refused" and step.get("refusals"):
        return f"{value} (" + ", ".join(f"{k}: {n}" for k, n in step["refusals"].items()) + ")"
    return "–" if value is None else str(value)


def _load(doc: dict) -> str:
    """A load run (whip-whep-conformance load): its steps as plots and a table, the knee, why it ended."""
    load = doc.get("load")
    if not load:
        return ""
    steps = load.get("steps", [])
    head = "".join(f"<th>{escape(label)}</th>" for _, label in LOAD_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{escape(_load_cell(s, key))}</td>" for key, _ in LOAD_COLUMNS) + "</tr>" for s in steps)
    knee = load.get("knee")
    ended = f" · ended: {escape(load['ended_by'])}" if load.get("ended_by") else ""
    options = load.get("options", {})
    return (f'<section id="load"><h2>Load</h2><p>{escape(str(load.get("target", "")))} · viewers {escape(str(options.get("viewers", "")))}'
            f' · hold {escape(str(options.get("hold_s", "")))} s · {len(load.get("generators", []))} generator(s)'
            f' · <b>knee: {escape(str(knee)) if knee is not None else "none"}</b> viewers (loss p95 &lt; 1%, TTFF p95 &lt; 1 s){ended}</p>'
            f'{load_plots(steps)}<div class="scroll"><table class="figures"><tr>{head}</tr>{body}</table></div></section>')


def render(doc: dict) -> str:
    cases = doc.get("cases", [])
    anchors: dict[int, str] = {}
    used: set[str] = set()
    for i, case in enumerate(cases):
        a = _anchor("case-", case["id"])
        anchors[i] = a if a not in used else f"{a}-{i}"
        used.add(anchors[i])
    groups: dict[tuple[str, str], list[int]] = {}
    for i, case in enumerate(cases):
        req = case["requirements"][0] if case.get("requirements") else None
        key = (req["spec"], req["section"]) if req else ("Unmapped", "")
        groups.setdefault(key, []).append(i)
    ordered = sorted(groups, key=lambda k: (k[0] == "Unmapped", spec_rank(k[0]), _natural(k[1])))
    section_ids = {key: _anchor("sec-", f"{key[0]}-{key[1]}") for key in ordered}
    counts = doc.get("counts", {})

    def summary_row(key: tuple[str, str]) -> str:
        members = groups[key]
        tally = Counter(cases[i]["verdict"] for i in members).most_common()
        bad = [i for i in members if cases[i]["verdict"] in ATTENTION]
        links = " ".join(f'<a href="#{anchors[i]}">{_ids(cases[i], linked=False) or "case"}</a>' for i in bad)
        return (f'<tr><td><a href="#{section_ids[key]}">{escape(key[0])} §{escape(key[1])}</a></td><td>'
                + " ".join(f"{_badge(v)}&nbsp;{n}" for v, n in tally) + f'</td><td class="links">{links}</td></tr>')

    summary_rows = "".join(summary_row(key) for key in ordered)
    targets = "".join(
        f"<li>{escape(t.get('label', ''))} — WHIP {escape(t.get('whip_profile', ''))}, WHEP {escape(t.get('whep_profile', ''))}</li>"
        for t in doc.get("targets", [])
    )
    filters = "".join(
        f'<label><input type="checkbox" checked data-filter="{escape(v)}"> {_badge(v)} {n}</label> '
        for v, n in counts.items() if n
    )
    sections = "".join(
        f'<section id="{section_ids[key]}"><h2>{escape(key[0])} §{escape(key[1])}</h2>'
        f'{"".join(_case(cases[i], anchors[i]) for i in groups[key])}</section>'
        for key in ordered
    )
    # a load run grades no case: no summary of verdicts
    summary = (f'<h2>Summary</h2>\n<p id="filters">{filters}</p>\n<table class="summary">{summary_rows}</table>'
               if cases or not doc.get("load") else "")
    failed_on = "Load generator failed" if (doc.get("load") or {}).get("failed") == "generator" else "Target unreachable"
    error = f'<p class="error">{failed_on}: {escape(doc["error"])}</p>' if doc.get("error") else ""
    baseline = doc.get("baseline") or {}
    baseline_note = ""
    if baseline.get("known") or baseline.get("fixed"):  # a baseline was given (it names what this run checked)
        new = baseline.get("new_failures", [])
        baseline_note = (f'<p class="baseline">baseline: known failures seen again: {escape(", ".join(baseline.get("known", [])) or "none")}'
                         f' · new failures: {escape(", ".join(new[:12]) + (f" and {len(new) - 12} more" if len(new) > 12 else "") or "none")}'
                         + (f' · now passing, remove from the baseline: {escape(", ".join(baseline["fixed"]))}' if baseline.get("fixed") else "")
                         + "</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>WHIP/WHEP conformance report</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5em;max-width:80em;overflow-wrap:break-word}} h2{{border-bottom:1px solid #ccc;margin-top:1.5em}}
@media (max-width:600px){{body{{margin:.6em}}}}
.badge{{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;white-space:nowrap}}
.known{{background:#eceff1;color:#37474f;border:1px solid #b0bec5;border-radius:3px;padding:0 4px;font-size:12px;white-space:nowrap}}
.case{{border:1px solid #ddd;border-radius:4px;margin:.5em 0;padding:.5em}} .target,.id{{color:#777;display:block}}
.case:target{{outline:3px solid #1565c0}}
.req-text{{color:#333;margin:.2em 0}} pre{{background:#f6f6f6;padding:.4em;margin:.2em 0;white-space:pre-wrap;overflow-wrap:anywhere}}
pre.message{{background:#fff3f3}} .error{{background:#c62828;color:#fff;padding:.5em}} table td{{padding:2px 8px;vertical-align:top}}
table.figures td,table.figures th{{border-bottom:1px solid #eee;text-align:right;overflow-wrap:normal;white-space:nowrap}} table.figures td:first-child{{text-align:left;white-space:normal;min-width:10em}} table.figures td:nth-child(2),table.figures th:nth-child(-n+2){{text-align:left}}
.scroll{{overflow-x:auto;max-width:100%}} table.summary{{border-collapse:collapse}} table.summary td{{border-bottom:1px solid #eee}}
.links a{{margin-right:.4em;font-size:12px}}
.exchange{{border-left:3px solid #1565c0;padding-left:.5em;margin:.5em 0}} pre.res{{background:#eef4ff}}
ol.attention{{padding-left:1.6em}} ol.attention li{{margin:.3em 0}} .first{{color:#555;font-size:13px;overflow-wrap:anywhere}}
ul.compliance li{{margin:.2em 0;font-weight:600}} .compliance .bad{{color:#b71c1c}} .compliance .warn{{color:#8d6e00}} .compliance .good{{color:#1b5e20}}
.ok{{color:#1b5e20}} .plots{{display:flex;flex-wrap:wrap;gap:1em}} .plots svg{{flex:1 1 22em;max-width:40em;height:auto}}
</style></head><body>
<h1>WHIP/WHEP conformance report</h1>
{error}
<ul>{targets}</ul>
<p>started {escape(str(doc.get("started", "")))} · {doc.get("duration_s", "")} s · suite {escape(str(doc.get("suite_version", "")))}
· exit code {doc.get("exit_code")} · {len(cases)} cases</p>
{baseline_note}
{_compliance(cases)}
{_attention(cases, anchors)}
{summary}
{_media(cases, anchors)}
{_load(doc)}
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
