"""Spec revisions a target is graded against.

A profile is one revision of one protocol. Behaviour that changed between revisions (GET on
an endpoint, error codes) is decided by the profile in force, and messages name it.
"""

from __future__ import annotations

from dataclasses import dataclass

RFC9725 = "rfc9725"
WHIP_06 = "draft-ietf-wish-whip-06"
WHEP_03 = "draft-ietf-wish-whep-03"
WHEP_04 = "draft-ietf-wish-whep-04"  # rows read from the editor's copy at 126ccac (registry/whep.toml)
MURILLO_01 = "draft-murillo-whep-01"

WHIP_PROFILES = (RFC9725, WHIP_06)
WHEP_PROFILES = (WHEP_04, WHEP_03, MURILLO_01)
DEFAULT_WHIP = RFC9725
DEFAULT_WHEP = WHEP_04
AUTO = "auto"

# Where each revision's text is published; section anchors are appended by the registry.
SPEC_URLS = {
    RFC9725: "https://www.rfc-editor.org/rfc/rfc9725.html",
    WHIP_06: "https://datatracker.ietf.org/doc/html/draft-ietf-wish-whip-06",
    WHEP_04: "https://datatracker.ietf.org/doc/html/draft-ietf-wish-whep-04",
    WHEP_03: "https://datatracker.ietf.org/doc/html/draft-ietf-wish-whep-03",
    MURILLO_01: "https://datatracker.ietf.org/doc/html/draft-murillo-whep-01",
    "draft-ietf-wish-whep-02": "https://datatracker.ietf.org/doc/html/draft-ietf-wish-whep-02",
    "whep-editors-copy": "https://github.com/wish-wg/webrtc-http-egress-protocol/blob/main/draft-ietf-wish-whep.md",
    "whep-core-extensions": "https://github.com/wish-wg/webrtc-http-egress-protocol/blob/main/webrtc-http-egress-events.md",
    "whep-open-prs": "https://github.com/wish-wg/webrtc-http-egress-protocol/pulls",
    "rfc9110": "https://www.rfc-editor.org/rfc/rfc9110.html",
    "rfc3264": "https://www.rfc-editor.org/rfc/rfc3264.html",
    "rfc5789": "https://www.rfc-editor.org/rfc/rfc5789.html",
    "rfc6585": "https://www.rfc-editor.org/rfc/rfc6585.html",
    "rfc8288": "https://www.rfc-editor.org/rfc/rfc8288.html",
    "rfc8858": "https://www.rfc-editor.org/rfc/rfc8858.html",
    "rfc8840": "https://www.rfc-editor.org/rfc/rfc8840.html",
    "rfc9457": "https://www.rfc-editor.org/rfc/rfc9457.html",
    "rfc6750": "https://www.rfc-editor.org/rfc/rfc6750.html",
    "rfc8842": "https://www.rfc-editor.org/rfc/rfc8842.html",
    "rfc3264": "https://www.rfc-editor.org/rfc/rfc3264.html",
    "rfc9429": "https://www.rfc-editor.org/rfc/rfc9429.html",
    "rfc6184": "https://www.rfc-editor.org/rfc/rfc6184.html",
    "fetch": "https://fetch.spec.whatwg.org/",
    "brief": "https://developers.cloudflare.com/stream/webrtc-beta/",
    # The clients that page tells users to run (the Stream WebRTC template, last version before its removal).
    "cloudflare-example": "https://github.com/cloudflare/workers-sdk/blob/884e418/templates/stream/webrtc/src/WHIPClient.js",
}


@dataclass(frozen=True)
class ProfilePair:
    """The WHIP and WHEP revisions one run of the suite grades against."""

    whip: str
    whep: str

    @property
    def id(self) -> str:
        return f"{self.whip}+{self.whep}"


STANDARD = ProfilePair(RFC9725, WHEP_04)
CLOUDFLARE = ProfilePair(WHIP_06, MURILLO_01)
EMBEDDED_PAIRS = (STANDARD, CLOUDFLARE)


def check_whip(slug: str, allow_auto: bool = False) -> str:
    allowed = WHIP_PROFILES + ((AUTO,) if allow_auto else ())
    if slug not in allowed:
        raise ValueError(f"unknown WHIP profile {slug!r}; choose one of {', '.join(allowed)}")
    return slug


def check_whep(slug: str, allow_auto: bool = False) -> str:
    allowed = WHEP_PROFILES + ((AUTO,) if allow_auto else ())
    if slug not in allowed:
        raise ValueError(f"unknown WHEP profile {slug!r}; choose one of {', '.join(allowed)}")
    return slug


def from_protocol_version(value: str | None, known: tuple[str, ...], default: str) -> str:
    """Cloudflare's `protocol-version` header names a draft slug; use it when we know it."""
    if value:
        for token in (t.strip() for t in value.split(",")):
            if token in known:
                return token
    return default


def spec_rank(spec: str) -> int:
    """Reports list the WHIP texts, then WHEP, then the RFCs they lean on, then the product brief."""
    order = list(SPEC_URLS)
    return order.index(spec) if spec in order else len(order)
