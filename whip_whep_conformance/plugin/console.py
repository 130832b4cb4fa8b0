"""The console of a suite run: one progress letter per case, for its verdict, and the suite's own
summary in place of pytest's tally (README "Reading the console")."""

from __future__ import annotations

import pytest

from whip_whep_conformance.registry.listing import _natural
from whip_whep_conformance.plugin.session import VERDICT_ATTR, run_of
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.verdicts import EXIT_OK

# The progress line: one letter per case, for its verdict (README "Reading the console").
PROGRESS = {"Pass": ".", "Fail": "F", "Error": "E", "Warning": "W", "Unsupported": "U", "Info": "I",
            "Supported": "S", "Not applicable": "s", "Skipped": "s"}
PROGRESS_KEY = "progress: . Pass  F Fail  E Error  W Warning  U Unsupported  I Info  S Supported  s Not applicable or skipped"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A case's letter is its verdict, once, from the phase that decided it (pytest's own would say
    `.` for a Warning, and `s` for a case that ended early with its verdict made)."""
    verdict = getattr(report, VERDICT_ATTR, None)
    if verdict in PROGRESS:
        # pytest's own category, so that --tb=STYLE still finds the failures to show
        category = report.outcome if not report.failed else "failed" if report.when == "call" else "error"
        return category, PROGRESS[verdict], verdict.upper()
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    """A suite run's console ends with the suite's own summary: pytest's failure tracebacks (the
    suite's internals), its SKIPPED lines and its tally ("432 passed … 123 verdict") would contradict
    the verdicts, so they give way to it (`--tb=short` or another style brings pytest's sections back)."""
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    run = run_of(config)
    if reporter is None or run is None or not run.reporting or config.option.collectonly:
        return  # (--collect-only: pytest's count of what was collected is the answer)
    if config.option.tbstyle == "auto":
        config.option.no_summary = True
    reporter.reportchars = ""
    # pytest prints its tally last of all, after every plugin's summary and a Ctrl-C's report, and
    # also when pytest_terminal_summary is not called (exit code 6): the suite's summary takes its place.
    reporter.summary_stats = lambda: _suite_summary(reporter, config)


def _suite_summary(tr, config: pytest.Config) -> None:
    """Progress key, failures and warnings (requirement, message, where in the report), then the
    suite's verdict line, last; with -v, first the h2spec-like table of every case by section."""
    run = run_of(config)
    if run is None or run.doc is None:
        return
    doc = run.doc
    tr.section("WHIP/WHEP conformance")
    tr.write_line(PROGRESS_KEY)
    if doc["error"]:
        tr.write_line(f"TARGET UNREACHABLE: {doc['error']}", red=True, bold=True)
        if getattr(tr, "_keyboardinterrupt_memo", None) is not None:
            tr._keyboardinterrupt_memo = None  # pytest would repeat the reason after this summary, as an "Exit"
    if config.option.verbose > 0:
        _case_table(tr, doc)
    _failures_and_warnings(tr, doc, len({c["target"] for c in doc["cases"]}) > 1)
    if run.baseline:
        b = doc["baseline"]
        tr.write_line(f"baseline: {len(b['known'])} known failures seen again; new failures: {', '.join(b['new_failures']) or 'none'}")
        if b["fixed"]:
            tr.write_line(f"baseline: now passing, remove from the baseline: {', '.join(b['fixed'])}", green=True)
    tr.write_line(f"reports: {run.reports_dir}/results.json, junit.xml, conformance.html, allure-results/")
    counts = ", ".join(f"{n} {v}" for v, n in doc["counts"].items() if n)
    failed = doc["exit_code"] != EXIT_OK
    tr.write_line(f"verdicts: {counts or 'no cases'}; exit code {doc['exit_code']}", bold=True,
                  **({"red": True} if failed else {"green": True}))


def _section(case: dict) -> str:
    req = case["requirements"][0] if case["requirements"] else {"spec": "?", "section": "?"}
    return f"{req['spec']} §{req['section']}"


def _title(case: dict) -> str:
    params = " ".join(f"{k}={v}" for k, v in case["params"].items())
    return f"{case['title']} ({params})" if params else case["title"]


def _colour(verdict: str) -> dict[str, bool]:
    return {"red": True} if verdict in ("Fail", "Error") else {"yellow": True} if verdict == "Warning" else \
        {"green": True} if verdict in ("Pass", "Supported") else {}


def _case_table(tr, doc: dict) -> None:
    """An h2spec-like table of contents: spec → section → case, with its verdict."""
    by_section: dict[tuple[str, str], list[dict]] = {}
    for case in doc["cases"]:
        by_section.setdefault((case["target"], _section(case)), []).append(case)
    for (target, section), cases in sorted(by_section.items(), key=lambda kv: (kv[0][0], profiles.spec_rank(kv[0][1].split(" §")[0]), _natural(kv[0][1]))):
        tr.write_line(f"{target} — {section}")
        for case in cases:
            ids = ", ".join(r["id"] for r in case["requirements"])
            tr.write_line(f"  {case['verdict']:>14}  [{ids}] {_title(case)}", **_colour(case["verdict"]))


MESSAGE_LINES = 3  # of each failure's message on the console; the report has all of it


def _failures_and_warnings(tr, doc: dict, name_target: bool) -> None:
    """Every Fail, Error and Warning: its requirement, its message, and where the report shows it."""
    worst_first = {"Error": 0, "Fail": 1, "Warning": 2}
    listed = sorted((c for c in doc["cases"] if c["verdict"] in worst_first), key=lambda c: worst_first[c["verdict"]])
    if not listed:
        return
    tr.write_line(f"failures and warnings ({len(listed)}):")
    for case in listed:
        ids = ", ".join(r["id"] for r in case["requirements"])
        tr.write_line(f"  {case['verdict']:<7} [{ids}] {_title(case)}", **_colour(case["verdict"]))
        lines = [line for line in (case.get("message") or "").splitlines() if line.strip()]
        for line in lines[:MESSAGE_LINES]:
            tr.write_line(f"          {line[:300]}")
        if len(lines) > MESSAGE_LINES:
            tr.write_line(f"          … {len(lines) - MESSAGE_LINES} more lines in the report")
        where = f"{case['target']}, " if name_target else ""
        tr.write_line(f"          report: conformance.html, {where}{_section(case)}; results.json case {case['id']}")
