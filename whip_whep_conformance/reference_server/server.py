"""The reference server's state: its live inputs, its sessions by id, and their lifecycle (a session
opens on a live input, negotiates, and ends, taking its part of the relay and its event streams with it).

One owner for each piece: the live inputs are `LiveInputs`; each input's publisher and viewers are
its `Relay`'s (`LiveInput.publisher`/`.viewers` read them there); a session's event streams are its
own (`Session.events`); the sessions by id are here. `app.py` wires this to the routes.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

from aiortc import RTCPeerConnection, RTCSessionDescription

from whip_whep_conformance.webrtc.ice_restart import ice_connection
from whip_whep_conformance.webrtc.peer import new_peer_connection
from whip_whep_conformance.protocol.sdp import SessionDescription

from . import consent, dtls, events, ice_lite, lost_path, observations, peer_certificate
from .config import ServerConfig
from .event_streams import SessionEvents
from .fault_layer import FaultLayer
from .faults import Fault
from .live_inputs import LiveInput, LiveInputs
from .refusal import Refusal
from .relay import Relay
from .sessions import Session, cancel_sweeps, new_session_id

log = logging.getLogger("reference_server")


class ReferenceServer:
    """The state behind every route; routes see it through narrow interfaces (ports.py)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.layer = FaultLayer(config.faults)  # the faults' distortions; with none, the correct server
        self.inputs = LiveInputs()
        self.sessions: dict[str, Session] = {}
        self.observations = observations.Observations()  # the ended sessions GET /client/v4/sessions still lists
        self._counter = 0

    def create_input(self, account_id: str, meta: dict) -> LiveInput:
        relay = Relay(self.config.faults, self.end_unservable_viewer)
        return self.inputs.create(account_id, meta, relay, secret_is_uid=self.config.fault(Fault.SECRET_IS_UID))

    async def end_unservable_viewer(self, session: Session, reason: str) -> None:
        """A viewer whose codecs cannot carry the live stream is ended, never left silent."""
        log.info("viewer %s: %s; ending it", session.id, reason)
        await self.end_session(session, observations.UNSERVABLE)

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
        session = Session(sid, kind, live.uid, self._new_peer_connection())
        first = desc.media[0]
        session.remote_ufrag, session.remote_pwd, session.first_mid = first.ice_ufrag, first.ice_pwd, first.mid
        session.observed.add_candidates(c for m in desc.media for c in m.candidates)
        self.sessions[session.id] = session
        if kind == "whip":
            live.relay.add_publisher(session)
        else:
            self._add_viewer(live, session)
        try:
            if prepare is not None:
                prepare(session)
            offer = self.layer.offer_to_apply(kind, offer, desc)
            await session.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            dtls.take_server_role(session.pc, {m.mid: m.setup for m in desc.media if m.mid is not None})
            peer_certificate.watch(session.pc, session.observed.dtls_handshakes.append)
            # before ICE connects (aioice starts its consent task then): the server's consent checks, counted;
            # a WHIP ingest ends on consent expiry only once its media stops too
            media = (lambda: live.relay.last_packet) if kind == "whip" else None
            consent.check_consent(ice_connection(session.pc), session.observed, media, session.id)
            if self.config.ice_lite:
                ice_lite.make_lite(ice_connection(session.pc))
            await session.pc.setLocalDescription(await session.pc.createAnswer())
        except Exception as exc:  # aiortc raises several types for offers it cannot use
            await self.end_session(session, observations.REFUSED)
            raise Refusal(refusal_status, f"the offer cannot be negotiated: {exc}") from exc
        answer = self.layer.answer_made(kind, offer, desc, session.pc.localDescription.sdp)
        if self.config.ice_lite:
            answer = ice_lite.with_ice_lite(answer)
        await self.layer.answered(session)
        session.watch(self.config.session_timeout_s, self.end_session, self.layer.ends_when_closed())
        self._lose_path_later(session)
        self.layer.session_opened(session)
        log.info("%s session %s opened on input %s", kind, session.id, live.uid)
        return session, answer

    def _new_peer_connection(self) -> RTCPeerConnection:
        """A session's peer connection: the configured ICE servers only, the process's one DTLS certificate."""
        return dtls.server_peer_connection(lambda: new_peer_connection(self.config.ice_servers))

    def _add_viewer(self, live: LiveInput, session: Session) -> None:
        session.events = SessionEvents(self.config.faults)
        live.relay.add_viewer(session)
        events.viewers_changed(live)

    async def open_offering_session(self, kind: str, live: LiveInput, prepare: Callable[[Session], None]) -> tuple[Session, str]:
        """A session whose peer connection makes the offer (WHEP server offer or counter-offer).

        Its answer arrives later by PATCH (`apply_answer`); unanswered or unconnected after
        offer_timeout_s, the session ends and its URL answers 404."""
        self._counter += 1
        sid = self.layer.session_id(self._counter, new_session_id)
        session = Session(sid, kind, live.uid, self._new_peer_connection(),
                          awaiting_answer=True)
        self.sessions[session.id] = session
        self._add_viewer(live, session)
        try:
            prepare(session)
            await session.pc.setLocalDescription(await session.pc.createOffer())
            peer_certificate.watch(session.pc, session.observed.dtls_handshakes.append)
            consent.check_consent(ice_connection(session.pc), session.observed, None, session.id)
            if self.config.ice_lite:
                ice_lite.make_lite(ice_connection(session.pc))  # after the offer: aiortc made it controlling
        except Exception:
            await self.end_session(session, observations.REFUSED)
            raise
        expires = math.floor(time.time() + self.config.offer_timeout_s)
        session.offer_expires, timeout = self.layer.offer_deadline(expires, expires - time.time())
        session.watch(timeout, self.end_session, self.layer.ends_when_closed())
        self._lose_path_later(session)
        self.layer.session_opened(session)
        log.info("%s session %s offered on input %s", kind, session.id, live.uid)
        offer = session.pc.localDescription.sdp
        return session, ice_lite.with_ice_lite(offer) if self.config.ice_lite else offer

    def _lose_path_later(self, session: Session) -> None:
        """--drop-path-after: the session's first ICE session goes silent a while after it connects."""
        if self.config.drop_path_after_s is not None:
            session.spawn(lost_path.drop_after(session.connected, ice_connection(session.pc), self.config.drop_path_after_s,
                                               lambda: session.ice_restart is not None, session.id))

    async def apply_answer(self, session: Session, answer: str, desc: SessionDescription) -> None:
        """The player's answer to the server's offer; Refusal(400) when it cannot be applied."""
        try:
            await session.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        except Exception as exc:  # aiortc raises several types for answers it cannot use
            raise Refusal(400, f"the answer cannot be applied: {exc}") from exc
        first = desc.media[0]
        session.remote_ufrag, session.remote_pwd, session.first_mid = first.ice_ufrag, first.ice_pwd, first.mid
        session.observed.add_candidates(c for m in desc.media for c in m.candidates)
        session.awaiting_answer = False

    async def find_session(self, sid: str) -> Session | None:
        """The live session `sid`; one past its Expires is ended here and reported gone."""
        session = self.sessions.get(sid)
        if session is not None and session.expired(time.time()):
            await self.end_session(session, observations.TIMEOUT)
            return None
        return session

    async def end_session(self, session: Session, reason: str = observations.ENDED) -> None:
        """End `session` for `reason` (observations.DELETE, ...: what GET /client/v4/sessions says ended it)."""
        self.sessions.pop(session.id, None)
        self.observations.ended_one(session.observed, session.pc, reason)
        live = self.inputs.by_uid(session.input_uid)
        if live is not None:  # (None when its input was deleted first: end_input)
            left = live.relay.remove(session)  # one owner: the relay forwards nothing of it from here on
            if left == "publisher":
                if session.connected.is_set():
                    events.publication_changed(live, active=False)
                # Viewers of an ended publication are ended too: visibly, not left silent.
                for viewer in list(live.viewers):
                    await self.end_session(viewer, observations.PUBLISHER_ENDED)
            elif left == "viewer":
                events.viewers_changed(live)
        if session.events is not None:
            session.events.close()
        self.layer.session_ended(session)
        await session.close()
        log.info("%s session %s ended", session.kind, session.id)

    async def end_input(self, live: LiveInput) -> None:
        self.inputs.remove(live)
        for session in [live.publisher, *live.viewers]:
            if session is not None:
                await self.end_session(session, observations.INPUT_DELETED)

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            await self.end_session(session, observations.SHUTDOWN)
        cancel_sweeps()
