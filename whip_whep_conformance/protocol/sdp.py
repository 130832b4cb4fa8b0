"""SDP offers and answers as WHIP/WHEP exchange them (RFC 8866, JSEP RFC 9429, RFC 8839/8842).

Parsing is done by sdp-transform; this module adds the typed view both sides need, and the edits
that build offers. It judges nothing: whether a description conforms is the suite's judgment
(harness/judgments/) and, for what the server accepts, the server's own (reference_server/offers.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from whip_whep_conformance.protocol import sdp_lines

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
REPAIR_FORMATS = ("rtx", "red", "ulpfec", "flexfec-03")


class SdpSyntaxError(ValueError):
    """Text that is not a session description at all."""


@dataclass(frozen=True)
class Codec:
    payload: int
    name: str
    clock_rate: int
    channels: int | None = None
    fmtp: str = ""

    @property
    def mime(self) -> str:
        return self.name.upper()

    @property
    def parameters(self) -> dict[str, str]:
        """The a=fmtp parameters, names lower-cased (RFC 8866 §6.15 leaves their syntax to the format)."""
        found = {}
        for item in self.fmtp.split(";"):
            name, _, value = item.strip().partition("=")
            if name:
                found[name.lower()] = value.strip()
        return found

    @property
    def is_repair(self) -> bool:
        """RTX, RED and FEC formats: they carry another format's packets, not a codec of their own."""
        return self.name.lower() in REPAIR_FORMATS


@dataclass
class Media:
    """One m-section, with session-level ICE/DTLS attributes folded in where the section lacks them."""

    kind: str
    port: int
    protocol: str
    payloads: list[int]
    mid: str | None
    direction: str
    setup: str | None
    ice_ufrag: str | None
    ice_pwd: str | None
    fingerprints: list[str]
    candidates: list[str]
    end_of_candidates: bool
    rtcp_mux: bool
    rtcp_mux_only: bool
    bundle_only: bool
    codecs: list[Codec] = field(default_factory=list)
    msid: str | None = None
    ssrcs: list[int] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)  # the section's own a= lines, by name

    @property
    def rejected(self) -> bool:
        return self.port == 0 and not self.bundle_only


@dataclass
class SessionDescription:
    text: str
    media: list[Media]
    bundle_groups: list[list[str]]
    ice_lite: bool
    ice_options: list[str]
    session_attributes: dict[str, list[str]] = field(default_factory=dict)  # session-level a= lines, by name

    @classmethod
    def parse(cls, text: str) -> "SessionDescription":
        unreadable = _unreadable_media_lines(text)
        if unreadable:
            raise SdpSyntaxError("; ".join(unreadable))
        raw = sdp_lines.parse(text)
        sections = re.split(r"\r?\n(?=m=)", text)
        session_text, media_texts = sections[0], sections[1:]
        top = _attributes(session_text)
        return cls(
            text=text,
            media=[_media(m, session_text, t) for m, t in zip(raw.get("media", []), media_texts)],
            bundle_groups=[g.split()[1:] for g in top.get("group", []) if g.split()[:1] == ["BUNDLE"]],
            ice_lite="ice-lite" in top,
            ice_options=(top.get("ice-options") or [""])[0].split(),
            session_attributes=top,
        )

    @property
    def mids(self) -> list[str | None]:
        return [m.mid for m in self.media]

    @property
    def bundled_mids(self) -> set[str]:
        return {mid for group in self.bundle_groups for mid in group}


def _attributes(text: str) -> dict[str, list[str]]:
    """`a=name[:value]` lines of one SDP part, as text (sdp-transform turns digit-only values
    such as an all-digit ice-pwd into ints and drops leading zeros)."""
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r"^a=([A-Za-z0-9_-]+)(?::([^\r\n]*))?\r?$", text, re.MULTILINE):
        found.setdefault(name, []).append(value)
    return found


def _media(m: dict, session_text: str, section: str) -> Media:
    attrs, top = _attributes(section), _attributes(session_text)

    def first(name: str) -> str | None:
        values = attrs.get(name) or top.get(name)
        return values[0] if values else None

    direction = next((d for d in DIRECTIONS if d in attrs), None) or next((d for d in DIRECTIONS if d in top), "sendrecv")
    fmtp = {int(f["payload"]): str(f.get("config", "")) for f in m.get("fmtp", [])}
    codecs = [
        Codec(
            payload=int(r["payload"]),
            name=str(r.get("codec", "")),
            clock_rate=int(r.get("rate") or 0),
            channels=int(r["encoding"]) if r.get("encoding") else None,
            fmtp=fmtp.get(int(r["payload"]), ""),
        )
        for r in m.get("rtp", [])
    ]
    mline = section.split("\n", 1)[0].strip().split()
    payloads = [int(p) for p in mline[3:] if p.isdigit()]
    msid = first("msid")
    return Media(
        kind=mline[0][2:],
        port=int(mline[1].split("/")[0]),
        protocol=mline[2],
        payloads=payloads,
        mid=(attrs.get("mid") or [None])[0],
        direction=direction,
        setup=first("setup"),
        ice_ufrag=first("ice-ufrag"),
        ice_pwd=first("ice-pwd"),
        fingerprints=attrs.get("fingerprint") or top.get("fingerprint") or [],
        candidates=attrs.get("candidate", []),
        end_of_candidates="end-of-candidates" in attrs or "end-of-candidates" in top,
        rtcp_mux="rtcp-mux" in attrs,
        rtcp_mux_only="rtcp-mux-only" in attrs,
        bundle_only="bundle-only" in attrs,
        codecs=codecs,
        msid=msid.split()[0] if msid else None,
        ssrcs=sorted({int(v.split()[0]) for v in attrs.get("ssrc", []) if v.split() and v.split()[0].isdigit()}),
        attributes=attrs,
    )


def _unreadable_media_lines(text: str) -> list[str]:
    """m= lines the model cannot be built from (it needs <media> <port> <proto>); whether the text
    is a well-formed description is judged elsewhere, by each side for itself."""
    found = []
    for line in re.split(r"\r?\n", text):
        fields = line[2:].split() if line.startswith("m=") else None
        if fields is not None and (len(fields) < 3 or not fields[1].split("/")[0].isdigit()):
            found.append(f"media line {line[:60]!r} cannot be read")
    return found


CANDIDATE = re.compile(r"^\S{1,32} \d{1,3} \S+ \d{1,10} \S+ \d{1,5} typ \S+( \S+ \S+)*$")  # RFC 8839 §5.1, loosely


def candidate_address(value: str) -> tuple[str, int] | None:
    """The transport address an a=candidate value names, or None when it is not candidate grammar."""
    if not CANDIDATE.match(value):
        return None
    address, port = value.split(" ")[4:6]
    return address, int(port)


def without_candidates(text: str, keep: int = 0) -> str:
    """An offer with its candidates removed but the first `keep`, and no a=end-of-candidates, as a
    trickling client sends it (RFC 8838 §4: the rest follow)."""
    lines = re.split(r"\r?\n", text)
    candidates = [ln for ln in lines if ln.startswith("a=candidate:")][:keep]
    kept = [ln for ln in lines if not ln.startswith(("a=candidate:", "a=end-of-candidates")) or ln in candidates]
    return "\r\n".join(kept)


def with_direction(text: str, direction: str) -> str:
    """An offer whose media sections all carry `direction` instead of their own."""
    pattern = re.compile(r"^a=(" + "|".join(DIRECTIONS) + r")$")
    return "\r\n".join(
        f"a={direction}" if pattern.match(ln) else ln for ln in re.split(r"\r?\n", text)
    )


def without_attribute(text: str, name: str) -> str:
    """An SDP with every `a=name` / `a=name:...` line removed (to build broken offers)."""
    return "\r\n".join(
        ln for ln in re.split(r"\r?\n", text) if not re.match(rf"^a={re.escape(name)}(:|$)", ln)
    )


# --- codecs in offers and answers ----------------------------------------------------------

def describe_format(codec: Codec) -> str:
    text = f"{codec.payload} {codec.name}/{codec.clock_rate}"
    return f"{text} ({codec.fmtp})" if codec.fmtp else text


def rewrite_sections(text: str, rewrite: Callable[[str], str]) -> str:
    """An SDP whose m-sections (each from its m= line to the next) are replaced by `rewrite(section)`."""
    parts = re.split(r"(?=^m=)", text, flags=re.MULTILINE)
    return "".join(rewrite(part) if part.startswith("m=") else part for part in parts)


def with_lines(section: str, lines: list[str]) -> str:
    """An m-section with `lines` added at its end, in the section's own line ending."""
    newline = "\r\n" if "\r\n" in section else "\n"
    body = section.rstrip("\r\n")
    return body + newline + newline.join(lines) + (section[len(body):] or newline)


def with_media_attribute(text: str, attribute: str) -> str:
    """An SDP with `a=<attribute>` added to each m-section that lacks it (e.g. a=rtcp-mux-only in an offer)."""

    def add(section: str) -> str:
        if re.search(rf"^a={re.escape(attribute)}\r?$", section, re.MULTILINE):
            return section
        return with_lines(section, [f"a={attribute}"])

    return rewrite_sections(text, add)


def as_bundle_only(text: str) -> str:
    """An offer whose m-sections after the first are bundle-only as RFC 8843 §7.2.1 and JSEP's max-bundle
    make them (RFC 9429 §5.2.1): a=bundle-only, port 0 and no candidates of their own; the first section
    carries the transport for the whole BUNDLE group."""
    index = iter(range(len(text)))

    def mark(section: str) -> str:
        if next(index) == 0:
            return section
        section = re.sub(r"^(m=\S+ )\d+", r"\g<1>0", section, count=1)
        section = re.sub(r"^a=(candidate:|end-of-candidates)[^\r\n]*\r?\n", "", section, flags=re.MULTILINE)
        return with_media_attribute(section, "bundle-only")

    return rewrite_sections(text, mark)


def without_format(text: str, name: str) -> str:
    """An SDP with every format named `name` (and the RTX formats repairing it) removed from its m-sections."""

    def strip(section: str) -> str:
        gone = {int(pt) for pt, codec in re.findall(r"^a=rtpmap:(\d+) ([^/\s]+)", section, re.MULTILINE)
                if codec.lower() == name.lower()}
        gone |= {int(pt) for pt, apt in re.findall(r"^a=fmtp:(\d+) apt=(\d+)", section, re.MULTILINE) if int(apt) in gone}
        if not gone:
            return section
        lines = re.split(r"(\r?\n)", section)  # [line, newline, line, newline, …, last]
        fields = lines[0].split(" ")
        kept = [" ".join(fields[:3] + [p for p in fields[3:] if not (p.isdigit() and int(p) in gone)])]
        for newline, line in zip(lines[1::2], lines[2::2]):
            match = re.match(r"^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)", line)
            if not (match and int(match.group(1)) in gone):
                kept += [newline, line]
        return "".join(kept)

    return rewrite_sections(text, strip)


def with_format_renamed(text: str, name: str, new_name: str) -> str:
    """An SDP whose rtpmap lines for encoding `name` say `new_name` (e.g. a codec nobody knows)."""
    return re.sub(rf"^(a=rtpmap:\d+ ){re.escape(name)}/", rf"\g<1>{new_name}/", text, flags=re.MULTILINE | re.IGNORECASE)
