"""One API port over many relay workers (`--relay-workers`): the API process forwards each WHEP request
to the worker that holds (or is to hold) its session, and passes the answer back byte for byte.

A viewer's POST goes to the worker with the fewest viewers (and POSTs on their way); every later request
under its session URL (PATCH, DELETE, OPTIONS, the event streams, layer selection) to the same worker,
found by the session id of the 201's (or 406's) Location. Status, headers (Location, Link, ETag, ...) and
body are the worker's own, made by the same code a single process runs, so a client cannot tell. A
refusal the origin's state decides (--require-publisher's 409: the worker's mirror has no publisher of
its own) is answered here by the same code. GET /client/v4/relay_workers shows where sessions went.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from urllib.parse import unquote

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from . import live_inputs_api
from .live_inputs_api import _authorized, envelope
from .origin import OriginServer, WorkerLink

log = logging.getLogger("reference_server.routing")

WHEP_PATH = re.compile(r"^(?:/via)?/(?P<key>[^/]+)/webRTC/play(?:/(?P<sid>[^/]+)(?:/.*)?)?$")
LOCATED_SESSION = re.compile(r"/?play/(?P<sid>[^/?#]+)")
# Hop-by-hop fields (RFC 9110 §7.6.1) and those the forwarding itself sets again.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "content-length"})
CLIENT_ADDED = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")  # aiohttp adds these unless told not to
# A worker's answer to anything but a GET (a POST's SDP answer, a PATCH, a DELETE) within
# --relay-answer-timeout (ServerConfig.relay_answer_timeout_s), or the client gets 504 rather than waiting on
# a hung worker; a GET may be an event stream's long poll, so it has none. The default, 30 s, is well above
# the slowest good answer: a worker's first viewer of an input waits for its feed from the origin (ICE
# gathering with the configured STUN/TURN servers: aioice stops at 5 s; the origin's answer within
# edge.ORIGIN_TIMEOUT_S, 10 s), then gathers its own candidates (5 s more at worst).


class WorkerRouting:
    """Which worker each WHEP session lives on, and the forwarding there."""

    def __init__(self, server: OriginServer) -> None:
        self.server = server  # each WorkerLink.sessions holds the sessions routed to it (its reports prune them)
        self._client: aiohttp.ClientSession | None = None

    @property
    def client(self) -> aiohttp.ClientSession:
        if self._client is None:  # no total timeout: an event stream is a long poll
            self._client = aiohttp.ClientSession(auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None, connect=5))
        return self._client

    def _alive(self) -> list[WorkerLink]:
        return [w for w in self.server.workers.values() if w.alive]

    def _worker_for(self, sid: str | None, method: str) -> WorkerLink | None:
        alive = self._alive()
        if not alive:
            return None
        if sid is not None:
            # unknown, ended, or lost with a dead worker: a live worker answers 404, as one process does for an ended session
            return next((w for w in alive if sid in w.sessions), alive[0])
        if method == "POST":
            return min(alive, key=lambda w: (w.load, w.index))
        return alive[0]

    def _origin_decides(self, request: web.Request, key: str, sid: str | None) -> bool:
        if sid is not None or request.method != "POST" or not self.server.config.require_publisher:
            return False
        live = self.server.inputs.by_uid(key)
        return live is not None and live.publisher is None

    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        if request.path == "/client/v4/sessions" and request.method == "GET":
            return await self.sessions(request)
        match = WHEP_PATH.match(request.path)
        if match is not None and _has_dot_segment(request.raw_path):
            # aiohttp keeps "..", the client side would normalise it away: a public path must never
            # reach a worker's internal /_relay/ routes (RFC 3986 §5.2.4 dot segments, refused)
            return web.Response(status=400, text="dot segments are not accepted in a WHEP URL\n")
        if match is None or self._origin_decides(request, match["key"], match["sid"]):
            return await handler(request)
        link = self._worker_for(match["sid"], request.method)
        if link is None:
            return web.Response(status=503, text="no relay worker is running; see the server log\n")
        posting = match["sid"] is None and request.method == "POST"
        link.pending_posts += posting
        try:
            return await self._forward(request, link, posting, match["sid"])
        finally:
            link.pending_posts -= posting

    async def _forward(self, request: web.Request, link: WorkerLink, posting: bool, sid: str | None) -> web.StreamResponse:
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
        headers["X-Forwarded-Proto"] = request.scheme
        body = await request.read()
        skip = [h for h in CLIENT_ADDED if h not in request.headers]
        response: web.StreamResponse | None = None
        limit_s = self.server.config.relay_answer_timeout_s
        timeout = None if request.method in ("GET", "HEAD") else aiohttp.ClientTimeout(total=limit_s)
        try:
            async with self.client.request(request.method, URL(link.url + request.raw_path, encoded=True), headers=headers,
                                           data=body if body or request.method in ("POST", "PUT", "PATCH") else None,
                                           allow_redirects=False, skip_auto_headers=skip, timeout=timeout) as answer:
                response = web.StreamResponse(status=answer.status, reason=answer.reason)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        response.headers.add(name, value)
                if "Content-Length" in answer.headers:
                    response.content_length = int(answer.headers["Content-Length"])
                if posting and "Location" in answer.headers:
                    located = LOCATED_SESSION.search(answer.headers["Location"])
                    if located is not None:
                        link.sessions.add(located["sid"])
                elif request.method == "DELETE" and answer.status < 300 and sid is not None:
                    link.sessions.discard(sid)  # at once; the worker's report of the end follows
                await response.prepare(request)
                async for chunk in answer.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except asyncio.TimeoutError:
            if response is not None and response.prepared:
                return response
            log.error("relay worker %d (pid %d) did not answer %s %s within %g s", link.index, link.pid, request.method,
                      request.path, limit_s)
            return web.Response(status=504, text=f"relay worker {link.index} did not answer in {limit_s:g} s; "
                                                 "see the server log\n")
        except (aiohttp.ClientError, ConnectionResetError) as exc:
            if response is not None and response.prepared:
                # cut short once under way: mostly a client closing an event stream's long poll; it sees the end
                log.info("forwarding %s %s from relay worker %d ended: %s", request.method, request.path, link.index, exc)
                return response
            log.error("relay worker %d (pid %d) did not answer %s %s: %s", link.index, link.pid, request.method,
                      request.path, exc)
            return web.Response(status=502, text=f"relay worker {link.index} did not answer; see the server log\n")

    async def observe(self, request: web.Request) -> web.Response:
        """GET /client/v4/relay_workers: each worker's process, viewers, feeds and the sessions routed to it."""
        if (refused := _authorized(request)) is not None:
            return refused
        return envelope([{"index": w.index, "pid": w.pid, "alive": w.alive, "viewers": dict(w.viewers),
                          "feeds": dict(w.feeds), "sessions": sorted(w.sessions)}
                         for w in sorted(self.server.workers.values(), key=lambda w: w.index)])

    async def sessions(self, request: web.Request) -> web.Response:
        """GET /client/v4/sessions across the processes: the origin's sessions (the publishers; feeds are
        internal, not listed) and every worker's (the viewers), as one process would list them."""
        own = await live_inputs_api.sessions(request)
        if own.status != 200:
            return own
        assert isinstance(own.body, bytes)
        listed = [s for s in json.loads(own.body)["result"] if s["id"] not in self.server.feed_ids]
        auth = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers else {}
        for link in self._alive():
            try:
                async with self.client.get(f"{link.url}/client/v4/sessions", headers=auth,
                                           timeout=aiohttp.ClientTimeout(total=self.server.config.relay_answer_timeout_s)) as answer:
                    listed += (await answer.json())["result"]
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                log.error("relay worker %d (pid %d) did not list its sessions: %r", link.index, link.pid, exc)
        return envelope(listed)

    def install(self, app: web.Application) -> None:
        app.middlewares.insert(0, self.middleware)
        app.router.add_get("/client/v4/relay_workers", self.observe)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _has_dot_segment(raw_path: str) -> bool:
    """Whether a path has a "." or ".." segment, percent-encoded or not."""
    return any(unquote(segment) in (".", "..") for segment in raw_path.split("?", 1)[0].split("/"))
