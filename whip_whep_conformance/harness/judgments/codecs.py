"""Does an answer keep to the formats its offer named (JSEP §5.3.1, RFC 3264 §6.1, RFC 6184 §8.2.2)?
The suite's judgments of codec negotiation."""

from __future__ import annotations

from whip_whep_conformance.protocol.sdp import Codec, Media

# RFC 6184 §8.1: "If no profile-level-id is present, the Baseline profile, without additional
# constraints at Level 1.0, MUST be inferred." That is Baseline, not the Constrained Baseline
# (42e01f) libwebrtc assumes: an H.264 format without profile-level-id is judged as Baseline, so an
# answer that adds or drops profile-level-id=42e01f on an offered format changes its profile.
ABSENT_PROFILE_LEVEL_ID = "42000a"


def h264_profile(profile_level_id: str | None) -> str:
    """The H.264 profile a profile-level-id names (RFC 6184 §8.1, Table 5), ignoring the level.

    Constrained Baseline is spelled several ways (42e0, 42c0, 4de0, 58c0…); they are one profile.
    """
    value = (profile_level_id or ABSENT_PROFILE_LEVEL_ID).lower()
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
