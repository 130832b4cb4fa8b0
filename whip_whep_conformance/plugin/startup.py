"""A suite run begins: its options are checked, its SuiteRun made, its target probed and its
workers planned, in this order, before any case or worker starts (one pytest_configure, so the
order is written down once)."""

from __future__ import annotations

from pathlib import Path

import pytest

import whip_whep_conformance
from whip_whep_conformance.plugin import baseline, distribution, options, reports, selection, session, targets

# The suite's cases; a run that names none of this folder (the project's own tests) is no suite run.
SUITE_DIR = Path(whip_whep_conformance.__file__).resolve().parent / "suites"
# The client cases (the suite plays the server): collected only in a run that names this folder.
CLIENTS_DIR = SUITE_DIR / "clients"


def is_client_run(config: pytest.Config) -> bool:
    """The run's paths lie in the client cases' folder (`whip-whep-conformance clients` names it)."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return bool(paths) and all(p == CLIENTS_DIR or CLIENTS_DIR in p.parents for p in paths)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A server run (the suite folder) does not collect the client cases; a client run collects only them."""
    if collection_path.resolve() == CLIENTS_DIR and not is_client_run(config):
        return True
    return None


def is_suite_run(config: pytest.Config) -> bool:
    """The run's paths lie in the suite folder, or contain it (reports are written only then)."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITE_DIR or SUITE_DIR in path.parents or path in SUITE_DIR.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Markers and profiles in every run; the rest only in a suite run (see the module's docstring)."""
    selection.add_markers(config)
    options.check_profiles(config)
    if config.getoption("list_requirements"):
        return
    reports_dir = options.reports_dir(config)
    if not is_suite_run(config):
        return
    mode = options.check_suite_options(config, client_run=is_client_run(config))
    worker = distribution.worker_count(config)  # None: this process is the one that writes the reports
    distribution.share_run_id(config)  # the live inputs of every worker carry the run's name (leftovers.py)
    targets.restrict_ice_hosts(config)
    reports_dir.mkdir(parents=True, exist_ok=True)
    run = session.SuiteRun(mode, worker, reports_dir, baseline.load(config),
                           strict=bool(config.getoption("strict_conformance")))
    session.start(config, run)
    reports.default_allure_dir(config, run)
    if run.reporting:
        targets.probe_once(config)
        distribution.distribute(config, targets.embedded(config) and not mode.clients)
    distribution.share_rate_limit(config, worker)
