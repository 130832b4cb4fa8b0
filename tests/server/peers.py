"""Real aiortc peers that make the fast layer's offers and answers.

Every peer comes from `webrtc.peer.new_peer_connection([])`: an explicit empty ICE server list (aiortc's
default is a public STUN host), and the fixtures restrict host candidates to 127.0.0.1.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender

from whip_whep_conformance.webrtc.peer import new_peer_connection, wait_state

CONNECT_TIMEOUT_S = 20.0  # loopback ICE + DTLS between two aiortc peers, on a busy machine


def video_codecs(mime: str) -> list:
    """aiortc's capabilities for one video codec (e.g. "video/H264") and RTX."""
    return [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType.lower() in (mime.lower(), "video/rtx")]


class Peers:
    """Peer connections made for one test, all closed by `close()`."""

    def __init__(self) -> None:
        self._made: list[RTCPeerConnection] = []

    def _new(self) -> RTCPeerConnection:
        pc = new_peer_connection([])
        self._made.append(pc)
        return pc

    def publisher(self, video: str | None = None, direction: str = "sendonly") -> RTCPeerConnection:
        """A WHIP client's peer: audio and video `direction` (aiortc's codecs, or only `video`'s)."""
        pc = self._new()
        pc.addTransceiver(AudioStreamTrack(), direction=direction)
        transceiver = pc.addTransceiver(VideoStreamTrack(), direction=direction)
        if video is not None:
            transceiver.setCodecPreferences(video_codecs(video))
        return pc

    def viewer(self, video: str | None = None, direction: str = "recvonly") -> RTCPeerConnection:
        """A WHEP player's peer: audio and video `direction` (aiortc's video codecs, or only `video`'s)."""
        pc = self._new()
        pc.addTransceiver("audio", direction=direction)
        transceiver = pc.addTransceiver("video", direction=direction)
        if video is not None:
            transceiver.setCodecPreferences(video_codecs(video))
        return pc

    def answerer(self) -> RTCPeerConnection:
        """A peer that only answers (a WHEP player taking the server's offer)."""
        return self._new()

    @staticmethod
    async def offer(pc: RTCPeerConnection) -> str:
        """Create and apply an offer; aiortc gathers every (loopback) candidate before it returns."""
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp

    @staticmethod
    async def answer(pc: RTCPeerConnection, offer: str) -> str:
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    @staticmethod
    async def connect(pc: RTCPeerConnection, answer: str) -> str | None:
        """Apply the server's answer and wait (with a deadline) for ICE and DTLS: the state reached."""
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        return await wait_state(pc, lambda state: state in ("connected", "failed", "closed"), CONNECT_TIMEOUT_S)

    async def close(self) -> None:
        for pc in self._made:
            await pc.close()
