"""Is a target's body a well-formed trickle-ice-sdpfrag (RFC 8840 §9, RFC 8839 grammar)? The suite's judgment."""

from __future__ import annotations

import re

from whip_whep_conformance.protocol.sdpfrag import SdpFrag, SdpFragError
from whip_whep_conformance.protocol.sdpfrag import parse as _read

_ICE_CHARS = re.compile(r"^[A-Za-z0-9+/]+$")  # RFC 8839 §5.4 ice-char
# RFC 8839 §5.1 candidate-attribute, loosely
_CANDIDATE = re.compile(r"^\S{1,32} \d{1,3} \S+ \d{1,10} \S+ \d{1,5} typ \S+( \S+ \S+)*$")


def check(text: str) -> None:
    """SdpFragError naming the first thing that makes `text` no trickle-ice-sdpfrag; None if it is one."""
    in_media = False
    lines = [ln for ln in re.split(r"\r?\n", text) if ln.strip()]
    if not lines:
        raise SdpFragError("the fragment is empty")
    for ln in lines:
        if not re.match(r"^[a-z]=", ln):
            raise SdpFragError(f"line {ln[:40]!r} is not of the form <type>=<value>")
        if ln[0] in "vost":
            raise SdpFragError(f"a fragment carries no {ln[0]}= line")
        if ln.startswith("m="):
            if not re.match(r"^m=\S+ \d+(/\d+)? \S+( \S+)*$", ln):
                raise SdpFragError(f"malformed media line {ln!r}")
            in_media = True
            continue
        if not ln.startswith("a="):
            continue
        name, _, value = ln[2:].partition(":")
        if name == "ice-ufrag" and not (4 <= len(value) <= 256 and _ICE_CHARS.match(value)):
            raise SdpFragError(f"a=ice-ufrag {value!r} is not 4-256 ice-chars")
        if name == "ice-pwd" and not (22 <= len(value) <= 256 and _ICE_CHARS.match(value)):
            raise SdpFragError("a=ice-pwd is not 22-256 ice-chars")
        if name == "candidate":
            if not in_media:
                raise SdpFragError("a=candidate outside a media section")
            if not _CANDIDATE.match(value):
                raise SdpFragError(f"malformed candidate {value[:60]!r}")


def parse(text: str) -> SdpFrag:
    """A target's fragment, read once it is judged well-formed (SdpFragError otherwise)."""
    check(text)
    frag = _read(text)
    ufrag, pwd = frag.credentials()
    if bool(ufrag) != bool(pwd):
        raise SdpFragError("a=ice-ufrag and a=ice-pwd must come together")
    return frag
