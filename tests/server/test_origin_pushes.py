"""The origin's pushes of an input's news to a relay worker (reference_server/origin.py): one that fails or
times out is tried again, and the worker's pusher goes on with the next (a lost "publication ended" would
leave the worker's viewers on an input that is gone)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from whip_whep_conformance.reference_server import origin
from whip_whep_conformance.reference_server.config import ServerConfig

pytestmark = pytest.mark.asyncio

SLOW_S = 1.0  # the worker's first answer comes after this; the origin's client gives up after TIMEOUT_S
TIMEOUT_S = 0.2


async def test_a_timed_out_push_is_tried_again_and_the_next_still_goes(monkeypatch):
    monkeypatch.setattr(origin, "PUSH_RETRY_S", 0.01)
    received: list[tuple[str, str]] = []
    answered = asyncio.Event()

    async def inputs(request: web.Request) -> web.Response:
        received.append((request.method, request.match_info["uid"]))
        if len(received) == 1:
            await asyncio.sleep(SLOW_S)  # the hung worker of this test
        if len(received) >= 3:
            answered.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_route("*", "/_relay/inputs/{uid}", inputs)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server = origin.OriginServer(ServerConfig(host="127.0.0.1", port=0, ice_hosts=["127.0.0.1"], ice_servers=[]))
    server._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
    link = origin.WorkerLink(index=0, url=f"http://127.0.0.1:{port}", pid=0)
    try:
        server.add_worker(link)
        link.pushes.put_nowait(("gone-input", True))  # its first try times out
        link.pushes.put_nowait(("next-input", True))
        await asyncio.wait_for(answered.wait(), 10)
    finally:
        for task in server._pushers:
            task.cancel()
        await server._client.close()
        await runner.cleanup()
    assert received[:3] == [("DELETE", "gone-input"), ("DELETE", "gone-input"), ("DELETE", "next-input")], (
        f"a push that timed out is sent again, then the next one: {received}")
