"""The certificate a client presented in its DTLS handshake, recorded before aiortc judges it: the client
cases grade it against the a=fingerprint lines of the client's SDP (RFC 8122 §5, RFC 8842 §5).

Facts only: the fingerprints of the presented certificate (with each hash function the SDP's
a=fingerprint lines name, and sha-256), the a=fingerprint values the transport was given, the key's
algorithm and the validity window. Whether they match is the cases' question, not the server's.

Written against aiortc 1.16.0: `RTCDtlsTransport.start()` runs the handshake, then calls
`_validate_peer_identity(remoteParameters)`, which reads the peer certificate
(`self._ssl.get_peer_certificate`) and on a fingerprint mismatch sets the transport failed and returns;
the certificate is kept nowhere. So that one method is wrapped, per transport of the server's own peer
connections, to read the certificate first: a mismatching client is recorded too.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from aiortc import RTCPeerConnection
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

log = logging.getLogger("reference_server.peer_certificate")

# RFC 8122 §5's hash function textual names (IANA "Hash Function Textual Names") this server can compute.
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha-1": hashes.SHA1, "sha-224": hashes.SHA224, "sha-256": hashes.SHA256, "sha-384": hashes.SHA384,
    "sha-512": hashes.SHA512, "md5": hashes.MD5,
}
WATCHED = "_conformance_certificate_watched"  # set on a transport whose validation is wrapped


def fingerprint(certificate: x509.Certificate, algorithm: str) -> str | None:
    """The certificate's fingerprint as a=fingerprint writes it (upper-case hex pairs joined by colons),
    or None for a hash function this server cannot compute."""
    make = HASHES.get(algorithm.lower())
    if make is None:
        return None
    digest = certificate.fingerprint(make()).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def key_algorithm(certificate: x509.Certificate) -> str:
    """The public key's algorithm as a person names it: "EC P-256", "RSA 2048", "Ed25519"."""
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "EC P-256", "secp384r1": "EC P-384", "secp521r1": "EC P-521"}.get(key.curve.name, f"EC {key.curve.name}")
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


def describe(certificate: x509.Certificate, given: list[tuple[str, str]]) -> dict[str, Any]:
    """One handshake's record: `given` are the (algorithm, value) a=fingerprint pairs the transport had."""
    algorithms = sorted({a.lower() for a, _ in given} | {"sha-256"})
    presented = {a: v for a in algorithms if (v := fingerprint(certificate, a)) is not None}
    return {
        "presented": presented,
        "sdp_fingerprints": [{"algorithm": a, "value": v} for a, v in given],
        "key": key_algorithm(certificate),
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "not_after": certificate.not_valid_after_utc.isoformat(),
    }


def watch(pc: RTCPeerConnection, record: Callable[[dict[str, Any]], None]) -> int:
    """Record, through `record`, the peer certificate of every DTLS handshake `pc`'s transports complete
    from now on (call once its transports exist and before ICE connects). Returns how many were wrapped."""
    transports = [t.sender.transport for t in pc.getTransceivers() if t.sender.transport is not None]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    wrapped = 0
    for transport in {id(t): t for t in transports}.values():
        if getattr(transport, WATCHED, False):
            continue
        original = getattr(transport, "_validate_peer_identity", None)
        if not callable(original):
            raise RuntimeError("aiortc's RTCDtlsTransport has no _validate_peer_identity: "
                               "whip_whep_conformance/reference_server/peer_certificate.py needs updating")

        def validate(remote_parameters, original=original, transport=transport) -> None:
            try:
                certificate = transport._ssl.get_peer_certificate(as_cryptography=True)
                if certificate is not None:
                    record(describe(certificate, [(f.algorithm, f.value) for f in remote_parameters.fingerprints]))
            except Exception:  # recording must never change the handshake's outcome
                log.exception("reading the peer's DTLS certificate failed")
            return original(remote_parameters)

        transport._validate_peer_identity = validate
        setattr(transport, WATCHED, True)
        wrapped += 1
    return wrapped
