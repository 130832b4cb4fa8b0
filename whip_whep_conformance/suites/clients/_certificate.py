"""The DTLS certificate check WHIP and WHEP clients share (SDP-DTLS-1): the certificate the client presented
in its handshake, by the server's account (the session's `dtls.handshakes`: fingerprints of what it was
shown), against the a=fingerprint lines of the SDP the client sent. The server records; this decides."""

from __future__ import annotations

from whip_whep_conformance.harness.clients.observed import Observed
from whip_whep_conformance.protocol import headers, sdp


def client_sdp(seen: Observed) -> tuple[str, sdp.SessionDescription] | None:
    """The SDP the client's session was negotiated with, and what it was: the last application/sdp PATCH to
    the session the server took (a WHEP player's answer to a server offer or counter-offer), else the offer
    of the POST that made the session (a client may make a new peer connection, so a new certificate, for
    each retry), else its first offer."""
    created = seen.created()
    answers = [p for p in seen.patches() if headers.media_type(p.header("Content-Type")) == headers.SDP and 200 <= p.status < 300]
    for what, text in (("answer (its PATCH)", answers[-1].text if answers else ""),
                       ("offer", created.text if created is not None else "")):
        if text.strip():
            try:
                return what, sdp.SessionDescription.parse(text)
            except (sdp.SdpSyntaxError, ValueError, KeyError, IndexError):
                return None
    offer = seen.offer()
    return ("offer", offer) if offer is not None else None


def fingerprints(desc: sdp.SessionDescription) -> list[tuple[str, str]]:
    """Every distinct a=fingerprint of the SDP (media-level, or session-level where a section has none),
    as (hash function, value) in the upper-case hex RFC 8122 §5 writes (its comparison is case-blind)."""
    found: dict[tuple[str, str], None] = {}
    for media in desc.media:
        for line in media.fingerprints:
            algorithm, _, value = line.strip().partition(" ")
            found[(algorithm.lower(), value.strip().upper())] = None
    return list(found)


def grade_certificate(client_case, seen: Observed) -> None:
    """SDP-DTLS-1: each certificate the client presented in a DTLS handshake matches an a=fingerprint of its
    SDP: the fingerprint computed with that line's hash function is that line's value (RFC 8122 §5). The
    lines of any m-section count (a non-bundled client's transports each carry their own; under BUNDLE,
    the usual case, there is one transport and one set)."""
    view = seen.session_view()
    if view is None:
        client_case.not_applicable(f"the server lists no session the client made (no 201 naming one, or no "
                                   f"account of its sessions): {seen.seen()}")
    dtls = view.get("dtls") or {}
    handshakes = dtls.get("handshakes") or []
    if not handshakes:
        client_case.not_applicable(f"no DTLS handshake with the client completed by the server's account (DTLS "
                                   f"{dtls.get('state')}, connected {view.get('connected')}, {view.get('checks_received', 0)} "
                                   f"ICE checks received, ended by {view.get('ended_by')}): {seen.seen()}")
    described = client_sdp(seen)
    if described is None:
        client_case.not_applicable(f"the client sent no readable SDP to compare its certificate with: {seen.seen()}")
    what, desc = described
    lines = fingerprints(desc)
    computed = {a for h in handshakes for a in h.get("presented", {})}
    if lines and not {a for a, _ in lines} & computed:
        client_case.not_applicable(f"the {what}'s a=fingerprint hash functions {sorted({a for a, _ in lines})} are "
                                   f"none the server computed ({sorted(computed)})")
    for handshake in handshakes:
        presented = {a.lower(): v.upper() for a, v in handshake.get("presented", {}).items()}
        client_case.expect(any(presented.get(a) == v for a, v in lines), "SDP-DTLS-1", message=_mismatch(handshake.get("key", "?"), presented, what, lines))


def _mismatch(key: str, presented: dict[str, str], what: str, lines: list[tuple[str, str]]) -> str:
    """Both fingerprints, with the hash function of the SDP's first line the server computed."""
    if not lines:
        return f"the client presented a {key} certificate (sha-256 {presented.get('sha-256')}); its {what} has no a=fingerprint"
    algorithm, value = next(((a, v) for a, v in lines if a in presented), lines[0])
    others = [a for a, v in lines if (a, v) != (algorithm, value)]
    return (f"the {key} certificate the client presented in DTLS has the {algorithm} fingerprint {presented.get(algorithm)}; "
            f"its {what} names a=fingerprint:{algorithm} {value}"
            + (f" (and {len(others)} more line(s), {', '.join(others)}, none matching either)" if others else ""))
