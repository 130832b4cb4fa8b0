"""Fixtures the project's own tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import profiles


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
# session-scoped fixtures (a browser, a built peer, a shared run) keeps its tests on one worker, so each
# fixture is built once; these modules have none and are the bulk of the time, so their tests spread.
SPREAD = {"test_fault_injection.py", "test_clients.py", "test_cli.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if TESTS in item.path.parents and item.path.name not in SPREAD:
            item.add_marker(pytest.mark.xdist_group(str(item.path.relative_to(TESTS))))
    # xdist hands out the groups first (most tests first), then the tests that spread, in collection order:
    # the slow ones of those go first, so the last minutes are quick tests on both workers, not one long run.
    items.sort(key=lambda item: not (item.path.name in SPREAD and item.get_closest_marker("xdist_group") is None
                                     and item.get_closest_marker("slow") is not None))
    if not config.pluginmanager.has_plugin("timeout"):
        return
    for item in items:
        if TESTS in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S, method="signal"))
