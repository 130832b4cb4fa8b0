"""WHIP ingest (RFC 9725 / draft-ietf-wish-whip-06): one publisher per live input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from whip_whep_conformance.protocol import profiles, sdp

from . import events, observations, simulcast_answer
from .fault_layer import Check, Route
from .signalling import Protocol, Refusal, count_kinds

if TYPE_CHECKING:
    from .ports import SignallingServer
    from .live_inputs import LiveInput
    from .sessions import Session


def _find(server: "SignallingServer", secret: str) -> "LiveInput | None":
    return server.inputs.by_secret(secret)


async def _negotiate(server: "SignallingServer", live: "LiveInput", offer: str, desc: sdp.SessionDescription,
                     profile: str) -> tuple["Session", str]:
    unsupported = 406 if profile == profiles.WHIP_06 else 422
    counts = count_kinds(desc)
    if any(n > 1 for n in counts.values()):
        status = server.layer.refusal_status(Route.TRACK_LIMIT, unsupported)
        raise Refusal(status, f"one audio and one video track at most; the offer has {counts}")
    for m in desc.media:
        if m.direction in ("recvonly", "inactive"):
            raise Refusal(400, f"a WHIP offer must not be {m.direction} (RFC 9725 §4.2)")
    refusal = server.layer.offer_refusal(desc, Route.OFFER_UNUSABLE)
    if refusal is not None:
        raise refusal
    if live.publisher is not None and not server.layer.waives(Check.ONE_PUBLISHER):
        raise Refusal(409, "a publisher is already live on this input; DELETE its session first")
    refusal_status = server.layer.refusal_status(Route.OFFER_UNUSABLE, unsupported)
    session, answer = await server.open_session("whip", live, offer, desc, prepare=None, refusal_status=refusal_status)
    if not server.layer.waives(Check.SIMULCAST):  # RFC 9725 §4.8: take up every offered stream
        answer, session.simulcast = simulcast_answer.accept(answer, desc)
    live.relay.attach_publisher(session)
    session.spawn(live.relay.reap_when_silent(session, server.config.media_timeout_s,
                                              lambda ended: server.end_session(ended, observations.MEDIA_TIMEOUT)))
    session.spawn(_announce_when_live(live, session))
    return session, answer


async def _announce_when_live(live: "LiveInput", session: "Session") -> None:
    """Viewers' event streams hear `active` once the publisher is connected (WHEP §4.9.1.1)."""
    await session.connected.wait()
    if live.publisher is session:
        events.publication_changed(live, active=True)


PROTOCOL = Protocol(name="whip", path="publish", find_input=_find, negotiate=_negotiate)

