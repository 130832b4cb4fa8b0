"""The state of one suite run, held by one object, as pytest-xdist holds its DSession.

`SuiteRun` is kept in `config.stash[RUN]` in every process of a suite run; in the process that
writes the reports (the only process, or xdist's controller) it is also registered with the plugin
manager, so that its hooks gather every case's result as the test reports arrive, from this
process or from the workers (pytest_runtest_logreport gets no config: the object is the context).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from whip_whep_conformance.harness import usage
from whip_whep_conformance.reporting.results import CaseResult

# The name the reporting process's SuiteRun is registered under (config.pluginmanager.get_plugin).
PLUGIN_NAME = "whip_whep_run"
# The attribute of a test report that carries a case's result from the process that ran it.
CASE_ATTR = "whip_whep_case"
# ... the verdict, on the report of the phase that decided it (setup or call), for the progress line (console.py)
VERDICT_ATTR = "whip_whep_verdict"
# ... the secrets its wire log learnt, so the reporting process redacts them from every file it writes
SECRETS_ATTR = "whip_whep_secrets"


def case_id(nodeid: str) -> str:
    """A case's id as reports and baselines spell it, `suites/whip/test_x.py::test_y[...]`, whichever
    directory pytest ran from (the repository's root names it whip_whep_conformance/suites/...)."""
    path, sep, rest = nodeid.partition("::")
    at = path.find("whip_whep_conformance/suites/")
    return (path[at + len("whip_whep_conformance/"):] if at >= 0 else path) + sep + rest


class SuiteRun:
    """One suite run: what its options decided, and what the reporting process gathers (every case's
    result, and what workers could not clean up)."""

    def __init__(self, mode: usage.Mode, worker: int | None, reports_dir: Path, baseline: dict[str, str],
                 strict: bool) -> None:
        self.mode = mode  # which endpoints the run has (usage.target_mode)
        self.worker = worker  # in an xdist worker: how many workers there are; None where reports are written
        self.reports_dir = reports_dir
        self.baseline = baseline  # known failures: requirement ID -> reason
        self.strict = strict  # --strict-conformance: Warnings fail the run too
        self.cases: list[CaseResult] = []
        self.started = datetime.now(timezone.utc)
        self.t0 = time.monotonic()
        self.doc: dict | None = None  # results.json's document, once written (the console summary reads it)
        self.order: dict[str, int] = {}  # collection order, so concurrent runs report in spec order
        self.left = 0  # sessions/live inputs still open at the end of a worker, and those it could not delete
        self.not_deleted: list[str] = []
        self.unverified: list[str] = []  # deleted at the end with a 2xx that a second DELETE could not confirm
        self.unreachable: str | None = None  # a worker found the target untestable
        self.secrets: set[str] = set()  # learnt by the cases (minted publish secrets), redacted from every report

    @property
    def reporting(self) -> bool:
        """This process writes the reports (it is not an xdist worker)."""
        return self.worker is None

    # --- gathering, where the reports are written (registered as a plugin there only) -----------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Gather each case's result where the reports are written (this process, or xdist's controller)."""
        data = getattr(report, CASE_ATTR, None)
        if data is None or report.when != "teardown":
            return
        self.cases.append(CaseResult.from_transport(data))
        self.secrets.update(getattr(report, SECRETS_ATTR, None) or [])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        if not self.order:
            self.order = {case_id(nodeid): i for i, nodeid in enumerate(ids)}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """A worker is done: what it could not clean up, and an unreachable target, reach the reports."""
        out = getattr(node, "workeroutput", {}).get(CASE_ATTR)
        if not out:
            return
        self.left += out["left"]
        self.not_deleted += out["not_deleted"]
        self.unverified += out.get("unverified", [])
        self.unreachable = self.unreachable or out["unreachable"]


RUN = pytest.StashKey[SuiteRun]()


def start(config: pytest.Config, run: SuiteRun) -> None:
    """Keep the run on the config; where reports are written, its hooks gather the cases' results."""
    config.stash[RUN] = run
    if run.reporting:
        config.pluginmanager.register(run, PLUGIN_NAME)


def run_of(config: pytest.Config) -> SuiteRun | None:
    """The suite run of this config, or None (not a suite run: the project's own tests, --list-requirements)."""
    return config.stash.get(RUN, None)
