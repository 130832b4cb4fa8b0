"""The media figures of a run as inline SVG bar charts (time to first frame, glass-to-glass latency
per codec), drawn here so the report stays one file with no scripts or fonts from elsewhere.

One row per media case, grouped by target; values come from each case's `figures` in
results.json. The charts scale with the page (viewBox), so they fit a phone as well as a desktop.
"""

from __future__ import annotations

import math
from html import escape

WIDTH = 480
ROW = 20  # height of one case's bar
HEADER = 18  # a target's label above its rows
TOP = 40  # title and legend
AXIS = 26  # tick labels under the plot
VALUE_ROOM = 170  # text right of the bars ("p50 40 · p95 51 · max 69")
CHAR_PX = 6.6  # a generous width of one character at 11px, for label room
FONT = 'font-family="system-ui,sans-serif"'


def _axis(value: float) -> tuple[float, float]:
    """A round tick step (1, 2 or 5 × 10^k) giving at most 5 intervals, and the axis end it makes."""
    value = max(value, 1.0)
    magnitude = 10 ** math.floor(math.log10(value / 5))
    for step in (1, 2, 5, 10, 20, 50):
        if value <= 5 * step * magnitude:
            step *= magnitude
            return step, step * math.ceil(value / step)
    return 10 * value, 10 * value  # not reached


LABEL_CHARS = 18  # longer row labels are cut (the full one is the row's tooltip)


def _full_label(case: dict) -> str:
    """The case's parameters (the codec), else its test's name."""
    name = str(case.get("name") or case.get("id", "").split("::")[-1].split("[")[0])
    return " ".join(str(v) for v in case.get("params", {}).values()) or name.removeprefix("test_").replace("_", " ")


def _label(case: dict) -> str:
    full = _full_label(case)
    return full if len(full) <= LABEL_CHARS else full[:LABEL_CHARS - 1] + "…"


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def _groups(cases: list[dict]) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {}
    for case in cases:
        groups.setdefault(str(case.get("target", "")), []).append(case)
    return list(groups.items())


def _chart(cases: list[dict], *, title: str, legend: str, css_class: str, maximum: float,
           bars) -> str:
    """A horizontal bar chart: `bars(case, x_of)` returns the SVG of one row's marks and its text."""
    groups = _groups(cases)
    label_px = max(48, max(len(_label(c)) for c in cases) * CHAR_PX + 10)
    plot_px = WIDTH - label_px - VALUE_ROOM
    height = TOP + sum(HEADER + ROW * len(rows) for _, rows in groups) + AXIS
    step, scale = _axis(maximum)

    def x_of(value: float) -> float:
        return round(label_px + plot_px * min(value, scale) / scale, 1)

    parts = [f'<svg class="{css_class}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="11">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="15" font-size="13" font-weight="600">{escape(title)}</text>',
             f'<text x="0" y="31" fill="#555">{escape(legend)}</text>']
    plot_top, bottom = TOP, height - AXIS
    for k in range(round(scale / step) + 1):  # grid and axis ticks
        value = step * k
        x = x_of(value)
        parts.append(f'<line x1="{x}" y1="{plot_top}" x2="{x}" y2="{bottom}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{x}" y="{bottom + 15}" text-anchor="middle" fill="#555">{value:g}</text>')
    parts.append(f'<text x="{WIDTH - 4}" y="{bottom + 15}" text-anchor="end" fill="#555">ms</text>')
    y = TOP
    for target, rows in groups:
        shown = target if len(target) <= 78 else target[:77] + "…"
        parts.append(f'<text x="0" y="{y + 13}" fill="#333" font-style="italic">{escape(shown)}<title>{escape(target)}</title></text>')
        y += HEADER
        for case in rows:
            mid = y + ROW / 2
            parts.append(f'<text x="{label_px - 6}" y="{mid + 4}" text-anchor="end">{escape(_label(case))}'
                         f'<title>{escape(_full_label(case))}</title></text>')
            marks, text = bars(case, x_of, y, mid)
            parts.append(marks)
            parts.append(f'<text x="{WIDTH - VALUE_ROOM + 6}" y="{mid + 4}" fill="#333">{escape(text)}</text>')
            y += ROW
    parts.append(f'<line x1="{label_px}" y1="{plot_top}" x2="{label_px}" y2="{bottom}" stroke="#777"/>')
    parts.append("</svg>")
    return "".join(parts)


def _ttff_bars(case: dict, x_of, y: float, mid: float) -> tuple[str, str]:
    value = _number(case.get("figures", {}).get("ttff_ms"))
    if value is None:
        return "", "not measured"
    x0 = x_of(0)
    return (f'<rect x="{x0}" y="{y + 4}" width="{max(1.0, x_of(value) - x0):.1f}" height="{ROW - 8}" fill="#1565c0">'
            f"<title>{escape(_label(case))}: first frame {value:g} ms</title></rect>", f"{value:g} ms")


def _latency_bars(case: dict, x_of, y: float, mid: float) -> tuple[str, str]:
    figures = case.get("figures", {})
    p50, p95, top = (_number(figures.get(k)) for k in ("latency_p50_ms", "latency_p95_ms", "latency_max_ms"))
    if p50 is None:
        return "", "not measured"
    x0 = x_of(0)
    marks = [f'<rect x="{x0}" y="{y + 4}" width="{max(1.0, x_of(p50) - x0):.1f}" height="{ROW - 8}" fill="#2e7d32">'
             f"<title>{escape(_label(case))}: p50 {p50:g} ms, p95 {p95 if p95 is not None else '–'} ms, max {top if top is not None else '–'} ms</title></rect>"]
    end = top if top is not None else p95
    if end is not None:
        marks.append(f'<line x1="{x_of(p50)}" y1="{mid}" x2="{x_of(end)}" y2="{mid}" stroke="#424242"/>')
        marks.append(f'<line x1="{x_of(end)}" y1="{mid - 4}" x2="{x_of(end)}" y2="{mid + 4}" stroke="#424242"/>')
    if p95 is not None:
        marks.append(f'<line x1="{x_of(p95)}" y1="{y + 3}" x2="{x_of(p95)}" y2="{y + ROW - 3}" stroke="#e65100" stroke-width="3"/>')
    text = " · ".join(f"{name} {v:g}" for name, v in (("p50", p50), ("p95", p95), ("max", top)) if v is not None)
    return "".join(marks), text


def media_plot(cases: list[dict]) -> str:
    """Both charts for the cases with media figures, or "" when no case measured any."""
    with_ttff = [c for c in cases if _number(c.get("figures", {}).get("ttff_ms")) is not None]
    with_latency = [c for c in cases if _number(c.get("figures", {}).get("latency_p50_ms")) is not None]
    charts = []
    if with_ttff:
        charts.append(_chart(
            with_ttff, title="Time to first frame", legend="from the viewer's POST to its first decoded frame",
            css_class="media-plot ttff", maximum=max(_number(c["figures"]["ttff_ms"]) for c in with_ttff), bars=_ttff_bars))
    if with_latency:
        peak = max(max(v for k in ("latency_p50_ms", "latency_p95_ms", "latency_max_ms")
                       if (v := _number(c["figures"].get(k))) is not None) for c in with_latency)
        charts.append(_chart(
            with_latency, title="Glass-to-glass latency", legend="bar: p50 · orange tick: p95 · whisker: max",
            css_class="media-plot latency", maximum=peak, bars=_latency_bars))
    return f'<div class="plots">{"".join(charts)}</div>' if charts else ""


# --- load runs: viewers against loss, time to first frame and latency (whip-whep-conformance load) ---------

PLOT_H = 180  # height of a line chart's plot area
LEFT = 44  # y tick labels
SERIES_COLOURS = {"p50": "#1565c0", "p95": "#e65100", "max": "#6a1b9a"}


def _line_chart(steps: list[dict], key: str, *, title: str, unit: str, names: tuple[str, ...]) -> str:
    """One line per quantile (`names`) of `step[key]` against the step's viewer count; a step whose
    generator was saturated is drawn hollow (its figures are the generator's limit)."""
    points = [(s["viewers"], s[key].get(name), s.get("generator_saturated", False), name)
              for s in steps for name in names if _number(s[key].get(name)) is not None]
    x_step, x_end = _axis(max(s["viewers"] for s in steps))
    y_step, y_end = _axis(max([v for _, v, _, _ in points] + [1.0]))
    plot_w = WIDTH - LEFT - 12
    bottom = TOP + PLOT_H

    def x_of(value: float) -> float:
        return round(LEFT + plot_w * value / x_end, 1)

    def y_of(value: float) -> float:
        return round(bottom - PLOT_H * min(value, y_end) / y_end, 1)

    height = bottom + AXIS + 14
    parts = [f'<svg class="load-plot {escape(key)}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="11">', f"<title>{escape(title)}</title>",
             f'<text x="0" y="15" font-size="13" font-weight="600">{escape(title)}</text>']
    legend_x = 0.0
    for name in names:
        parts.append(f'<text x="{legend_x}" y="31" fill="{SERIES_COLOURS[name]}" font-weight="600">{name}</text>')
        legend_x += len(name) * CHAR_PX + 12
    parts.append(f'<text x="{legend_x}" y="31" fill="#555">hollow: generator saturated</text>')
    for k in range(round(y_end / y_step) + 1):
        y = y_of(y_step * k)
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + plot_w}" y2="{y}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4}" text-anchor="end" fill="#555">{y_step * k:g}</text>')
    for k in range(round(x_end / x_step) + 1):
        x = x_of(x_step * k)
        parts.append(f'<text x="{x}" y="{bottom + 15}" text-anchor="middle" fill="#555">{x_step * k:g}</text>')
    parts.append(f'<text x="{LEFT + plot_w}" y="{bottom + 29}" text-anchor="end" fill="#555">viewers · {escape(unit)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#777"/>'
                 f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + plot_w}" y2="{bottom}" stroke="#777"/>')
    for name in names:
        mine = [(x, v, sat) for x, v, sat, n in points if n == name]
        colour = SERIES_COLOURS[name]
        if len(mine) > 1:
            path = " ".join(f"{x_of(x)},{y_of(v)}" for x, v, _ in mine)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for x, v, sat in mine:
            parts.append(f'<circle cx="{x_of(x)}" cy="{y_of(v)}" r="3" fill="{"#fff" if sat else colour}" stroke="{colour}">'
                         f"<title>{x:g} viewers: {name} {v:g} {escape(unit)}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def load_plots(steps: list[dict]) -> str:
    """The load run's charts (viewers against loss, TTFF and latency), or "" without a measured step."""
    if not steps:
        return ""
    charts = [_line_chart(steps, "loss_pct", title="Packet loss across viewers", unit="%", names=("p50", "p95", "max")),
              _line_chart(steps, "ttff_ms", title="Time to first frame of the step's joiners", unit="ms", names=("p50", "p95")),
              _line_chart(steps, "latency_ms", title="Glass-to-glass latency (decoding sample)", unit="ms", names=("p50", "p95"))]
    return f'<div class="plots">{"".join(charts)}</div>'
