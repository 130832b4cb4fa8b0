"""Can a client use the ice-server links a target sent (RFC 9725 §4.6)? The suite's judgment."""

from __future__ import annotations

from whip_whep_conformance.protocol.link import Link

ICE_SCHEMES = ("stun", "stuns", "turn", "turns")


def ice_server_problems(link: Link) -> list[str]:
    """What makes an `ice-server` link unusable (RFC 9725 §4.6, RFC 7064/7065)."""
    problems = []
    scheme = link.target.split(":", 1)[0].lower()
    if scheme not in ICE_SCHEMES:
        problems.append(f"target {link.target!r} is not a stun:/stuns:/turn:/turns: URI")
    if scheme in ("turn", "turns") and not ("username" in link.params and "credential" in link.params):
        problems.append(f"TURN server {link.target!r} lacks username and credential")
    return problems
