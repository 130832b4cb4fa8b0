"""Fixtures the project's own tests share."""

from __future__ import annotations

import pytest

from fixtures.embedded import EmbeddedServer
from whip_whep import peer, profiles


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
