"""WHEP playback (draft-ietf-wish-whep-03 / draft-murillo-whep-01): many viewers per input.

Client offer (all revisions): the player offers, the server answers 201. Server offer
(draft-murillo-whep-01 §4.2): an empty POST gets 201 with the server's offer, the answer comes by
PATCH. Counter-offer (draft-ietf-wish-whep-03 §4.2.2): an offer whose codecs cannot carry the live
stream gets 406 with a server offer in the live codec, answered by PATCH.
"""

from __future__ import annotations

from typing import TYPE_CHECKING


from aiortc import RTCRtpCodecCapability, RTCRtpCodecParameters, RTCRtpSender

from whip_whep_conformance.protocol import profiles, sdp
from whip_whep_conformance.webrtc.peer import SilentTrack

from . import observations, offers
from .fault_layer import Check, Route
from .relay import same_codec
from .signalling import COUNTER_OFFERS, CounterOffer, Protocol, Refusal, count_kinds

if TYPE_CHECKING:
    from .ports import SignallingServer
    from .live_inputs import LiveInput
    from .sessions import Session


def _find(server: "SignallingServer", uid: str) -> "LiveInput | None":
    return server.inputs.by_uid(uid)


def add_senders(session: "Session", desc: sdp.SessionDescription) -> None:
    """Sendonly transceivers must exist before the offer is applied, or aiortc answers inactive."""
    for m in desc.media:
        session.pc.addTransceiver(SilentTrack(m.kind), direction="sendonly")


def _require_publisher(server: "SignallingServer", live: "LiveInput") -> None:
    """--require-publisher: no playback before publication (draft-ietf-wish-whep-03 §4.2.8)."""
    refusal = server.layer.feed_refusal(live.publisher)
    if refusal is not None:
        raise refusal
    if not server.config.require_publisher or live.publisher is not None:
        return
    raise Refusal(409, "nobody is publishing to this live input yet", {"Retry-After": str(server.config.not_published_retry_after_s)},
                  route=Route.NOT_PUBLISHED)


async def _negotiate(server: "SignallingServer", live: "LiveInput", offer: str, desc: sdp.SessionDescription,
                     profile: str) -> tuple["Session", str]:
    _require_publisher(server, live)
    refused = server.layer.viewer_offer_refusal(counter_offers=profile in COUNTER_OFFERS and server.config.patch)
    if isinstance(refused, Refusal):
        raise refused
    if refused is None and server.config.counter_offer and profile in COUNTER_OFFERS and server.config.patch:
        refused = "this server always offers to its viewers (--counter-offer): answer its offer by PATCH"
    if refused is not None:  # a counter-offer instead
        offering, counter = await server_offer(server, live)
        raise CounterOffer(offering, counter, refused)
    counts = count_kinds(desc)
    if any(n > 1 for n in counts.values()):
        raise Refusal(422, f"one audio and one video track at most; the offer has {counts}")
    for m in desc.media:
        if m.direction in ("sendonly", "inactive"):
            raise Refusal(server.layer.refusal_status(Route.VIEWER_OFFER_DIRECTION, 400), f"a WHEP offer must not be {m.direction}")
    session, answer = await server.open_session(
        "whep", live, offer, desc, prepare=lambda session: add_senders(session, desc), refusal_status=422
    )
    unservable = _unservable(live, session)
    if unservable:
        await server.end_session(session, observations.REFUSED)
        if profile in COUNTER_OFFERS and server.config.patch:  # its answer would come by PATCH
            offering, counter = await server_offer(server, live)
            raise CounterOffer(offering, counter, unservable)
        raise Refusal(422, unservable)
    live.relay.attach_viewer(session)
    return session, answer


async def server_offer(server: "SignallingServer", live: "LiveInput") -> tuple["Session", str]:
    _require_publisher(server, live)
    """A viewer session where the server offers sendonly audio and video (in the live codecs, if live)."""

    def prepare(session: "Session") -> None:
        for kind in ("audio", "video"):
            transceiver = session.pc.addTransceiver(SilentTrack(kind), direction="sendonly")
            live_codec = live.relay.live_codec(kind)
            if live_codec is not None:
                carriers = [c for c in RTCRtpSender.getCapabilities(kind).codecs
                            if c.mimeType.lower() == "video/rtx" or _carries(live_codec, c)]
                transceiver.setCodecPreferences(carriers)

    return await server.open_offering_session("whep", live, prepare)


async def answered(server: "SignallingServer", live: "LiveInput", session: "Session", answer: str) -> None:
    """The player's answer to a server offer arrived (PATCH application/sdp): start its media."""
    try:
        desc = offers.read_description(answer)
    except offers.Unusable as exc:
        raise Refusal(400, f"the answer cannot be used: {exc}") from None
    for m in desc.media:
        if not m.rejected and m.direction not in ("recvonly", "inactive"):
            raise Refusal(400, f"a WHEP answer must be recvonly, not {m.direction}")
    await server.apply_answer(session, answer, desc)
    unservable = _unservable(live, session)
    if unservable:
        await server.end_session(session, observations.UNSERVABLE)
        raise Refusal(422, unservable)
    if not server.layer.waives(Check.ANSWERED_VIEWER_FORWARDED):
        live.relay.attach_viewer(session)


def _carries(live_codec: RTCRtpCodecParameters, capability: RTCRtpCodecCapability) -> bool:
    """Whether a codec the server can offer carries the live stream's packets unchanged."""
    offered = RTCRtpCodecParameters(mimeType=capability.mimeType, clockRate=capability.clockRate,
                                    parameters=dict(capability.parameters))
    return same_codec(live_codec, offered)


def _unservable(live: "LiveInput", session: "Session") -> str | None:
    """Codec rule: answer every offered codec we support; refuse a viewer that cannot carry the live stream."""
    for transceiver in session.pc.getTransceivers():
        codec = live.relay.live_codec(transceiver.kind)
        if codec is not None and not any(same_codec(codec, c) for c in transceiver._codecs):
            return f"this input is live in {codec.mimeType}, which the offer's {transceiver.kind} codecs cannot carry"
    return None


PROTOCOL = Protocol(name="whep", path="play", find_input=_find, negotiate=_negotiate,
                    server_offer=server_offer, answered=answered)

