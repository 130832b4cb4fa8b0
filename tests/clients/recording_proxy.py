"""A loopback HTTP proxy that records what a client asked and what it was answered.

A client whose own log says nothing about its requests (FFmpeg's WHIP muxer, through PyAV) still has its
teardown judged on the wire: its DELETE's status is read here, not assumed. The session URLs the
reference server hands out are absolute paths (RFC 9725 §4.2's Location), so a client that follows
them stays on the proxy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


@dataclass
class Exchange:
    method: str
    path: str
    status: int


@dataclass
class RecordingProxy:
    """Forwards every request to `upstream` (a base URL) and keeps the (method, path, status) of each."""

    upstream: str
    exchanges: list[Exchange] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _http: httpx.AsyncClient | None = None

    async def start(self) -> "RecordingProxy":
        self._http = httpx.AsyncClient(timeout=10)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.aclose()

    def statuses(self, method: str) -> list[int]:
        return [e.status for e in self.exchanges if e.method == method]

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = await self._http.request(request.method, self.upstream + request.path_qs, headers=headers,
                                            content=await request.read())
        self.exchanges.append(Exchange(request.method, request.path, upstream.status_code))
        answer = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        return web.Response(status=upstream.status_code, headers=answer, body=upstream.content)
