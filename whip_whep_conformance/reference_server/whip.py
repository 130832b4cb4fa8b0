"""WHIP ingest (RFC 9725 / draft-ietf-wish-whip-06): one publisher per live input."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiortc import RTCRtpSender

from whip_whep_conformance.protocol import profiles, sdp, simulcast

from . import events
from .faults import Fault
from .signalling import Protocol, Refusal, count_kinds

if TYPE_CHECKING:
    from .app import ReferenceServer
    from .live_inputs import LiveInput
    from .sessions import Session


def _unknown_video_formats(desc: sdp.SessionDescription) -> list[str]:
    """Video format names of the offer that aiortc cannot negotiate (fault unusable-section-rejected)."""
    known = {c.mimeType.split("/")[1].lower() for c in RTCRtpSender.getCapabilities("video").codecs}
    return sorted({c.name for m in desc.media if m.kind == "video" for c in m.codecs if c.name.lower() not in known})


def _find(server: "ReferenceServer", secret: str) -> "LiveInput | None":
    return server.inputs.by_secret(secret)


async def _negotiate(server: "ReferenceServer", live: "LiveInput", offer: str, desc: sdp.SessionDescription,
                     profile: str) -> tuple["Session", str]:
    unsupported = 406 if profile == profiles.WHIP_06 else 422
    counts = count_kinds(desc)
    if any(n > 1 for n in counts.values()):
        status = 403 if server.config.fault(Fault.TRACK_LIMIT_403) else unsupported
        raise Refusal(status, f"one audio and one video track at most; the offer has {counts}")
    for m in desc.media:
        if m.direction in ("recvonly", "inactive"):
            raise Refusal(400, f"a WHIP offer must not be {m.direction} (RFC 9725 §4.2)")
        if m.direction == "sendrecv" and server.config.fault(Fault.SENDRECV_REFUSED):
            raise Refusal(400, "sendrecv offers are not accepted")
    if live.publisher is not None and not server.config.fault(Fault.SECOND_PUBLISHER_ACCEPTED):
        raise Refusal(409, "a publisher is already live on this input; DELETE its session first")
    if server.config.fault(Fault.ACTIVE_OFFER_REFUSED_403) and any(m.setup == "active" for m in desc.media):
        raise Refusal(403, "a=setup:active offers are not taken")
    refusal_status = 403 if server.config.fault(Fault.UNUSABLE_OFFER_403) else unsupported
    unknown = _unknown_video_formats(desc) if server.config.fault(Fault.UNUSABLE_SECTION_REJECTED) else []
    for name in unknown:  # the fault: negotiate the section as VP8, then answer it rejected (port 0)
        offer = sdp.with_format_renamed(offer, name, "VP8")
    session, answer = await server.open_session("whip", live, offer, desc, prepare=None, refusal_status=refusal_status)
    if unknown:
        answer = re.sub(r"^m=video \d+", "m=video 0", answer, flags=re.MULTILINE)
    if not server.config.fault(Fault.SIMULCAST_UNSUPPORTED):  # RFC 9725 §4.8: take up every offered stream
        answer, session.simulcast = simulcast.accept(answer, desc)
    live.relay.attach_publisher(session)
    session.spawn(live.relay.reap_when_silent(session, server.config.media_timeout_s, server.end_session))
    session.spawn(_announce_when_live(live, session))
    return session, answer


async def _announce_when_live(live: "LiveInput", session: "Session") -> None:
    """Viewers' event streams hear `active` once the publisher is connected (WHEP §4.9.1.1)."""
    await session.connected.wait()
    if live.publisher is session:
        events.publication_changed(live, active=True)


PROTOCOL = Protocol(name="whip", path="publish", find_input=_find, negotiate=_negotiate)

