"""SDP offers and answers as WHIP/WHEP exchange them (RFC 8866, JSEP RFC 9429, RFC 8839/8842).

Parsing is done by sdp-transform; this module adds the typed view both sides need and the
checks: the server validates offers with `offer_problems`, the suite judges answers with the
`SessionDescription` properties. Keeping both here means they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sdp_transform

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
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


def direction_answering(offered: str) -> str:
    """The direction an answerer mirrors (RFC 3264 §6.1)."""
    return {"sendonly": "recvonly", "recvonly": "sendonly"}.get(offered, offered)


def without_candidates(text: str) -> str:
    """An offer with its candidates removed, as a trickling client sends it (RFC 8838 §4)."""
    lines = re.split(r"\r?\n", text)
    kept = [ln for ln in lines if not ln.startswith(("a=candidate:", "a=end-of-candidates"))]
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
