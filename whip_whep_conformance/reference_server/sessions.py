"""A WHIP or WHEP session: one peer connection, its entity-tag and its lifetime."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from aiortc import RTCPeerConnection

from whip_whep_conformance.webrtc.ice_restart import IceRestart

from . import observations
from .event_streams import SessionEvents
from .observations import Observation

log = logging.getLogger("reference_server.sessions")


def new_etag() -> str:
    return f'"{secrets.token_hex(8)}"'


def new_session_id() -> str:
    """Unguessable session ids (RFC 9725 §5: 128 random bits)."""
    return secrets.token_hex(16)


@dataclass(eq=False)
class Session:
    """State of one publisher (WHIP) or viewer (WHEP) on a live input."""

    id: str
    kind: str  # "whip" | "whep"
    input_uid: str
    pc: RTCPeerConnection
    etag: str = field(default_factory=new_etag)
    remote_ufrag: str | None = None  # the client's ICE credentials, from its offer
    remote_pwd: str | None = None
    first_mid: str | None = None
    ice_restart: IceRestart | None = None  # the latest restart: its trickled candidates go to the new agent
    awaiting_answer: bool = False  # the server offered (WHEP server-offer / counter-offer); the answer comes by PATCH
    events: SessionEvents | None = None  # WHEP: its server-sent event streams (§4.9.1)
    simulcast: bool = False  # WHIP: the publisher sends simulcast; the relay forwards one of its streams
    extension_used: bool = False  # the whip-ext-required fault: its probe extension's URL was requested
    offer_expires: float | None = None  # a server offer's Expires (epoch seconds, whole: what an HTTP-date can say)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    observed: Observation = field(init=False)  # what GET /client/v4/sessions lists of it
    _tasks: set[asyncio.Task] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.observed = Observation(self.id, self.kind, self.input_uid)

    def watch(self, timeout_s: float, on_end: Callable[["Session", str], Awaitable[None]], end_when_closed: bool = True) -> None:
        """End the session when ICE/DTLS fails, closes (a DTLS close_notify from the client: RFC 9725 §4.2),
        or never connects within `timeout_s`. `end_when_closed` False is a fault: the session outlives its transport."""

        @self.pc.on("connectionstatechange")
        async def _changed() -> None:
            state = self.pc.connectionState
            if state == "connected":
                self.connected.set()
                self.observed.connected = True
            elif state in ("failed", "closed") and not self.closed and end_when_closed:
                log.info("%s session %s: connection %s", self.kind, self.id, state)
                await on_end(self, observations.ICE_FAILED if state == "failed" else observations.DTLS_CLOSED)

        async def _deadline() -> None:
            try:
                await asyncio.wait_for(self.connected.wait(), timeout_s)
            except asyncio.TimeoutError:
                if not self.closed:
                    log.info("%s session %s never connected; ending it", self.kind, self.id)
                    await on_end(self, observations.TIMEOUT)

        self.spawn(_deadline())

    def expired(self, now: float) -> bool:
        """Past its offer's Expires and still not connected: gone, whether or not the timer has run yet
        (under load the event loop can reach a request before the timer)."""
        return self.offer_expires is not None and not self.connected.is_set() and now >= self.offer_expires

    def spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        try:
            await self.pc.close()
        except Exception:  # aiortc cannot close a half-negotiated connection cleanly; drop it anyway
            log.exception("%s session %s: closing its peer connection failed", self.kind, self.id)
        _sweep_later(self.pc)


_sweepers: set[asyncio.Task] = set()


def _sweep_later(pc: RTCPeerConnection) -> None:
    """aiortc race (1.16): a peer connection closed while its connect task is between two bundled
    transceivers starts the second one's sender after close(), and its RTP/RTCP tasks run forever.
    Stop any sender still running once that task has had time to finish."""

    async def sweep() -> None:
        for _ in range(2):
            await asyncio.sleep(1.0)  # let aiortc's own connect task run to its end
            for transceiver in pc.getTransceivers():
                sender = transceiver.sender
                exited = getattr(sender, "_RTCRtpSender__rtp_exited", None)
                if getattr(sender, "_RTCRtpSender__started", False) and exited is not None and not exited.is_set():
                    await sender.stop()

    task = asyncio.ensure_future(sweep())
    _sweepers.add(task)
    task.add_done_callback(_sweepers.discard)


def cancel_sweeps() -> None:
    """At shutdown every peer connection is closed anyway."""
    for task in list(_sweepers):
        task.cancel()
