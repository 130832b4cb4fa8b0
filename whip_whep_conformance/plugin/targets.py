"""The target the cases run against: the embedded server per profile pair, or the user's endpoint,
probed once before any case; the cases that need an endpoint the run has not got are Not applicable."""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness import needs, usage
from whip_whep_conformance.harness.grading import NotApplicable
from whip_whep_conformance.harness.target import is_loopback
from whip_whep_conformance.harness.target_fixture import UNREACHABLE, probed_target
from whip_whep_conformance.plugin.session import run_of
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.webrtc.peer import restrict_host_addresses


def embedded(config: pytest.Config) -> bool:
    """No target option at all (usage.TARGET_OPTIONS): the embedded reference server is tested."""
    run = run_of(config)
    return run.mode.embedded if run is not None else not any(config.getoption(o) for o in usage.TARGET_OPTIONS)


def restrict_ice_hosts(config: pytest.Config) -> None:
    """The host candidates the suite's peers offer: --ice-host, else loopback for a loopback target
    (or the embedded server); set before the probe, whose offer has candidates too."""
    target_url = config.getoption("live_inputs") or config.getoption("endpoint") or config.getoption("whep_endpoint")
    ice_hosts = config.getoption("ice_host")
    if ice_hosts is None and (target_url is None or is_loopback(target_url)):
        ice_hosts = ["127.0.0.1"]
    try:
        restrict_host_addresses(ice_hosts)  # before the probe: its offer's candidates too
    except ValueError as exc:
        raise pytest.UsageError(f"--ice-host: {exc}") from None


def probe_once(config: pytest.Config) -> None:
    """The user's target is probed once, before any case or worker: a target that cannot be tested
    (unreachable, not WHIP/WHEP, the token refused) ends the run with exit 6 and the reason."""
    if embedded(config) or config.getoption("collectonly"):
        return
    found = probed_target(config)
    if isinstance(found, str):
        config.stash[UNREACHABLE] = found


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """No case runs against a target the probe found untestable (the reports carry the reason)."""
    run = run_of(session.config)
    if run is not None and run.reporting and UNREACHABLE in session.config.stash:
        return True
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    config = metafunc.config
    if not embedded(config):
        metafunc.parametrize("target", [None], indirect=True, scope="session", ids=["target"])
        return
    whip, whep = config.getoption("whip_profile"), config.getoption("whep_profile")
    if whip == profiles.AUTO and whep == profiles.AUTO:
        pairs = list(profiles.EMBEDDED_PAIRS)
    else:
        pairs = [profiles.ProfilePair(
            profiles.DEFAULT_WHIP if whip == profiles.AUTO else whip,
            profiles.DEFAULT_WHEP if whep == profiles.AUTO else whep,
        )]
    metafunc.parametrize("target", pairs, indirect=True, scope="session", ids=[p.id for p in pairs])


MISSING = pytest.StashKey[str]()  # on an item: the endpoint it needs that this run has not got


def pytest_collection_finish(session: pytest.Session) -> None:
    """Say up front what a missing WHIP or WHEP endpoint costs; those cases are Not applicable
    without being run (needs.py decides which cases need which endpoint)."""
    config = session.config
    run = run_of(config)
    if run is None or run.mode.embedded or config.getoption("collectonly"):
        return
    mode = run.mode
    costs = {"whep": 0, "whip": 0}
    cases = [item for item in session.items if item.get_closest_marker("requirement") is not None]
    for item in cases:
        reason = needs.missing(item, mode)
        if reason is not None:
            item.stash[MISSING] = reason
            costs["whep" if reason.startswith("no WHEP") else "whip"] += 1
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not run.reporting or UNREACHABLE in config.stash:
        return  # a worker's output is not shown; an untestable target is reported instead
    if not mode.whep:
        reporter.write_line(f"no WHEP endpoint (--whep-endpoint): {costs['whep']} of {len(cases)} cases need one "
                            f"and are Not applicable; {len(cases) - costs['whep']} run", yellow=True)
    if not mode.whip:
        reporter.write_line(f"WHEP only (--whep-endpoint without --endpoint): {costs['whip']} of {len(cases)} cases "
                            "check WHIP and are Not applicable; the others play what is live at the WHEP endpoint, "
                            "and those that need the suite's own published media are Not applicable too", yellow=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A case that needs an endpoint this run has not got is Not applicable before it starts."""
    reason = item.stash.get(MISSING, None)
    if reason is None:
        return
    found = probed_target(item.config)
    if not isinstance(found, str):
        item.funcargs["target"] = found  # type: ignore[attr-defined]  # the report's target label and profiles
    raise NotApplicable(reason)
