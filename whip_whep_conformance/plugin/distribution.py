"""Cases in worker processes (pytest-xdist) when more than one may run at once.

Worker processes rather than asyncio tasks: aioice's host addresses, aiortc's codec hooks and
the rate limit are process-wide, and cases stay the plain pytest functions they are. Each
worker starts its own embedded servers; cases never share sessions, so none depends on another.
What a worker needs from the process that started it travels as xdist's own workerinput: the
run's id (xdist's `testrunuid`, which names the live inputs the run creates: leftovers.py) and
the probe's findings (workers never probe, so never POST again).
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness.target_fixture import PROBE_INPUT, PROBED, UNREACHABLE
from whip_whep_conformance.harness.wire import RATE_LIMIT
from whip_whep_conformance.plugin.options import EMBEDDED_CONCURRENCY


def worker_count(config: pytest.Config) -> int | None:
    """In a worker process of a concurrent run: how many workers there are; otherwise None."""
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else None


def share_run_id(config: pytest.Config) -> None:
    """Every process of a run has one run id: the reporting process gives its own to xdist as the
    run's `testrunuid` (one the user gave is taken instead), and a worker takes it from there."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        LEFTOVERS.run_id = workerinput.get("testrunuid", LEFTOVERS.run_id)
    elif hasattr(config.option, "testrunuid"):  # pytest-xdist is installed
        if config.option.testrunuid is None:
            config.option.testrunuid = LEFTOVERS.run_id
        else:
            LEFTOVERS.run_id = config.option.testrunuid


def distribute(config: pytest.Config, embedded: bool) -> None:
    """Ask pytest-xdist for worker processes when more than one case may run at once
    (--max-concurrency; by default EMBEDDED_CONCURRENCY against the embedded server, else 1)."""
    wanted = config.getoption("max_concurrency")
    if wanted is not None and wanted < 1:
        raise pytest.UsageError(f"--max-concurrency={wanted}: give 1 or more")
    if wanted is None:
        wanted = EMBEDDED_CONCURRENCY if embedded else 1
    chosen_by_user = config.getoption("numprocesses", None) is not None
    if wanted <= 1 or chosen_by_user or config.getoption("collectonly") or not config.pluginmanager.has_plugin("xdist"):
        return
    if not embedded and UNREACHABLE in config.stash:
        return  # reported once, by this process, with exit code 6: no worker is started
    config.option.numprocesses = wanted
    config.option.dist = "load"
    config.option.tx = ["popen"] * wanted


def share_rate_limit(config: pytest.Config, worker: int | None) -> None:
    """--max-rate holds for the whole run: each of N workers gets an Nth of it."""
    rate = config.getoption("max_rate")
    RATE_LIMIT.rate = rate / worker if rate and worker else rate  # the cap holds for the whole run


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: a worker takes the probe's findings instead of probing (POSTing) again."""
    found = node.config.stash.get(PROBED, None)
    if found is not None and not isinstance(found, str):
        node.workerinput[PROBE_INPUT] = (found.whip_profile, found.whep_profile)
