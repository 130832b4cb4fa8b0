"""A relay worker's reports to the origin (reference_server/edge.py): viewer counts and the sessions
ended since the last report. One the origin does not take (a timeout here) is sent again, and the
reporter lives on: the API process's routing forgets ended sessions only through these reports."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from whip_whep_conformance.reference_server import edge
from whip_whep_conformance.reference_server.config import ServerConfig

pytestmark = pytest.mark.asyncio

SLOW_S = 1.0  # the origin's first answer comes after this; the worker's client gives up after TIMEOUT_S
TIMEOUT_S = 0.2


async def test_a_report_that_timed_out_is_sent_again():
    received: list[dict] = []
    second = asyncio.Event()

    async def viewers(request: web.Request) -> web.Response:
        received.append(await request.json())
        if len(received) == 1:
            await asyncio.sleep(SLOW_S)  # the stalled origin of this test
        else:
            second.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_put("/_relay/workers/{worker}/viewers", viewers)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    worker = edge.EdgeServer(ServerConfig(host="127.0.0.1", port=0, ice_hosts=["127.0.0.1"], ice_servers=[]),
                             f"http://127.0.0.1:{port}", 0, "secret")
    worker._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
    try:
        worker._ended.append("ended-session")
        worker._wake_reporter()
        delivered = await asyncio.wait_for(second.wait(), 10) or True
    except asyncio.TimeoutError:
        delivered = False
    finally:
        if worker._reporter is not None:
            worker._reporter.cancel()
        await worker._client.close()
        await runner.cleanup()
    assert delivered and [r["ended"] for r in received[:2]] == [["ended-session"]] * 2 and not worker._ended, (
        f"a report the origin did not answer in time is sent again, and then counts as delivered: {received}")
