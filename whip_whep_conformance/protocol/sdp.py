"""SDP offers and answers as WHIP/WHEP exchange them (RFC 8866, JSEP RFC 9429, RFC 8839/8842).

Parsing is done by sdp-transform; this module adds the typed view both sides need and the
checks: the server validates offers with `offer_problems`, the suite judges answers with the
`SessionDescription` properties. Keeping both here means they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import sdp_transform

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
REPAIR_FORMATS = ("rtx", "red", "ulpfec", "flexfec-03")
_LINE = re.compile(r"^[a-z]=[^\r\n]*$")
_ICE_CHARS = re.compile(r"^[A-Za-z0-9+/]+$")


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
        problems = syntax_problems(text)
        if problems:
            raise SdpSyntaxError("; ".join(problems))
        raw = sdp_transform.parse(text)
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


def syntax_problems(text: str) -> list[str]:
    """Why `text` is not a well-formed session description (RFC 8866 §5), empty if it is."""
    if not text.strip():
        return ["the body is empty"]
    lines = [ln for ln in re.split(r"\r?\n", text) if ln != ""]
    bad = [ln for ln in lines if not _LINE.match(ln)]
    if bad:
        return [f"line {bad[0][:40]!r} is not of the form <type>=<value>"]
    problems = []
    if lines[0] != "v=0":
        problems.append("the first line is not v=0")
    types = [ln[0] for ln in lines]
    for required in ("o", "s", "t"):
        if required not in types:
            problems.append(f"no {required}= line")
    for ln in lines:
        if ln.startswith("m=") and not re.match(r"^m=\S+ \d+(/\d+)? \S+( \S+)+$", ln):
            problems.append(f"malformed media line {ln!r}")
    return problems


class OfferError(ValueError):
    """An offer a server cannot use; `problems` says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_offer(text: str, kinds: tuple[str, ...] = ("audio", "video")) -> SessionDescription:
    """The offer, parsed once, or OfferError naming every reason a server cannot use it."""
    try:
        desc = SessionDescription.parse(text)
    except SdpSyntaxError as exc:
        raise OfferError([f"malformed SDP: {exc}"]) from None
    problems = _offer_problems(desc, kinds)
    if problems:
        raise OfferError(problems)
    return desc


def offer_problems(text: str, kinds: tuple[str, ...] = ("audio", "video")) -> list[str]:
    """Why a server cannot use `text` as a WebRTC offer (empty if it can)."""
    try:
        parse_offer(text, kinds)
    except OfferError as exc:
        return exc.problems
    return []


def _offer_problems(desc: SessionDescription, kinds: tuple[str, ...]) -> list[str]:
    problems = []
    if not desc.media:
        problems.append("the offer has no m= section")
    mids = [m.mid for m in desc.media]
    for group in desc.bundle_groups:
        missing = [mid for mid in group if mid not in mids]
        if missing:
            problems.append(f"a=group:BUNDLE names mids {missing} that no m-section has (RFC 9143 §7.2)")
    if len([m for m in mids if m is not None]) != len({m for m in mids if m is not None}):
        problems.append("two m-sections share a mid (RFC 9143 §7.1)")
    for index, m in enumerate(desc.media):
        where = f"m-section {index} ({m.kind})"
        if m.kind not in kinds:
            problems.append(f"{where}: only {'/'.join(kinds)} media is accepted")
            continue
        if not m.ice_ufrag or not m.ice_pwd:
            problems.append(f"{where}: no a=ice-ufrag/a=ice-pwd")
        elif not (4 <= len(m.ice_ufrag) <= 256 and _ICE_CHARS.match(m.ice_ufrag)):
            problems.append(f"{where}: a=ice-ufrag is not 4-256 ice-chars")
        elif not (22 <= len(m.ice_pwd) <= 256 and _ICE_CHARS.match(m.ice_pwd)):
            problems.append(f"{where}: a=ice-pwd is not 22-256 ice-chars")
        if not m.fingerprints:
            problems.append(f"{where}: no a=fingerprint")
        if m.mid is None:
            problems.append(f"{where}: no a=mid")
        if not m.codecs:
            problems.append(f"{where}: no a=rtpmap for any payload type")
    return problems


CANDIDATE = re.compile(r"^\S{1,32} \d{1,3} \S+ \d{1,10} \S+ \d{1,5} typ \S+( \S+ \S+)*$")  # RFC 8839 §5.1, loosely


def candidate_problem(value: str) -> str | None:
    """Why an a=candidate value cannot be used to reach its agent (None: it can be tried): bad
    grammar, or an unspecified address or port 0, which name no transport address."""
    if not CANDIDATE.match(value):
        return f"{value[:60]!r} is not candidate grammar"
    address, port = value.split(" ")[4:6]
    if address in ("0.0.0.0", "::") or int(port) == 0:
        return f"{value[:60]!r} names no reachable address ({address} port {port})"
    return None


def candidate_address(value: str) -> tuple[str, int] | None:
    """The transport address an a=candidate value names, or None when it is not candidate grammar."""
    if not CANDIDATE.match(value):
        return None
    address, port = value.split(" ")[4:6]
    return address, int(port)


def direction_answering(offered: str) -> str:
    """The direction an answerer mirrors (RFC 3264 §6.1)."""
    return {"sendonly": "recvonly", "recvonly": "sendonly"}.get(offered, offered)


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

def h264_profile(profile_level_id: str | None) -> str:
    """The H.264 profile a profile-level-id names (RFC 6184 §8.1), ignoring the level.

    Constrained Baseline is spelled several ways (42e0, 42c0, 4de0, 58c0…); they are one profile.
    Absent means 42e01f-era Constrained Baseline, as WebRTC stacks read it.
    """
    value = (profile_level_id or "42e01f").lower()
    try:
        idc, iop = int(value[0:2], 16), int(value[2:4], 16)
    except ValueError:
        return f"unknown ({value})"
    if (idc == 0x42 and iop & 0x40) or (idc == 0x4D and iop & 0x80) or (idc == 0x58 and iop & 0xC0 == 0xC0):
        return "constrained baseline"
    return {0x42: "baseline", 0x4D: "main", 0x58: "extended", 0x64: "high"}.get(idc, f"profile_idc {idc:#x}")


def same_format(a: Codec, b: Codec) -> bool:
    """Whether two rtpmap/fmtp pairs describe the same codec configuration.

    Encoding names compare case-insensitively (RFC 4855 §3); H.264 also needs the same
    packetization-mode and profile (RFC 6184 §8.2.2), VP9 the same profile-id (RFC 9628 §6).
    """
    if a.name.lower() != b.name.lower() or a.clock_rate != b.clock_rate:
        return False
    if a.name.lower() == "h264":
        pa, pb = a.parameters, b.parameters
        return (pa.get("packetization-mode", "0") == pb.get("packetization-mode", "0")
                and h264_profile(pa.get("profile-level-id")) == h264_profile(pb.get("profile-level-id")))
    if a.name.lower() == "vp9":
        return a.parameters.get("profile-id", "0") == b.parameters.get("profile-id", "0")
    return True


def decodable_as(sent: Codec, accepted: Codec) -> bool:
    """Whether packets of format `sent` can be forwarded unchanged to a receiver that accepted `accepted`.

    The same format, or H.264 Constrained Baseline into Baseline (a subset of it, RFC 6184 §8.1) with
    the same packetization-mode.
    """
    if same_format(sent, accepted):
        return True
    if sent.name.lower() != "h264" or accepted.name.lower() != "h264" or sent.clock_rate != accepted.clock_rate:
        return False
    ps, pa = sent.parameters, accepted.parameters
    return (ps.get("packetization-mode", "0") == pa.get("packetization-mode", "0")
            and h264_profile(ps.get("profile-level-id")) == "constrained baseline"
            and h264_profile(pa.get("profile-level-id")) == "baseline")


def describe_format(codec: Codec) -> str:
    text = f"{codec.payload} {codec.name}/{codec.clock_rate}"
    return f"{text} ({codec.fmtp})" if codec.fmtp else text


def unoffered_formats(offered: Media, answered: Media) -> list[Codec]:
    """Formats of an answer m-section that its offer m-section did not offer (JSEP §5.3.1)."""
    offered_names = {c.name.lower() for c in offered.codecs}
    return [
        c for c in answered.codecs
        if (c.name.lower() not in offered_names if c.is_repair else not any(same_format(o, c) for o in offered.codecs))
    ]


def h264_changes(offered: Media, answered: Media) -> list[str]:
    """H.264 formats answered on an offered H.264 payload type but with another mode or profile."""
    by_payload = {c.payload: c for c in offered.codecs}
    changes = []
    for c in answered.codecs:
        o = by_payload.get(c.payload)
        if o is None or o.name.lower() != "h264" or c.name.lower() != "h264" or same_format(o, c):
            continue
        changes.append(
            f"payload type {c.payload}: offered packetization-mode={o.parameters.get('packetization-mode', '0')} "
            f"{h264_profile(o.parameters.get('profile-level-id'))} ({o.fmtp or 'no fmtp'}), answered "
            f"packetization-mode={c.parameters.get('packetization-mode', '0')} "
            f"{h264_profile(c.parameters.get('profile-level-id'))} ({c.fmtp or 'no fmtp'})"
        )
    return changes


def renumbered_formats(offered: Media, answered: Media) -> list[str]:
    """Answered codecs the offer had under another payload type number (RFC 3264 §6.1 SHOULD)."""
    found = []
    for c in answered.codecs:
        if c.is_repair:
            continue
        same = [o for o in offered.codecs if same_format(o, c)]
        if same and c.payload not in {o.payload for o in same}:
            found.append(f"{c.name}/{c.clock_rate} offered as payload type {same[0].payload}, answered as {c.payload}")
    return found


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
