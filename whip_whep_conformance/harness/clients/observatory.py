"""The recording front: the client talks HTTP to the suite, which forwards to the reference server
and keeps every request and answer, headers and bodies included, as the client sent them.

Two listeners: `main` (the URL the client is given) and `other` (another host:port, for the
scenario whose Locations send the client elsewhere). Redirects are forwarded, not followed: the
client has to follow them itself. Event streams (text/event-stream) are streamed through.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding",
              "upgrade", "proxy-connection", "te", "trailer"}


@dataclass
class Request:
    """One request the client made, and what it was answered."""

    listener: str  # "main" | "other": which of the front's addresses it reached
    method: str
    path: str  # path and query, as sent
    headers: list[tuple[str, str]]  # as sent, in order, names as the client spelt them
    body: bytes
    sent_at: float  # time.monotonic() when the request arrived
    status: int = 0  # 0: the server never answered it
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    answered_at: float | None = None

    def header(self, name: str) -> str | None:
        """The first field of that name (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def is_preflight(self) -> bool:
        """A CORS preflight (Fetch §4.8): an OPTIONS the browser sends on its own before a cross-origin
        request, naming it in Access-Control-Request-Method. Not a request of the client's code."""
        return self.method == "OPTIONS" and self.header("Access-Control-Request-Method") is not None

    def response_header(self, name: str) -> str | None:
        return next((v for k, v in self.response_headers if k.lower() == name.lower()), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def line(self) -> str:
        """`POST /path -> 201`, for failure messages; a preflight names the request it asks for."""
        method = f"OPTIONS (preflight for {self.header('Access-Control-Request-Method')})" if self.is_preflight() else self.method
        return f"{method} {self.path} -> {self.status or 'no answer'}"

    def to_json(self) -> dict:
        return {"listener": self.listener, "method": self.method, "path": self.path, "headers": self.headers,
                "body": self.text[:4000], "status": self.status, "response_headers": self.response_headers,
                "response_body": self.response_body.decode("utf-8", "replace")[:4000]}


class Observatory:
    """Forwards everything to `upstream` (the reference server's base URL) and records it."""

    def __init__(self, upstream: str, host: str = "127.0.0.1") -> None:
        self.upstream = upstream.rstrip("/")
        self.host = host
        self.requests: list[Request] = []
        self.urls: dict[str, str] = {}  # listener -> its base URL
        self._runners: list[web.AppRunner] = []
        self._http: httpx.AsyncClient | None = None
        self._arrived = asyncio.Event()

    async def start(self) -> "Observatory":
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), follow_redirects=False)
        for listener in ("main", "other"):
            app = web.Application(client_max_size=4 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._forwarder(listener))
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, self.host, 0)
            await site.start()
            port = runner.addresses[0][1]
            self.urls[listener] = f"http://{self.host}:{port}"
            self._runners.append(runner)
        return self

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def url(self, upstream_url: str, listener: str = "main") -> str:
        """`upstream_url` (a URL on the reference server) as the client reaches it through the front."""
        assert upstream_url.startswith(self.upstream), upstream_url
        return self.urls[listener] + upstream_url[len(self.upstream):]

    async def wait_for(self, done, timeout_s: float) -> bool:
        """Wait until `done(requests)` holds (checked as each request is answered), or the deadline."""
        deadline = time.monotonic() + timeout_s
        while not done(self.requests):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                return bool(done(self.requests))
        return True

    def _forwarder(self, listener: str):
        async def forward(request: web.Request) -> web.StreamResponse:
            assert self._http is not None
            body = await request.read()
            seen = Request(listener, request.method, request.path_qs,
                           [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers], body, time.monotonic())
            self.requests.append(seen)
            headers = [(k, v) for k, v in seen.headers if k.lower() not in HOP_BY_HOP]
            try:
                upstream = self._http.build_request(request.method, self.upstream + request.path_qs,
                                                    headers=headers, content=body)
                answer = await self._http.send(upstream, stream=True)
            except httpx.HTTPError as exc:
                seen.status, seen.answered_at = 502, time.monotonic()
                self._arrived.set()
                return web.Response(status=502, text=f"recording front: the server did not answer: {exc}\n")
            out_headers = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            seen.status, seen.response_headers = answer.status_code, out_headers
            if answer.headers.get("content-type", "").startswith("text/event-stream"):
                response = web.StreamResponse(status=answer.status_code)
                for k, v in out_headers:
                    response.headers.add(k, v)
                await response.prepare(request)
                seen.answered_at = time.monotonic()
                self._arrived.set()
                try:
                    async for chunk in answer.aiter_raw():
                        seen.response_body += chunk
                        await response.write(chunk)
                finally:
                    await answer.aclose()
                return response
            try:
                seen.response_body = await answer.aread()
            finally:
                await answer.aclose()
            seen.answered_at = time.monotonic()
            self._arrived.set()
            response = web.Response(status=answer.status_code, body=seen.response_body)
            for k, v in out_headers:
                response.headers.add(k, v)
            return response

        return forward
