"""The origin of the cascade (`--relay-workers` >= 2): the process that holds the API, the live inputs
and the publishers, and feeds each relay worker (edge.py) one session per live input it serves.

A feed is an ordinary WHEP viewer session here (the relay forwards to it, answers its NACKs, takes its
keyframe requests), made through an internal route on loopback rather than the WHEP endpoint, so that
the viewer-facing options (counter-offers, Locations, redirects) apply to the real viewers at the
workers and not to the feeds. What the workers cannot see for themselves is pushed to them, in order:
the publication's state and codecs, and how many viewers the other workers hold (viewercount).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from . import observations, offers, relay_secret, whep
from .edge import ORIGIN_TIMEOUT_S, codec_to_json
from .live_inputs import LiveInput
from .refusal import Refusal
from .server import ReferenceServer
from .sessions import Session

log = logging.getLogger("reference_server.origin")

PUSH_ATTEMPTS = 3  # tries of each push of an input's news to a worker
PUSH_RETRY_S = 0.5  # the pause before the second try (twice that before the third)


@dataclass(eq=False)
class WorkerLink:
    """The origin's view of one relay worker."""

    index: int
    url: str  # http://127.0.0.1:PORT, its own server (viewers' requests are forwarded there)
    pid: int
    alive: bool = True
    viewers: dict[str, int] = field(default_factory=dict)  # as it reports them, by live input uid
    inputs: set[str] = field(default_factory=set)  # the live inputs it mirrors (it is told their news)
    feeds: dict[str, str] = field(default_factory=dict)  # its feed session id, by live input uid
    pending_posts: int = 0  # viewer POSTs on their way to it (the API process's routing counts them)
    sessions: set[str] = field(default_factory=set)  # the live viewer sessions routed to it, by id
    pushes: asyncio.Queue = field(default_factory=asyncio.Queue)

    @property
    def load(self) -> int:
        """Its live viewer sessions as the routing knows them (added at each 201, before the client has
        it; dropped at each reported end) and the POSTs on their way to it."""
        return len(self.sessions) + self.pending_posts


class OriginServer(ReferenceServer):
    """The reference server, telling its relay workers what happens to the inputs they mirror."""

    workers: dict[int, WorkerLink]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workers = {}
        self.feed_ids: set[str] = set()  # every feed session's id (internal: GET /client/v4/sessions leaves them out)
        self._client: aiohttp.ClientSession | None = None
        self._pushers: set[asyncio.Task] = set()
        self.relay_secret = relay_secret.new_secret()  # the workers get it on their stdin (relay_workers.py)

    def add_worker(self, link: WorkerLink) -> None:
        self.workers[link.index] = link
        task = asyncio.ensure_future(self._push_to(link))
        self._pushers.add(task)

    # --- what a worker is told ----------------------------------------------------------------
    def state(self, live: LiveInput, worker: int) -> dict:
        publisher = live.publisher
        elsewhere = sum(w.viewers.get(live.uid, 0) for w in self.workers.values() if w.index != worker and w.alive)
        return {"publishing": publisher is not None, "connected": publisher is not None and publisher.connected.is_set(),
                "codecs": {kind: codec_to_json(live.relay.live_codec(kind)) for kind in ("audio", "video")},
                "elsewhere": elsewhere}

    def mirrored(self, live: LiveInput, worker: int) -> dict:
        self.workers[worker].inputs.add(live.uid)
        return {"account_id": live.account_id, "secret": live.secret, "meta": live.meta, "created": live.created,
                "state": self.state(live, worker)}

    def _tell(self, uid: str, gone: bool = False, but: int | None = None) -> None:
        for link in self.workers.values():
            if uid in link.inputs and link.index != but and link.alive:
                link.pushes.put_nowait((uid, gone))
                if gone:
                    link.inputs.discard(uid)

    async def _push_to(self, link: WorkerLink) -> None:
        """One push at a time per worker, in order; the state is read when it is sent (the newest). A push
        that fails is tried again (PUSH_ATTEMPTS in all): a lost "publication ended" would leave the
        worker's viewers on a live input that is gone."""
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ORIGIN_TIMEOUT_S),
                                                 headers=relay_secret.headers(self.relay_secret))
        while True:
            uid, gone = await link.pushes.get()
            for attempt in range(1, PUSH_ATTEMPTS + 1):
                live = self.inputs.by_uid(uid)
                try:
                    if gone or live is None:
                        async with self._client.delete(f"{link.url}/_relay/inputs/{uid}", raise_for_status=True):
                            pass
                    else:
                        async with self._client.post(f"{link.url}/_relay/inputs/{uid}", json=self.state(live, link.index),
                                                     raise_for_status=True):
                            pass
                    break
                except Exception as exc:  # noqa: BLE001  an error of any kind, a timeout, a non-2xx answer: try again
                    if not link.alive:
                        break
                    log.warning("relay worker %d not told of input %s (attempt %d of %d): %r", link.index, uid,
                                attempt, PUSH_ATTEMPTS, exc)
                    if attempt < PUSH_ATTEMPTS:
                        await asyncio.sleep(PUSH_RETRY_S * attempt)  # a pause before trying again, not a wait on an event

    def viewers_reported(self, worker: int, counts: dict[str, int], ended: list[str]) -> None:
        link = self.workers[worker]
        link.viewers.update(counts)
        link.sessions.difference_update(ended)
        for uid in counts:
            self._tell(uid, but=worker)  # the others' viewercount changed

    async def worker_died(self, link: WorkerLink) -> None:
        """Its viewers are gone: the others' viewercount drops, and its feeds end now, not at ICE consent expiry."""
        link.alive = False
        link.sessions.clear()  # requests under their URLs now get a live worker's 404, as for ended sessions
        for uid in list(link.viewers):
            self._tell(uid)
        for sid in list(link.feeds.values()):
            session = self.sessions.get(sid)
            if session is not None:
                await self.end_session(session, observations.ICE_FAILED)

    # --- the publisher's news -----------------------------------------------------------------
    async def open_session(self, kind, live, offer, desc, prepare, refusal_status):  # type: ignore[override]
        session, answer = await super().open_session(kind, live, offer, desc, prepare, refusal_status)
        if kind == "whip":
            self._tell(live.uid)

            async def when_connected() -> None:
                await session.connected.wait()
                self._tell(live.uid)

            session.spawn(when_connected())
        return session, answer

    async def end_session(self, session: Session, reason: str = observations.ENDED) -> None:
        live = self.inputs.by_uid(session.input_uid)
        was_publisher = live is not None and live.publisher is session
        await super().end_session(session, reason)
        if was_publisher:
            self._tell(session.input_uid)
        for link in self.workers.values():
            if link.feeds.get(session.input_uid) == session.id:
                del link.feeds[session.input_uid]

    async def end_input(self, live: LiveInput) -> None:
        self._tell(live.uid, gone=True)
        await super().end_input(live)

    # --- feeds ----------------------------------------------------------------------------------
    async def open_feed(self, live: LiveInput, offer: str, worker: int) -> tuple[Session, str]:
        """A worker's pull of `live`: a viewer session of the origin's relay."""
        desc = offers.read_description(offer)
        session, answer = await self.open_session("whep", live, offer, desc, prepare=lambda s: whep.add_senders(s, desc),
                                                  refusal_status=422)
        live.relay.attach_viewer(session)
        self.workers[worker].feeds[live.uid] = session.id
        self.feed_ids.add(session.id)
        return session, answer

    async def close(self) -> None:
        for task in self._pushers:
            task.cancel()
        await super().close()
        if self._client is not None:
            await self._client.close()


# --- the origin's internal routes: a site of their own on loopback, never the API port --------------

ORIGIN_KEY: web.AppKey = web.AppKey("origin_server", OriginServer)


async def _input(request: web.Request) -> web.Response:
    server = request.app[ORIGIN_KEY]
    live = server.inputs.by_uid(request.match_info["uid"])
    if live is None:
        raise web.HTTPNotFound()
    return web.json_response(server.mirrored(live, int(request.query["worker"])))


async def _open_feed(request: web.Request) -> web.Response:
    server = request.app[ORIGIN_KEY]
    live = server.inputs.by_uid(request.match_info["uid"])
    if live is None:
        raise web.HTTPNotFound()
    try:
        session, answer = await server.open_feed(live, await request.text(), int(request.query["worker"]))
    except (Refusal, offers.Unusable) as exc:
        return web.Response(status=422, text=str(exc))
    return web.Response(status=201, text=answer, content_type="application/sdp", headers={"Feed-Session": session.id})


async def _end_feed(request: web.Request) -> web.Response:
    server = request.app[ORIGIN_KEY]
    session = await server.find_session(request.match_info["sid"])
    if session is None:
        raise web.HTTPNotFound()
    await server.end_session(session, observations.DELETE)
    return web.Response(status=204)


async def _viewers(request: web.Request) -> web.Response:
    report = await request.json()
    request.app[ORIGIN_KEY].viewers_reported(int(request.match_info["worker"]), report["viewers"], report["ended"])
    return web.Response(status=204)


def internal_app(server: OriginServer) -> web.Application:
    app = web.Application(middlewares=[relay_secret.guard(server.relay_secret)])
    app[ORIGIN_KEY] = server
    app.router.add_get("/_relay/inputs/{uid}", _input)
    app.router.add_post("/_relay/feeds/{uid}", _open_feed)
    app.router.add_delete("/_relay/feeds/{sid}", _end_feed)
    app.router.add_put("/_relay/workers/{worker}/viewers", _viewers)
    return app
