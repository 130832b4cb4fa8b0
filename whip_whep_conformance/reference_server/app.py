"""The reference server's state and its aiohttp application."""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

from aiohttp import http_parser, web, web_protocol
from aiortc import RTCSessionDescription

from whip_whep_conformance.webrtc.ice_restart import ice_connection
from whip_whep_conformance.webrtc.peer import new_peer_connection
from whip_whep_conformance.protocol.sdp import SessionDescription

from . import consent, demo, dtls, events, fault_http, live_inputs, signalling, whep, whip
from .config import SERVER_KEY, ServerConfig
from .fault_layer import FaultLayer
from .faults import Fault
from .live_inputs import LiveInput, LiveInputs
from .relay import Relay
from .sessions import Session, cancel_sweeps
from .signalling import Refusal, new_session_id

log = logging.getLogger("reference_server")

# aiohttp's C parser (llhttp) answers a method it does not know with 400 before any handler runs;
# RFC 9110 §9.1 wants 501 for an unrecognised method, so the server's requests go through aiohttp's
# own Python parser, which takes any token and leaves the method to the handlers (aiohttp 3.x).
web_protocol.HttpRequestParser = http_parser.HttpRequestParserPy  # type: ignore[misc]


class ReferenceServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.layer = FaultLayer(config.faults)  # the faults' distortions; with none, the correct server
        self.inputs = LiveInputs()
        self.sessions: dict[str, Session] = {}
        self._counter = 0

    def create_input(self, account_id: str, meta: dict) -> LiveInput:
        live = self.inputs.create(account_id, meta, secret_is_uid=self.config.fault(Fault.SECRET_IS_UID))
        live.relay = Relay(self.config.faults, self.end_unservable_viewer)
        return live

    async def end_unservable_viewer(self, session: Session, reason: str) -> None:
        """A viewer whose codecs cannot carry the live stream is ended, never left silent."""
        log.info("viewer %s: %s; ending it", session.id, reason)
        await self.end_session(session)

    async def open_session(
        self,
        kind: str,
        live: LiveInput,
        offer: str,
        desc: SessionDescription,
        prepare: Callable[[Session], None] | None,
        refusal_status: int,
    ) -> tuple[Session, str]:
        """Answer `offer` with a new peer connection; the session is attached before any await,
        so a concurrent second publisher sees it."""
        self._counter += 1
        sid = self.layer.session_id(self._counter, new_session_id)
        session = Session(sid, kind, live.uid, dtls.accept_rsa_peers(new_peer_connection(self.config.ice_servers)))
        first = desc.media[0]
        session.remote_ufrag, session.remote_pwd, session.first_mid = first.ice_ufrag, first.ice_pwd, first.mid
        self.sessions[session.id] = session
        if kind == "whip":
            live.publisher = session
        else:
            self._add_viewer(live, session)
        try:
            if prepare is not None:
                prepare(session)
            offer = self.layer.offer_to_apply(kind, offer, desc)
            await session.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            dtls.take_server_role(session.pc, {m.mid: m.setup for m in desc.media if m.mid is not None})
            if kind == "whip":  # before ICE connects: consent expiry ends an ingest only once its media stops
                consent.keep_ingest_while_media_arrives(ice_connection(session.pc), lambda: live.relay.last_packet, session.id)
            await session.pc.setLocalDescription(await session.pc.createAnswer())
        except Exception as exc:  # aiortc raises several types for offers it cannot use
            await self.end_session(session)
            raise Refusal(refusal_status, f"the offer cannot be negotiated: {exc}") from exc
        answer = self.layer.answer_made(kind, offer, desc, session.pc.localDescription.sdp)
        await self.layer.answered(session)
        session.watch(self.config.session_timeout_s, self.end_session, self.layer.ends_when_closed())
        self.layer.session_opened(session)
        log.info("%s session %s opened on input %s", kind, session.id, live.uid)
        return session, answer

    def _add_viewer(self, live: LiveInput, session: Session) -> None:
        session.events = events.SessionEvents(self.config.faults)
        live.viewers.add(session)
        events.viewers_changed(live)

    async def open_offering_session(self, kind: str, live: LiveInput, prepare: Callable[[Session], None]) -> tuple[Session, str]:
        """A session whose peer connection makes the offer (WHEP server offer or counter-offer).

        Its answer arrives later by PATCH (`apply_answer`); unanswered or unconnected after
        offer_timeout_s, the session ends and its URL answers 404."""
        self._counter += 1
        sid = self.layer.session_id(self._counter, new_session_id)
        session = Session(sid, kind, live.uid, dtls.accept_rsa_peers(new_peer_connection(self.config.ice_servers)),
                          awaiting_answer=True)
        self.sessions[session.id] = session
        self._add_viewer(live, session)
        try:
            prepare(session)
            await session.pc.setLocalDescription(await session.pc.createOffer())
        except Exception:
            await self.end_session(session)
            raise
        expires = math.floor(time.time() + self.config.offer_timeout_s)
        session.offer_expires, timeout = self.layer.offer_deadline(expires, expires - time.time())
        session.watch(timeout, self.end_session, self.layer.ends_when_closed())
        self.layer.session_opened(session)
        log.info("%s session %s offered on input %s", kind, session.id, live.uid)
        return session, session.pc.localDescription.sdp

    async def apply_answer(self, session: Session, answer: str, desc: SessionDescription) -> None:
        """The player's answer to the server's offer; Refusal(400) when it cannot be applied."""
        try:
            await session.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        except Exception as exc:  # aiortc raises several types for answers it cannot use
            raise Refusal(400, f"the answer cannot be applied: {exc}") from exc
        first = desc.media[0]
        session.remote_ufrag, session.remote_pwd, session.first_mid = first.ice_ufrag, first.ice_pwd, first.mid
        session.awaiting_answer = False

    async def find_session(self, sid: str) -> Session | None:
        """The live session `sid`; one past its Expires is ended here and reported gone."""
        session = self.sessions.get(sid)
        if session is not None and session.expired(time.time()):
            await self.end_session(session)
            return None
        return session

    async def end_session(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        live = self.inputs.by_uid(session.input_uid)
        if live is not None:
            if live.publisher is session:
                live.publisher = None
                live.relay.detach_publisher()
                if session.connected.is_set():
                    events.publication_changed(live, active=False)
                # Viewers of an ended publication are ended too: visibly, not left silent.
                for viewer in list(live.viewers):
                    await self.end_session(viewer)
            if session in live.viewers:
                live.viewers.discard(session)
                events.viewers_changed(live)
            live.relay.detach_viewer(session)
        if session.events is not None:
            session.events.close()
        self.layer.session_ended(session)
        await session.close()
        log.info("%s session %s ended", session.kind, session.id)

    async def end_input(self, live: LiveInput) -> None:
        self.inputs.remove(live)
        for session in [live.publisher, *live.viewers]:
            if session is not None:
                await self.end_session(session)

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            await self.end_session(session)
        cancel_sweeps()


@web.middleware
async def _errors(request: web.Request, handler) -> web.StreamResponse:
    """Unexpected errors become a 500 with a reason, never a dropped connection."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if request.method == "CONNECT":
            exc.force_close()
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.Response(status=500, text="internal error; see the server log\n")
    if request.method == "CONNECT":
        # aiohttp's Python parser treats the connection after CONNECT as a tunnel and drops it once the
        # refusal is sent; Connection: close tells the client not to reuse it.
        response.force_close()
    return response


def make_app(config: ServerConfig) -> web.Application:
    app = web.Application(middlewares=[_errors, live_inputs.allow_any_origin], client_max_size=1024 * 1024)
    fault_http.install(app)  # the fault layer's response-shaping step (does nothing without --fault)
    server = ReferenceServer(config)
    app[SERVER_KEY] = server
    live_inputs.add_routes(app)
    signalling.add_routes(app, whip.PROTOCOL)
    signalling.add_routes(app, whep.PROTOCOL)
    demo.add_routes(app)

    async def _close(_: web.Application) -> None:
        await server.close()

    app.on_shutdown.append(_close)
    return app
