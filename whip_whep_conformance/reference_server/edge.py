"""A relay worker's state (`--relay-workers`): an edge of the cascade, holding viewers only.

Its live inputs mirror the origin's (the process that holds the publishers and the API); its
"publisher" is a feed: one WHEP-like pull from the origin per live input, opened when the first viewer
of that input lands here and ended when the last leaves. The relay then works as in one process: it
answers viewers' NACKs from its own history and sends their keyframe requests up the feed (the origin
coalesces them again for the publisher). What only the origin knows reaches an edge as pushed state
(`OriginState`): whether the input is published, its codecs, and the viewers other workers hold, so
that events (active, inactive, viewercount) and codec checks say what a single process would.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiortc import RTCRtpCodecParameters, RTCSessionDescription

from whip_whep_conformance.webrtc.peer import new_peer_connection

from . import events, observations, relay_secret
from .config import ServerConfig
from .live_inputs import LiveInput
from .relay import Relay
from .server import ReferenceServer
from .sessions import Session

log = logging.getLogger("reference_server.edge")

ORIGIN_TIMEOUT_S = 10.0  # an internal request to the origin (loopback) that takes longer has failed
REPORT_RETRY_S = 0.5  # the pause before a failed viewer report is sent again (times the failures so far)


def codec_to_json(codec: RTCRtpCodecParameters | None) -> dict | None:
    if codec is None:
        return None
    return {"mimeType": codec.mimeType, "clockRate": codec.clockRate, "channels": codec.channels,
            "payloadType": codec.payloadType, "parameters": dict(codec.parameters)}


def codec_from_json(data: dict | None) -> RTCRtpCodecParameters | None:
    if data is None:
        return None
    return RTCRtpCodecParameters(mimeType=data["mimeType"], clockRate=data["clockRate"], channels=data["channels"],
                                 payloadType=data["payloadType"], parameters=data["parameters"])


@dataclass
class OriginState:
    """What the origin says of one live input (its pushes, or its answer to a lookup)."""

    publishing: bool = False  # a publisher session exists (from its POST on)
    connected: bool = False  # ... and its ICE/DTLS is up: the publication is live
    codecs: dict[str, RTCRtpCodecParameters | None] = field(default_factory=dict)
    elsewhere: int = 0  # viewers of the input that other workers hold

    @classmethod
    def from_json(cls, data: dict) -> "OriginState":
        return cls(data["publishing"], data["connected"],
                   {kind: codec_from_json(c) for kind, c in data["codecs"].items()}, data["elsewhere"])


class EdgeRelay(Relay):
    """A relay fed by the origin: the live codec is what the feed carries, else what the origin reports."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.origin = OriginState()

    def live_codec(self, kind: str) -> RTCRtpCodecParameters | None:
        ingress = self.ingress.get(kind)
        if ingress is not None and ingress.codec is not None:
            return ingress.codec
        return self.origin.codecs.get(kind) if self.origin.publishing else None


class EdgeServer(ReferenceServer):
    """The worker's server: viewers only, fed from the origin at `origin_url` (loopback)."""

    def __init__(self, config: ServerConfig, origin_url: str, index: int, secret: str) -> None:
        super().__init__(config)
        self.origin_url, self.index, self.secret = origin_url, index, secret
        self._client: aiohttp.ClientSession | None = None
        self._feeds: dict[str, Session] = {}  # by live input uid
        self._feed_locks: dict[str, asyncio.Lock] = {}
        self._reported: dict[str, int] = {}  # viewer counts the origin was last told, by uid
        self._ended: list[str] = []  # viewer sessions ended since the last report (the API forgets their route)
        self._report_wanted = asyncio.Event()
        self._reporter: asyncio.Task | None = None

    @property
    def client(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ORIGIN_TIMEOUT_S),
                                                 headers=relay_secret.headers(self.secret))
        return self._client

    # --- the mirror of the origin's live inputs ----------------------------------------------
    async def mirror(self, uid: str) -> LiveInput | None:
        """Look `uid` up at the origin and mirror it here (or forget it when the origin has none)."""
        async with self.client.get(f"{self.origin_url}/_relay/inputs/{uid}", params={"worker": str(self.index)}) as response:
            data = await response.json() if response.status == 200 else None
        live = self.inputs.by_uid(uid)
        if data is None:
            if live is not None:
                await self.end_input(live)
            return None
        if live is None:
            relay = EdgeRelay(self.config.faults, self.end_unservable_viewer)
            live = LiveInput(data["account_id"], uid, data["secret"], data["meta"], data["created"], relay)
            self.inputs.adopt(live)
        await self.origin_changed(live, OriginState.from_json(data["state"]))
        return live

    async def origin_changed(self, live: LiveInput, state: OriginState) -> None:
        """The origin's news: the publication starts or ends, other workers' viewers come and go."""
        relay = live.relay
        assert isinstance(relay, EdgeRelay)
        before, relay.origin = relay.origin, state
        live.viewers_elsewhere = state.elsewhere
        feed = self._feeds.get(live.uid)
        if before.publishing and not state.publishing:  # as ReferenceServer.end_session does for a publisher
            if feed is not None and feed.connected.is_set():
                events.publication_changed(live, active=False)
            for viewer in list(live.viewers):
                await self.end_session(viewer, observations.PUBLISHER_ENDED)
            return
        if state.connected and feed is not None and not feed.connected.is_set():
            feed.connected.set()  # a feed is "connected" when the publication it carries is live
            events.publication_changed(live, active=True)
        if state.elsewhere != before.elsewhere:
            events.viewers_changed(live)

    # --- viewers, and the feed they need -----------------------------------------------------
    async def open_session(self, kind, live, offer, desc, prepare, refusal_status):  # type: ignore[override]
        if kind == "whep":  # (the API process forwards nothing else here)
            await self._feed(live)
        return await super().open_session(kind, live, offer, desc, prepare, refusal_status)

    async def open_offering_session(self, kind, live, prepare):  # type: ignore[override]
        await self._feed(live)
        return await super().open_offering_session(kind, live, prepare)

    def _add_viewer(self, live: LiveInput, session: Session) -> None:
        super()._add_viewer(live, session)
        self._report(live)

    async def end_session(self, session: Session, reason: str = observations.ENDED) -> None:
        await super().end_session(session, reason)
        if session.kind == "whep":
            self._ended.append(session.id)
            self._wake_reporter()
        live = self.inputs.by_uid(session.input_uid)
        if live is not None and session.kind == "whep":
            self._report(live)
            if not live.viewers:
                await self._end_feed(live)

    async def end_input(self, live: LiveInput) -> None:
        await super().end_input(live)
        await self._end_feed(live)
        self._reported.pop(live.uid, None)

    async def _feed(self, live: LiveInput) -> None:
        """The input's feed from the origin, opened by the first viewer (concurrent first viewers share it)."""
        lock = self._feed_locks.setdefault(live.uid, asyncio.Lock())
        async with lock:
            if live.uid in self._feeds:
                return
            pc = new_peer_connection([])  # loopback to the origin: no STUN/TURN
            for kind in ("audio", "video"):
                pc.addTransceiver(kind, direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            async with self.client.post(f"{self.origin_url}/_relay/feeds/{live.uid}", params={"worker": str(self.index)},
                                        data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}) as response:
                if response.status != 201:
                    await pc.close()
                    raise RuntimeError(f"the origin refused a feed of {live.uid}: {response.status} {await response.text()}")
                answer, feed_id = await response.text(), response.headers["Feed-Session"]
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            feed = Session(feed_id, "feed", live.uid, pc)
            self._feeds[live.uid] = feed
            live.relay.add_publisher(feed)
            live.relay.attach_publisher(feed)
            assert isinstance(live.relay, EdgeRelay)
            if live.relay.origin.connected:
                feed.connected.set()
            log.info("worker %d: feed %s of input %s opened", self.index, feed_id, live.uid)

    async def _end_feed(self, live: LiveInput) -> None:
        feed = self._feeds.pop(live.uid, None)
        if feed is None:
            return
        live.relay.remove(feed)
        await feed.close()
        try:
            async with self.client.delete(f"{self.origin_url}/_relay/feeds/{feed.id}"):
                pass
        except aiohttp.ClientError:  # the origin is going away too
            pass
        log.info("worker %d: feed %s of input %s ended", self.index, feed.id, live.uid)

    # --- viewer counts, to the origin --------------------------------------------------------
    def _report(self, live: LiveInput) -> None:
        self._reported.setdefault(live.uid, -1)
        self._wake_reporter()

    def _wake_reporter(self) -> None:
        self._report_wanted.set()
        if self._reporter is None or self._reporter.done():
            self._reporter = asyncio.ensure_future(self._send_reports())

    async def _send_reports(self) -> None:
        """One request at a time, always the latest counts and every session ended since: the origin never
        sees them out of order, and its routing forgets each ended session however it ended. A report
        the origin did not take (an error, a timeout, a non-2xx answer) is sent again after a pause."""
        failures = 0
        while True:
            await self._report_wanted.wait()
            self._report_wanted.clear()
            counts = {uid: len(live.viewers) for uid in list(self._reported)
                      if (live := self.inputs.by_uid(uid)) is not None}
            changed = {uid: n for uid, n in counts.items() if self._reported.get(uid) != n}
            ended = list(self._ended)
            if not changed and not ended:
                continue
            try:
                async with self.client.put(f"{self.origin_url}/_relay/workers/{self.index}/viewers",
                                           json={"viewers": changed, "ended": ended}, raise_for_status=True):
                    pass
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                failures += 1
                log.warning("worker %d: viewer counts not reported to the origin (try %d): %r", self.index, failures, exc)
                await asyncio.sleep(min(REPORT_RETRY_S * failures, ORIGIN_TIMEOUT_S))  # a pause before trying again
                self._report_wanted.set()
                continue
            failures = 0
            self._reported.update(changed)
            del self._ended[:len(ended)]  # those ended while the report was on its way go in the next

    async def close(self) -> None:
        await super().close()
        for live in list(self.inputs):
            await self._end_feed(live)
        if self._reporter is not None:
            self._reporter.cancel()
        if self._client is not None:
            await self._client.close()


# --- the worker's internal routes (loopback; the API process's proxy never forwards /_relay/) ------

EDGE_KEY: web.AppKey = web.AppKey("edge_server", EdgeServer)


async def _pushed(request: web.Request) -> web.Response:
    """The origin's push: an input's new state, or (DELETE) the input is gone."""
    server = request.app[EDGE_KEY]
    live = server.inputs.by_uid(request.match_info["uid"])
    if live is not None:
        if request.method == "DELETE":
            await server.end_input(live)
        else:
            await server.origin_changed(live, OriginState.from_json(await request.json()))
    return web.Response(status=204)


@web.middleware
async def mirror_first(request: web.Request, handler) -> web.StreamResponse:
    """A request for a WHEP endpoint or session sees the origin's live input as it is now; the API
    process's forwarded scheme (TLS ends there) is the request's own."""
    proto = request.headers.get("X-Forwarded-Proto")
    if proto is not None:
        headers = request.headers.copy()
        del headers["X-Forwarded-Proto"]
        request = request.clone(scheme=proto, headers=headers)
    key = request.match_info.get("key")
    if key is not None and "/webRTC/play" in request.path:
        await request.app[EDGE_KEY].mirror(key)
    return await handler(request)


def add_routes(app: web.Application, server: EdgeServer) -> None:
    app.middlewares.insert(0, relay_secret.guard(server.secret))
    app[EDGE_KEY] = server
    app.router.add_route("POST", "/_relay/inputs/{uid}", _pushed)
    app.router.add_route("DELETE", "/_relay/inputs/{uid}", _pushed)
