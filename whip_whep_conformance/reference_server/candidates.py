"""Which trickled or restart candidates the server's ICE agent can take."""

from __future__ import annotations

import ipaddress

from aiortc import RTCIceCandidate
from aiortc.sdp import candidate_from_sdp


def usable_candidate(line: str, mid: str | None) -> RTCIceCandidate | None:
    """An RTCIceCandidate for a UDP candidate on an IP literal, else None."""
    try:
        candidate = candidate_from_sdp(line)
        ipaddress.ip_address(candidate.ip)
    except (AssertionError, ValueError, IndexError):
        return None
    if candidate.protocol.lower() != "udp":
        return None
    candidate.sdpMid = mid
    return candidate
