"""The reference server's one DTLS certificate per process (reference_server/dtls.py): every session's
answer carries its fingerprint, and a certificate near its end of validity is replaced."""

from __future__ import annotations

import datetime

from aiortc import RTCCertificate
from aiortc.rtcdtlstransport import SRTP_PROFILES
from OpenSSL import SSL

from whip_whep_conformance.reference_server import dtls
from whip_whep_conformance.webrtc.peer import new_peer_connection


def test_sessions_share_the_process_certificate_and_its_dtls_context():
    first = dtls.server_peer_connection(lambda: new_peer_connection([]))
    second = dtls.server_peer_connection(lambda: new_peer_connection([]))
    own = [pc._RTCPeerConnection__certificates[0] for pc in (first, second)]  # type: ignore[attr-defined]
    assert own[0] is own[1] is dtls.server_certificate(), f"both peer connections hold the process's certificate: {own}"


def test_the_shared_dtls_context_offers_rsa_suites_and_resumes_nothing():
    """One SSL.Context per SRTP profile list serves every transport: it must still offer the ECDHE-RSA
    suites (an RSA-certificate peer as DTLS server) and keep no sessions to resume."""
    certificate = dtls.server_certificate()
    first, second = (certificate._create_ssl_context(SRTP_PROFILES) for _ in range(2))
    ciphers = {c.decode() if isinstance(c, bytes) else c for c in SSL.Connection(first).get_cipher_list()}
    seen = {"shared": first is second, "rsa suites": "ECDHE-RSA-AES128-GCM-SHA256" in ciphers,
            "session cache": first.get_session_cache_mode()}
    assert seen == {"shared": True, "rsa suites": True, "session cache": SSL.SESS_CACHE_OFF}, (
        f"the process's DTLS context is shared, offers RSA suites and caches no sessions: {seen}")


def test_a_plain_peer_connection_still_makes_its_own_certificate():
    """The substitution lasts only while the server makes its peer connection: a client's in the same
    process (the tests', the harness's) keeps aiortc's own."""
    dtls.server_peer_connection(lambda: new_peer_connection([]))
    client = new_peer_connection([])
    (certificate,) = client._RTCPeerConnection__certificates  # type: ignore[attr-defined]
    assert certificate is not dtls.server_certificate() and type(certificate) is RTCCertificate, (
        f"a peer connection made outside server_peer_connection has aiortc's own certificate: {certificate!r}")


def test_a_certificate_near_its_end_of_validity_is_replaced():
    current = dtls.server_certificate()
    assert dtls.server_certificate(current.expires - dtls.RENEW_BEFORE - datetime.timedelta(seconds=1)) is current
    renewed = dtls.server_certificate(current.expires - dtls.RENEW_BEFORE + datetime.timedelta(seconds=1))
    assert renewed is not current and dtls.server_certificate() is renewed, (
        f"a day before {current.expires} the server makes a new certificate, and keeps it")
