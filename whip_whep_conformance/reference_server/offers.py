"""Which offers (and WHEP answers) the reference server refuses, and why.

The server's own reading of the SDP RFCs, written line by line from their text. The suite judges
what a target sends with rules of its own (harness/judgments/); the two must not share a misreading.
"""

from __future__ import annotations

import string

from whip_whep_conformance.protocol import sdp

# RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"
_ICE_CHARS = frozenset(string.ascii_letters + string.digits + "+/")
_MEDIA_KINDS = ("audio", "video")  # what this server relays; other media is refused


class Unusable(ValueError):
    """A description the server cannot use; `reasons` lists every reason found."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _is_media_line(fields: list[str]) -> bool:
    """RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... (at least one fmt)."""
    if len(fields) < 4 or "" in fields:  # fields are separated by exactly one SP (§9: media-field)
        return False
    port, _, count = fields[1].partition("/")
    return port.isdigit() and (count.isdigit() or not _)


def malformed(text: str) -> list[str]:
    """Why `text` is no session description at all (RFC 8866 §5), empty if it is one."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line]  # the final CRLF leaves an empty piece
    if not lines:
        return ["the body is empty"]
    reasons = []
    for line in lines:
        # RFC 8866 §5: "<type>=<value>", <type> exactly one case-significant character
        if len(line) < 2 or line[1] != "=" or line[0] not in string.ascii_lowercase:
            return [f"{line[:40]!r} is not a <type>=<value> line"]
        if "\r" in line:  # §9: a value is a byte-string, which holds no CR or LF
            return [f"{line[:40]!r} holds a CR inside the line"]
    if lines[0] != "v=0":  # RFC 8866 §5.1: the description starts with v=0
        reasons.append("the description does not start with v=0")
    present = {line[0] for line in lines}
    reasons += [f"it has no {kind}= line" for kind in "ost" if kind not in present]  # RFC 8866 §5: required
    reasons += [f"media line {line!r} is not m=<media> <port> <proto> <fmt>..."
                for line in lines if line.startswith("m=") and not _is_media_line(line[2:].split(" "))]
    return reasons


def _ice_chars(value: str, shortest: int) -> bool:
    """RFC 8839 §5.4: ice-ufrag is 4-256 ice-chars, ice-pwd 22-256."""
    return shortest <= len(value) <= 256 and set(value) <= _ICE_CHARS


def _section_reasons(index: int, media: sdp.Media) -> list[str]:
    where = f"m-section {index} ({media.kind})"
    if media.kind not in _MEDIA_KINDS:
        return [f"{where}: this server takes {' and '.join(_MEDIA_KINDS)} media only"]
    reasons = []
    if media.ice_ufrag is None or media.ice_pwd is None:  # RFC 8839 §5.4: both, at session or media level
        reasons.append(f"{where}: the ICE credentials (a=ice-ufrag and a=ice-pwd) are missing")
    elif not _ice_chars(media.ice_ufrag, 4):
        reasons.append(f"{where}: a=ice-ufrag must be 4-256 ice-chars (RFC 8839 §5.4)")
    elif not _ice_chars(media.ice_pwd, 22):
        reasons.append(f"{where}: a=ice-pwd must be 22-256 ice-chars (RFC 8839 §5.4)")
    if not media.fingerprints:  # RFC 8842 §5: DTLS needs the certificate fingerprint
        reasons.append(f"{where}: no a=fingerprint for DTLS (RFC 8842 §5)")
    if media.mid is None:  # RFC 9429 §5.2.1: every m-section carries a=mid
        reasons.append(f"{where}: no a=mid (RFC 9429 §5.2.1)")
    if not media.codecs:  # a format without a=rtpmap names no codec this server can pick
        reasons.append(f"{where}: no format has an a=rtpmap")
    return reasons


def _grouping_reasons(desc: sdp.SessionDescription) -> list[str]:
    reasons = []
    tags = [m.mid for m in desc.media if m.mid is not None]
    if len(set(tags)) < len(tags):  # RFC 5888 §4: identification-tags are unique in the description
        reasons.append("a=mid values repeat (RFC 5888 §4)")
    for group in desc.bundle_groups:  # RFC 9143 §7.2 (RFC 5888 §5): a group names m-sections of the offer
        unknown = [tag for tag in group if tag not in tags]
        if unknown:
            reasons.append(f"a=group:BUNDLE lists {unknown}, which are no m-section's a=mid (RFC 9143 §7.2)")
    return reasons


def read_offer(text: str) -> sdp.SessionDescription:
    """The offer, parsed, or Unusable with every reason this server cannot answer it."""
    desc = read_description(text)
    reasons = [] if desc.media else ["the offer has no m-section"]
    reasons += _grouping_reasons(desc)
    for index, media in enumerate(desc.media):
        reasons += _section_reasons(index, media)
    if reasons:
        raise Unusable(reasons)
    return desc


def read_description(text: str) -> sdp.SessionDescription:
    """Any session description a client sends (an offer, or a WHEP player's answer), parsed, or
    Unusable when it is no SDP (RFC 8866 §5)."""
    reasons = malformed(text)
    if not reasons:
        try:
            return sdp.SessionDescription.parse(text)
        except sdp.SdpSyntaxError as exc:
            reasons = [str(exc)]
    raise Unusable([f"malformed SDP: {'; '.join(reasons)}"])
