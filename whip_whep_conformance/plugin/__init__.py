"""The pytest plugin behind the conformance suite: options, verdicts, reports, exit codes.

Loaded through the `pytest11` entry point (`whip_whep`), so `pytest` in this repo and the
`whip-whep-conformance` console script behave the same. Reports are written only when the run
collects conformance cases, so the project's own tests are not affected.

Each module below holds one idea and is a plugin of its own, registered with this one (so
`-p no:whip_whep` still turns them all off); the state of a run is one object, `session.SuiteRun`:

- `options`: the suite's command-line options and the checks of their values
- `startup`: a suite run begins (options checked, target probed, workers planned, in that order)
- `session`: the SuiteRun, which gathers every case's result where the reports are written
- `targets`: the target the cases run against (probed once, parametrized, endpoints it lacks)
- `selection`: which cases run (`--requirement`, `--level`; every case names registry requirements)
- `distribution`: cases in pytest-xdist worker processes (`--max-concurrency`, the rate limit)
- `case_results`: a case's verdict and result, made in the process that ran it
- `baseline`: known failures (`--baseline`) and what fails the run
- `reports`: the end of a run: cleanup, exit code, results.json, junit.xml, conformance.html, allure
- `console`: the progress letters and the suite's summary
- `listing`: `--list-requirements`
"""

from __future__ import annotations

pytest_plugins = [
    "whip_whep_conformance.harness.target_fixture",
    "whip_whep_conformance.harness.case",
    "whip_whep_conformance.harness.clients.client_case",
    "whip_whep_conformance.plugin.options",
    "whip_whep_conformance.plugin.startup",
    "whip_whep_conformance.plugin.session",
    "whip_whep_conformance.plugin.targets",
    "whip_whep_conformance.plugin.selection",
    "whip_whep_conformance.plugin.distribution",
    "whip_whep_conformance.plugin.case_results",
    "whip_whep_conformance.plugin.reports",
    "whip_whep_conformance.plugin.console",
    "whip_whep_conformance.plugin.listing",
]

# Names other modules and the project's tests take from the plugin (no hooks: this module's own
# hooks would run twice, once here and once in the module that defines them).
from whip_whep_conformance.plugin.console import PROGRESS, PROGRESS_KEY  # noqa: E402
from whip_whep_conformance.plugin.session import case_id  # noqa: E402

__all__ = ["PROGRESS", "PROGRESS_KEY", "case_id"]
