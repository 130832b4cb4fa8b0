"""Fixtures the project's own tests share."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import profiles

# Spawn children with fork, not vfork. CPython 3.11 spawns with vfork: until the child's execve the child
# runs in the parent's memory while the parent's other threads go on (several tests spawn suite runs from
# a thread pool while other threads run loops and free memory). A CI run failed once this way:
# `OSError: [Errno 14] Bad address: '.../.venv/bin/python'` from subprocess.run in tests/suite_run.py,
# most likely execve read a pointer into memory the parent had changed by then (1 of 950 tests; the command is
# fine). fork gives the child its own copy; the price is copying the page tables per spawn (a few ms).
subprocess._USE_VFORK = False  # type: ignore[attr-defined]  # the 3.11 switch for exactly this


@pytest.fixture
def make_server():
    """Start reference servers on loopback (stopped after the test); the test's peers use loopback too."""
    started: list[EmbeddedServer] = []

    def make(pair: profiles.ProfilePair = profiles.STANDARD, token: bool = False, faults: tuple[str, ...] = ()) -> EmbeddedServer:
        server = EmbeddedServer(pair, token=token, faults=list(faults), ice_servers=[])
        server.start()
        started.append(server)
        return server

    peer.restrict_host_addresses(["127.0.0.1"])
    yield make
    peer.restrict_host_addresses(None)
    for server in started:
        server.stop()


# The backstop behind every test's own deadlines (pytest-timeout): no test of the project waits forever,
# whatever a child process, a browser or a peer does. Generous: the slowest tests run suite subsets.
TEST_TIMEOUT_S = 900
TESTS = Path(__file__).resolve().parent


# `./run tests` spreads the tests over two xdist workers (--dist loadgroup). A module with module- or
# session-scoped fixtures (a browser, a built peer, a pool of shared runs) keeps its tests on one worker,
# so each fixture is built once; in these modules, the bulk of the time, each test function's tests (its
# parameters, which may share a pool of runs) stay together and the functions spread.
SPREAD = {"test_fault_injection.py", "test_clients.py", "test_cli.py"}


def _scope(nodeid: str) -> str:
    """The unit a worker takes whole: the module, or in SPREAD modules the test function."""
    path, _, rest = nodeid.partition("::")
    return f"{path}::{rest.split('[', 1)[0]}" if Path(path).name in SPREAD else path


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """The project's grouping, as a scheduler of its own. --dist loadgroup's xdist_group marks do nothing
    here: pytest-xdist 3.8 tags a grouped test by rewriting `item._nodeid`, which pytest 9 no longer reads
    (its node ids live in `_id`), so every test went to either worker and a module's fixtures, pools of
    runs included, were built on both."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return ByModule(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # xdist hands out the scopes in collection order: the slow tests of the SPREAD modules go first, so
    # the last minutes are quick tests on both workers, not one long run.
    items.sort(key=lambda item: not (item.path.name in SPREAD and item.get_closest_marker("slow") is not None))
    if not config.pluginmanager.has_plugin("timeout"):
        return
    for item in items:
        if TESTS in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S, method="signal"))
