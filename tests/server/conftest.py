"""Fixtures of the fast layer: the reference server's application in this process (aiohttp's
TestServer on 127.0.0.1, a fresh one per test), and aiortc peers on loopback for offers."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable

import pytest_asyncio

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.webrtc import peer

from .inprocess import LiveInput, Server, serve, server_config
from .peers import Peers

StartServer = Callable[..., Awaitable[Server]]


@pytest_asyncio.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start applications, e.g. `await start_server(profiles.CLOUDFLARE, faults=("no-location",), token=T)`;
    every one is shut down after the test (its on_shutdown closes all peer connections)."""
    started: list[Server] = []

    async def start(pair: profiles.ProfilePair = profiles.STANDARD, faults: tuple[str, ...] = (), **options: Any) -> Server:
        server = await serve(server_config(pair, faults, **options))
        started.append(server)
        return server

    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        yield start
    finally:
        for server in started:
            await server.close()
        peer.restrict_host_addresses(None)


@pytest_asyncio.fixture
async def server(start_server: StartServer) -> Server:
    """The reference server with the standard profiles (RFC 9725 + draft-ietf-wish-whep-03), no token."""
    return await start_server()


@pytest_asyncio.fixture
async def live(server: Server) -> LiveInput:
    """A live input on `server`."""
    return await server.live_input()


@pytest_asyncio.fixture
async def peers() -> AsyncIterator[Peers]:
    """aiortc peers (closed after the test), host candidates on 127.0.0.1 only."""
    peer.restrict_host_addresses(["127.0.0.1"])
    made = Peers()
    try:
        yield made
    finally:
        await made.close()


@pytest_asyncio.fixture
async def publisher_offer(peers: Peers) -> str:
    """A WHIP offer from an aiortc publisher: audio and video sendonly, every candidate on 127.0.0.1."""
    return await peers.offer(peers.publisher())


@pytest_asyncio.fixture
async def viewer_offer(peers: Peers) -> str:
    """A WHEP offer from an aiortc player: audio and video recvonly."""
    return await peers.offer(peers.viewer())
