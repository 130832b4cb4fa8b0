"""What the server observed of each session, for GET /client/v4/sessions: a client conformance run grades
a client by what reached the server (candidates, checks, consent, media), not only by its HTTP.

Every field is a plain counter or list kept on the session (`Session.observed`) and bumped where the
thing happens; the hot paths (RTP per packet, STUN per check) pay one integer increment.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from aiortc import RTCPeerConnection

ENDED_KEPT = 200  # ended sessions listed after their end, newest last

# Why a session ended (`ended_by`), named plainly.
DELETE = "delete"  # the client's DELETE (session URL, or the publish URL where the profile takes it)
TIMEOUT = "timeout"  # ICE/DTLS never connected in time, or a server offer was never answered
MEDIA_TIMEOUT = "media-timeout"  # a connected publisher's RTP stopped
ICE_FAILED = "ice-failed"  # the transport failed after connecting (consent expired, ICE or DTLS failed)
DTLS_CLOSED = "dtls-closed"  # the client closed DTLS (close_notify)
UNSERVABLE = "unservable"  # a viewer whose codecs cannot carry the live stream
PUBLISHER_ENDED = "publisher-ended"  # a viewer whose publisher ended
INPUT_DELETED = "input-deleted"  # its live input was deleted through the API
SHUTDOWN = "shutdown"  # the server stopped
REFUSED = "refused"  # the offer could not be negotiated (no session was ever answered): not listed
ENDED = "ended"  # any other end (a fault's)


@dataclass
class Observation:
    """One session as the server saw it."""

    id: str
    protocol: str  # "whip" | "whep"
    live_input: str
    url: str | None = None  # the session URL path, once a response has named it
    created_s: float = field(default_factory=time.time)
    ended_s: float | None = None
    ended_by: str | None = None
    connected: bool = False  # ICE and DTLS came up at least once
    remote_candidates: list[str] = field(default_factory=list)  # a=candidate values: offer/answer, then PATCHes
    trickle_patches: int = 0  # trickle PATCHes the server took (204)
    ice_restarts: int = 0  # restart PATCHes answered 200
    consent_sent: int = 0  # the server's consent checks (RFC 7675) to the client
    consent_answered: int = 0  # ... answered with a success response
    consent_unanswered: int = 0  # ... that got no success response in time
    consent_unanswered_in_a_row: int = 0  # the longest run of unanswered ones (a lone loss, or a client gone deaf)
    checks_received: int = 0  # STUN Binding requests the server's ICE agent received
    rtp_packets: dict[str, int] = field(default_factory=dict)  # WHIP: received per mid; WHEP: sent per mid
    dtls_state: str = "new"
    fingerprint_matched: bool | None = None
    # each DTLS handshake the client completed: the certificate it presented (peer_certificate.describe)
    dtls_handshakes: list[dict[str, Any]] = field(default_factory=list)

    def add_candidates(self, lines: Iterable[str]) -> None:
        self.remote_candidates.extend(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "protocol": self.protocol, "live_input": self.live_input, "url": self.url,
            "created_s": self.created_s, "ended_s": self.ended_s, "ended_by": self.ended_by,
            "connected": self.connected, "remote_candidates": list(self.remote_candidates),
            "trickle_patches": self.trickle_patches, "ice_restarts": self.ice_restarts,
            "consent": {"sent": self.consent_sent, "answered": self.consent_answered,
                        "unanswered": self.consent_unanswered, "most_unanswered_in_a_row": self.consent_unanswered_in_a_row},
            "checks_received": self.checks_received, "rtp_packets": dict(self.rtp_packets),
            "dtls": {"state": self.dtls_state, "remote_fingerprint_matched": self.fingerprint_matched,
                     "handshakes": [dict(h) for h in self.dtls_handshakes]},
        }


def read_dtls(observed: Observation, pc: RTCPeerConnection) -> None:
    """Copy a session's DTLS state into its observation (when listed, and once more as it ends)."""
    for transceiver in pc.getTransceivers():
        transport = transceiver.sender.transport
        if transport is None:
            continue
        observed.dtls_state = str(transport.state)
        if observed.connected or transport.state == "connected":
            observed.fingerprint_matched = True
        elif transport.state == "failed" and getattr(transport, "encrypted", False):
            observed.fingerprint_matched = False  # the handshake finished, then the peer's identity failed
        return


class Observations:
    """The ended sessions still listed (the live ones are the server's own)."""

    def __init__(self) -> None:
        self.ended: collections.deque[Observation] = collections.deque(maxlen=ENDED_KEPT)

    def ended_one(self, observed: Observation, pc: RTCPeerConnection, reason: str) -> None:
        if observed.ended_s is not None:
            return
        read_dtls(observed, pc)
        observed.ended_s, observed.ended_by = time.time(), reason
        if reason != REFUSED:
            self.ended.append(observed)

    def listing(self, live: Iterable[tuple[Observation, RTCPeerConnection]]) -> list[dict[str, Any]]:
        """Every session held (oldest first: its observation and peer connection), then the ended ones kept."""
        current = []
        for observed, pc in live:
            if observed.url is None:
                continue  # not yet answered: no client knows it
            read_dtls(observed, pc)
            current.append(observed.to_json())
        return current + [o.to_json() for o in self.ended]
