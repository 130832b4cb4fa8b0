"""Which PATCH bodies the reference server takes as a trickle-ice-sdpfrag (RFC 8840 §9), and why not.

The server's own reading of RFC 8840 and RFC 8839, written field by field from their grammar. The
suite judges the fragments a target sends with a rule of its own (harness/judgments/sdpfrag_syntax.py).
"""

from __future__ import annotations

import string

from whip_whep_conformance.protocol import sdpfrag

# RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"
_ICE_CHARS = frozenset(string.ascii_letters + string.digits + "+/")
_SESSION_ONLY = "vost"  # RFC 8840 §9: a fragment is no session description: no v=, o=, s= or t= line


def _digits(value: str, most: int) -> bool:
    return 1 <= len(value) <= most and value.isascii() and value.isdigit()


def _candidate_reason(value: str) -> str | None:
    """RFC 8839 §5.1: foundation SP component-id SP transport SP priority SP connection-address SP port
    SP "typ" SP cand-type, then name/value pairs (raddr, rport, extensions)."""
    fields = value.split(" ")
    if len(fields) < 8 or len(fields) % 2:
        return f"candidate {value[:60]!r} does not have the fields RFC 8839 §5.1 lists"
    foundation, component, transport, priority, address, port, typ = fields[:7]
    if not (1 <= len(foundation) <= 32 and set(foundation) <= _ICE_CHARS):
        return f"candidate {value[:60]!r}: the foundation is not 1-32 ice-chars"
    if not (_digits(component, 3) and _digits(priority, 10) and _digits(port, 5)):
        return f"candidate {value[:60]!r}: component-id, priority and port must be digits"
    if typ != "typ" or not all(fields[7:]) or not transport or not address:
        return f"candidate {value[:60]!r} is not '... <port> typ <cand-type>'"
    return None


def _line_reason(line: str, in_media: bool) -> str | None:
    if len(line) < 2 or line[1] != "=" or line[0] not in string.ascii_lowercase:
        return f"{line[:40]!r} is not a <type>=<value> line"
    if line[0] in _SESSION_ONLY:
        return f"a fragment has no {line[0]}= line (RFC 8840 §9)"
    if line.startswith("m="):  # RFC 8866 §5.14, as RFC 8840 §9 carries the m= line of each section
        fields = line[2:].split(" ")
        port, slash, count = fields[1].partition("/") if len(fields) > 1 else ("", "", "")
        if len(fields) < 3 or not all(fields) or not port.isdigit() or (slash and not count.isdigit()):
            return f"media line {line!r} is not m=<media> <port> <proto> ..."
        return None
    name, _, value = line[2:].partition(":") if line.startswith("a=") else ("", "", "")
    if name == "ice-ufrag" and not (4 <= len(value) <= 256 and set(value) <= _ICE_CHARS):
        return "a=ice-ufrag must be 4-256 ice-chars (RFC 8839 §5.4)"
    if name == "ice-pwd" and not (22 <= len(value) <= 256 and set(value) <= _ICE_CHARS):
        return "a=ice-pwd must be 22-256 ice-chars (RFC 8839 §5.4)"
    if name == "candidate":
        # RFC 8840 §9: candidates belong to the media section (a=mid) they are for
        return _candidate_reason(value) if in_media else "a=candidate comes before any m= line"
    return None


def read(text: str) -> sdpfrag.SdpFrag:
    """The PATCH body as a fragment, or SdpFragError with the reason the server refuses it."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise sdpfrag.SdpFragError("the fragment is empty")
    in_media = False
    for line in lines:
        reason = _line_reason(line, in_media)
        if reason:
            raise sdpfrag.SdpFragError(reason)
        in_media = in_media or line.startswith("m=")
    frag = sdpfrag.parse(text)
    ufrag, pwd = frag.credentials()
    if bool(ufrag) != bool(pwd):  # RFC 8839 §5.4: they come as a pair
        raise sdpfrag.SdpFragError("a=ice-ufrag and a=ice-pwd come together (RFC 8839 §5.4)")
    return frag
