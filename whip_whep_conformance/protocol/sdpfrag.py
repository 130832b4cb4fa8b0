"""`application/trickle-ice-sdpfrag` bodies (RFC 8840 §9) carried by WHIP/WHEP PATCH requests.

A fragment is SDP without v=/o=/s=/t=: session-level ICE attributes, then media sections
identified by `a=mid`. ICE credentials may sit at either level (WHEP draft examples use both),
and media level wins, as in RFC 8839.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from whip_whep_conformance.protocol.sdp import SessionDescription


class SdpFragError(ValueError):
    """A body that is not a well-formed trickle-ice-sdpfrag (raised by the parser for what it cannot
    hold, and by each side's judgment of well-formedness)."""


@dataclass
class FragMedia:
    mline: str
    mid: str | None = None
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    candidates: list[str] = field(default_factory=list)
    end_of_candidates: bool = False


@dataclass
class SdpFrag:
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: list[str] = field(default_factory=list)
    ice_lite: bool = False
    end_of_candidates: bool = False
    media: list[FragMedia] = field(default_factory=list)

    def credentials(self) -> tuple[str | None, str | None]:
        """The ICE credentials the fragment speaks for (media level first)."""
        for m in self.media:
            if m.ice_ufrag or m.ice_pwd:
                return m.ice_ufrag, m.ice_pwd
        return self.ice_ufrag, self.ice_pwd

    def __str__(self) -> str:
        return build(self)


def parse(text: str) -> SdpFrag:
    """The fragment's model. Reading only: whether the body is a well-formed trickle-ice-sdpfrag is
    judged by each side for itself (the suite: harness/judgments/sdpfrag_syntax.py; the server:
    reference_server/fragments.py). SdpFragError only for what the model cannot hold."""
    frag = SdpFrag()
    current: FragMedia | None = None
    for ln in re.split(r"\r?\n", text):
        if ln.startswith("m="):
            current = FragMedia(mline=ln)
            frag.media.append(current)
            continue
        if not ln.startswith("a="):
            continue
        name, _, value = ln[2:].partition(":")
        target = current if current is not None else frag
        if name == "ice-ufrag":
            target.ice_ufrag = value
        elif name == "ice-pwd":
            target.ice_pwd = value
        elif name == "end-of-candidates":
            target.end_of_candidates = True
        elif name == "mid" and current is not None:
            current.mid = value
        elif name == "candidate":
            if current is None:
                raise SdpFragError("a=candidate outside a media section")
            current.candidates.append(value)
        elif name == "ice-options" and current is None:
            frag.ice_options = value.split()
        elif name == "ice-lite" and current is None:
            frag.ice_lite = True
    return frag


def build(frag: SdpFrag) -> str:
    lines = []
    if frag.ice_lite:
        lines.append("a=ice-lite")
    if frag.ice_options:
        lines.append("a=ice-options:" + " ".join(frag.ice_options))
    if frag.ice_ufrag:
        lines += [f"a=ice-ufrag:{frag.ice_ufrag}", f"a=ice-pwd:{frag.ice_pwd}"]
    for m in frag.media:
        lines.append(m.mline)
        if m.mid is not None:
            lines.append(f"a=mid:{m.mid}")
        if m.ice_ufrag:
            lines += [f"a=ice-ufrag:{m.ice_ufrag}", f"a=ice-pwd:{m.ice_pwd}"]
        lines += [f"a=candidate:{c}" for c in m.candidates]
        if m.end_of_candidates:
            lines.append("a=end-of-candidates")
    if frag.end_of_candidates:
        lines.append("a=end-of-candidates")
    return "\r\n".join(lines) + "\r\n"


def for_description(description_sdp: str, ufrag: str | None = None, pwd: str | None = None,
                    candidates: list[str] | None = None, end_of_candidates: bool = False) -> SdpFrag:
    """A fragment that speaks for a description's ICE session: its first (BUNDLE-tagged) m-line and
    mid, its ice-lite and ice-options (RFC 9725 §4.3.3 has restart bodies repeat them), the given
    credentials (default: the description's own) and candidates (default: its own)."""
    desc = SessionDescription.parse(description_sdp)
    first = desc.media[0]
    mline = next(ln for ln in re.split(r"\r?\n", description_sdp) if ln.startswith("m="))
    return SdpFrag(
        ice_ufrag=ufrag or first.ice_ufrag,
        ice_pwd=pwd or first.ice_pwd,
        ice_lite=desc.ice_lite,
        ice_options=list(desc.ice_options),
        media=[FragMedia(mline=mline, mid=first.mid,
                         candidates=first.candidates if candidates is None else candidates,
                         end_of_candidates=end_of_candidates)],
    )


def for_offer(offer_sdp: str, candidates: list[str] | None = None, end_of_candidates: bool = False,
              restart: bool = False) -> SdpFrag:
    """The fragment a client PATCHes for its offer: its ICE credentials (fresh ones for a restart),
    the offerer-tagged m-line of the BUNDLE group and its mid (RFC 9725 §4.3.2), and candidates.

    Without `candidates`, the offer's own candidates are sent (a client that trickled everything)."""
    ufrag, pwd = (secrets.token_hex(4), secrets.token_hex(16)) if restart else (None, None)
    return for_description(offer_sdp, ufrag, pwd, candidates, end_of_candidates)


def unusable_restart(description_sdp: str) -> SdpFrag:
    """A restart fragment no server can carry out: a 2-character ice-ufrag (RFC 8839 §5.4 wants at
    least 4), for checking what a failed restart leaves behind."""
    return for_description(description_sdp, "ab", "0123456789abcdef0123456789", [], end_of_candidates=True)
