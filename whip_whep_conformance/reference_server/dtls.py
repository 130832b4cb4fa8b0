"""The media server's DTLS: it takes the DTLS server role when the peer leaves the choice to it, and its
DTLS client accepts RSA servers.

Role. aiortc answers an `a=setup:actpass` offer with `active` (it becomes the DTLS client), as JSEP
suggests for browsers. RFC 8842 §5.3 lets the answerer pick either role; RFC 9725 §4.4.4's note says a
WHIP client "will always communicate with a media server that is expected to support the DTLS server
role", and the WHIP and WHEP drafts' examples answer with `a=setup:passive`. Clients are written against
that expectation: GStreamer 1.22's webrtcbin makes only an RSA certificate, and aiortc's DTLS client
offers only ECDHE-ECDSA suites, so a server acting as DTLS client toward it fails with "no shared cipher"
(Meetecho's simple-whip-client). As DTLS server the media server's ECDSA certificate picks the suite, and
the client's RSA certificate only signs its CertificateVerify, which OpenSSL takes. So an actpass offer is
answered `passive`; an `active` offer stays answered `passive`, a `passive` one `active` (aiortc's own).

Suites. The server is still the DTLS client when a peer asks for it: a WHEP player answering the
server's offer (actpass) with `a=setup:passive`. Its DTLS client therefore also offers ECDHE-RSA suites,
so an RSA-certificate peer works in that role too.

Certificate. One per server process, as Janus keeps one for all its sessions: aiortc makes a key pair
and certificate for every peer connection (about 1 ms here) and a DTLS context for every transport
(about 2 ms), which ten viewers POSTing at once pay one after another on the
server's loop. The certificate says only "this server" (a=fingerprint binds it to each session's SDP,
RFC 8122 §5); it is renewed a day before aiortc's 30-day validity ends.

aiortc has no public knob for any of this: it adapts three of its private points (checked, so an aiortc
that changes them fails loudly here rather than silently going back to `active`).
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Callable, Iterator

import aiortc.rtcpeerconnection
from aiortc import RTCCertificate, RTCPeerConnection, RTCDtlsFingerprint
from aiortc.rtcdtlstransport import SRTPProtectionProfile
from OpenSSL import SSL

# aiortc's own ECDHE-ECDSA suites first (its certificate is ECDSA), then the same with RSA authentication.
CIPHERS = (b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:"
           b"ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:"
           b"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA")


RENEW_BEFORE = datetime.timedelta(days=1)


class RsaAcceptingCertificate(RTCCertificate):
    """aiortc's certificate (same key, same fingerprint) whose DTLS context also offers ECDHE-RSA suites;
    its fingerprints and contexts are made once (an SSL.Context serves any number of connections)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._fingerprints: list[RTCDtlsFingerprint] | None = None
        self._contexts: dict[bytes, SSL.Context] = {}

    def getFingerprints(self) -> list[RTCDtlsFingerprint]:
        if self._fingerprints is None:
            self._fingerprints = super().getFingerprints()
        return list(self._fingerprints)

    def _create_ssl_context(self, srtp_profiles: list[SRTPProtectionProfile]) -> SSL.Context:
        key = b":".join(p.openssl_profile for p in srtp_profiles)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._contexts[key] = super()._create_ssl_context(srtp_profiles)
            ctx.set_cipher_list(CIPHERS)
            # a context per transport never resumed a session; a shared one would, from its server cache
            ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
        return ctx


_shared: RsaAcceptingCertificate | None = None


def server_certificate(now: datetime.datetime | None = None) -> RsaAcceptingCertificate:
    """This process's certificate, made on first use and again when it nears its end of validity."""
    global _shared
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if _shared is None or _shared.expires - RENEW_BEFORE < now:
        _shared = RsaAcceptingCertificate.generateCertificate()
    return _shared


@contextlib.contextmanager
def _with_certificate(certificate: RTCCertificate) -> Iterator[None]:
    """While a peer connection is made: aiortc's RTCPeerConnection.__init__ takes `certificate` instead of
    generating one (the name it calls is looked up in its module at that moment; nothing awaits here)."""
    factory = aiortc.rtcpeerconnection.RTCCertificate
    if getattr(factory, "generateCertificate", None) is None:
        raise RuntimeError("aiortc.rtcpeerconnection has no RTCCertificate.generateCertificate: whip_whep_conformance/reference_server/dtls.py needs updating")

    class Given(factory):  # type: ignore[misc, valid-type]
        @classmethod
        def generateCertificate(cls):  # type: ignore[override]
            return certificate

    aiortc.rtcpeerconnection.RTCCertificate = Given  # type: ignore[misc]
    try:
        yield
    finally:
        aiortc.rtcpeerconnection.RTCCertificate = factory  # type: ignore[misc]


def server_peer_connection(make: Callable[[], RTCPeerConnection]) -> RTCPeerConnection:
    """`make()` with this process's certificate, whose DTLS client also offers RSA suites (the peer
    connection is new: no transceiver or description yet)."""
    certificate = server_certificate()
    with _with_certificate(certificate):
        pc = make()
    certificates = getattr(pc, "_RTCPeerConnection__certificates", None)
    if certificates != [certificate]:
        raise RuntimeError("aiortc's RTCPeerConnection did not take the given certificate as its one __certificates entry: "
                           "whip_whep_conformance/reference_server/dtls.py needs updating")
    return pc


def take_server_role(pc: RTCPeerConnection, setups: dict[str, str | None]) -> int:
    """After an offer is applied and before the answer is made: be the DTLS server (answer `passive`)
    on the transports whose m-sections say `a=setup:actpass` (`setups`: the offer's value by mid). An
    `active` offer aiortc already answers `passive`; a `passive` one stays answered `active`. Returns how
    many transports were set."""
    # Under BUNDLE the m-sections share one transport, whose attributes are those of the first section
    # using it (RFC 8843 §7.1.3): only that section's a=setup decides the transport's role.
    first_setup: dict[int, tuple[object, str | None]] = {}
    for transceiver in pc.getTransceivers():
        if transceiver.mid is not None and transceiver.sender.transport:
            first_setup.setdefault(id(transceiver.sender.transport), (transceiver.sender.transport, setups.get(transceiver.mid)))
    if pc.sctp is not None and pc.sctp.mid is not None:
        first_setup.setdefault(id(pc.sctp.transport), (pc.sctp.transport, setups.get(pc.sctp.mid)))
    changed = 0
    for transport, setup in first_setup.values():
        if setup != "actpass":
            continue
        role = getattr(transport, "_role", None)
        if role is None or not callable(getattr(transport, "_set_role", None)):
            raise RuntimeError("aiortc's RTCDtlsTransport has no _role/_set_role: whip_whep_conformance/reference_server/dtls.py needs updating")
        if role == "auto":
            transport._set_role("server")
            changed += 1
    return changed
