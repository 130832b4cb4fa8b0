"""The end of a suite run, in the reporting process: the last cleanup, the exit code, and the
reports (results.json, junit.xml, conformance.html; allure-pytest's folder, redacted in place)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness.target_fixture import UNREACHABLE, option_secrets
from whip_whep_conformance.harness.wire import redact_document, redact_secrets
from whip_whep_conformance.plugin import baseline
from whip_whep_conformance.plugin.session import CASE_ATTR, SuiteRun, run_of
from whip_whep_conformance.reporting.html import write_html
from whip_whep_conformance.reporting.results import document, write_json, write_junit
from whip_whep_conformance.verdicts import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE


def default_allure_dir(config: pytest.Config, run: SuiteRun) -> None:
    """allure-pytest (when installed) writes into the reports folder unless told otherwise; emptied
    once, by the reporting process, before any worker writes to it."""
    if getattr(config.option, "allure_report_dir", None) is None and hasattr(config.option, "allure_report_dir"):
        config.option.allure_report_dir = str(run.reports_dir / "allure-results")
        config.option.clean_alluredir = run.reporting  # emptied once, before any worker writes to it


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    run = run_of(config)
    if run is None:
        return
    # The last line of cleanup: whatever a case created and could not delete (Ctrl-C, timeouts).
    left = len(LEFTOVERS)
    not_deleted = LEFTOVERS.sweep(config.getoption("timeout_s"), verify=config.getoption("ca_bundle") or not config.getoption("insecure"))
    error = config.stash.get(UNREACHABLE, None)
    if not run.reporting:
        # a worker's results went with its test reports; the reporting process writes the files
        config.workeroutput[CASE_ATTR] = {"left": left, "not_deleted": not_deleted, "unreachable": error,  # type: ignore[attr-defined]
                                          "unverified": LEFTOVERS.unverified}
        return
    config.pluginmanager.unregister(run)  # gathering is over
    left += run.left
    not_deleted = not_deleted + run.not_deleted
    if config.getoption("live_inputs") and not config.getoption("no_create"):  # inputs whose create a Ctrl-C cut off
        api_token = config.getoption("api_token")
        found, failed = LEFTOVERS.sweep_collection(
            config.getoption("live_inputs"), {"Authorization": f"Bearer {api_token}"} if api_token else {},
            config.getoption("timeout_s"), verify=config.getoption("ca_bundle") or not config.getoption("insecure"))
        left, not_deleted = left + found, not_deleted + failed
    error = error or run.unreachable
    if run.order:
        run.cases.sort(key=lambda c: run.order.get(c.nodeid, len(run.order)))
    if error is not None:
        code = EXIT_UNREACHABLE
    elif int(exitstatus) not in (0, 1):
        code = int(exitstatus)  # usage or collection errors keep pytest's own code
    else:
        code = EXIT_FAILED if any(baseline.fails(c, run) for c in run.cases) else EXIT_OK
    targets = []
    for c in run.cases:
        entry = {"label": c.target, "whip_profile": c.whip_profile, "whep_profile": c.whep_profile}
        if entry not in targets:
            targets.append(entry)
    known = baseline.report(run)
    for case in run.cases:  # junit.xml and the report show these as known, not failed
        case.fails_run = baseline.fails(case, run)
        case.known_failure = baseline.known_failure(case, run)
    doc = document(
        run.cases,
        started=run.started.isoformat(timespec="seconds"),
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        duration_s=time.monotonic() - run.t0,
        targets=targets, exit_code=code, error=error,
    )
    doc["strict_conformance"] = run.strict
    unverified = LEFTOVERS.unverified + run.unverified
    doc["cleanup"] = {"deleted_at_end": left - len(not_deleted) - len(unverified), "not_deleted": not_deleted,
                      "unverified": unverified}
    doc["baseline"] = known
    secrets = _run_secrets(config, run)
    doc = redact_document(doc, secrets)
    _redact_allure(config, secrets)
    write_json(doc, run.reports_dir / "results.json")
    write_junit(doc, run.reports_dir / "junit.xml")
    write_html(doc, run.reports_dir / "conformance.html")
    run.doc = doc
    session.exitstatus = code


def _run_secrets(config: pytest.Config, run: SuiteRun) -> list[str]:
    """Everything no report may show: the tokens, a fixed publish URL's secret, and what cases learnt."""
    found = {*option_secrets(config), *run.secrets}
    return sorted((s for s in found if s), key=len, reverse=True)


def _redact_allure(config: pytest.Config, secrets: list[str]) -> None:
    """allure-pytest wrote its results as the cases ran (exception messages, parameters, names): the
    same secrets go from them, in place, before anyone keeps the folder."""
    folder = getattr(config.option, "allure_report_dir", None)
    if not secrets or not folder or not Path(folder).is_dir():
        return
    for path in Path(folder).iterdir():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        redacted = redact_secrets(text, secrets)
        if redacted != text:
            path.write_text(redacted, encoding="utf-8")
