"""Is a target's body a session description at all (RFC 8866 §5)? The suite's judgment."""

from __future__ import annotations

import re

from whip_whep_conformance.protocol.sdp import SdpSyntaxError, SessionDescription

_LINE = re.compile(r"^[a-z]=[^\r\n]*$")  # RFC 8866 §5: <type>=<value>, <type> one character
_MEDIA_LINE = re.compile(r"^m=\S+ \d+(/\d+)? \S+( \S+)+$")  # RFC 8866 §5.14


def problems(text: str) -> list[str]:
    """Why `text` is not a well-formed session description (RFC 8866 §5), empty if it is."""
    if not text.strip():
        return ["the body is empty"]
    lines = [ln for ln in re.split(r"\r?\n", text) if ln != ""]
    bad = [ln for ln in lines if not _LINE.match(ln)]
    if bad:
        return [f"line {bad[0][:40]!r} is not of the form <type>=<value>"]
    found = []
    if lines[0] != "v=0":  # RFC 8866 §5.1
        found.append("the first line is not v=0")
    types = [ln[0] for ln in lines]
    for required in ("o", "s", "t"):  # RFC 8866 §5: required lines
        if required not in types:
            found.append(f"no {required}= line")
    for ln in lines:
        if ln.startswith("m=") and not _MEDIA_LINE.match(ln):
            found.append(f"malformed media line {ln!r}")
    return found


def parse(text: str) -> SessionDescription:
    """A target's description, parsed once it is judged well-formed; SdpSyntaxError naming every
    problem otherwise (the exception the protocol model's parser raises on what it cannot read)."""
    found = problems(text)
    if found:
        raise SdpSyntaxError("; ".join(found))
    return SessionDescription.parse(text)
