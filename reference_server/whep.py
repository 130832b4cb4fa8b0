"""WHEP playback (draft-ietf-wish-whep-03 / draft-murillo-whep-01), client-offer mode: many viewers per input."""

from __future__ import annotations

from typing import TYPE_CHECKING


from whip_whep import sdp
from whip_whep.peer import SilentTrack

from .relay import same_codec
from .signalling import Protocol, Refusal, count_kinds

if TYPE_CHECKING:
    from .app import ReferenceServer
    from .live_inputs import LiveInput
    from .sessions import Session


def _find(server: "ReferenceServer", uid: str) -> "LiveInput | None":
    return server.inputs.by_uid(uid)


def _add_senders(session: "Session", desc: sdp.SessionDescription) -> None:
    """Sendonly transceivers must exist before the offer is applied, or aiortc answers inactive."""
    for m in desc.media:
        session.pc.addTransceiver(SilentTrack(m.kind), direction="sendonly")


async def _negotiate(server: "ReferenceServer", live: "LiveInput", offer: str, desc: sdp.SessionDescription,
                     profile: str) -> tuple["Session", str]:
    counts = count_kinds(desc)
    if any(n > 1 for n in counts.values()):
        raise Refusal(422, f"one audio and one video track at most; the offer has {counts}")
    for m in desc.media:
        if m.direction in ("sendonly", "inactive"):
            raise Refusal(400, f"a WHEP offer must not be {m.direction}")
    session, answer = await server.open_session(
        "whep", live, offer, desc, prepare=lambda session: _add_senders(session, desc), refusal_status=422
    )
    unservable = _unservable(live, session)
    if unservable:
        await server.end_session(session)
        raise Refusal(422, unservable)
    live.relay.attach_viewer(session)
    return session, answer


def _unservable(live: "LiveInput", session: "Session") -> str | None:
    """Codec rule: answer every offered codec we support; refuse a viewer that cannot carry the live stream."""
    for transceiver in session.pc.getTransceivers():
        codec = live.relay.live_codec(transceiver.kind)
        if codec is not None and not any(same_codec(codec, c) for c in transceiver._codecs):
            return f"this input is live in {codec.mimeType}, which the offer's {transceiver.kind} codecs cannot carry"
    return None


PROTOCOL = Protocol(name="whep", path="play", find_input=_find, negotiate=_negotiate)

