"""The relay's codec rule: may a publisher's packets go unchanged to a viewer that negotiated a codec?

The server's own reading of the payload-format RFCs, written for the relay and working on aiortc's
negotiated codec parameters. The suite judges answers with rules of its own
(harness/judgments/codecs.py): a misreading here must not make both sides agree.
"""

from __future__ import annotations

from aiortc import RTCRtpCodecParameters

# RFC 6184 §8.1 (Table 5): the profile-iop patterns (bit 7 = constraint_set0_flag ... bit 4 =
# constraint_set3_flag; "x" = either) that make a profile_idc one of the three Baseline-family
# sub-profiles. The table also wants the last four bits 0; they are not read here: set4/set5 only
# narrow a stream further, and a decoder of the sub-profile decodes it still.
_SUB_PROFILES = {
    0x42: (("x1xx", "constrained-baseline"), ("x0xx", "baseline")),
    0x4D: (("1xxx", "constrained-baseline"), ("0x0x", "main")),
    0x58: (("11xx", "constrained-baseline"), ("10xx", "baseline"), ("00xx", "extended")),
}

# RFC 6184 §8.1: "If no profile-level-id is present, the Baseline profile, without additional
# constraints at Level 1.0, MUST be inferred": profile_idc 0x42, no constraint flags, level_idc 10.
_ABSENT_PROFILE_LEVEL_ID = "42000a"

# RFC 6184 §8.1: "When the value of packetization-mode is not present, the default value of
# packetization-mode 0 MUST be used."
_DEFAULT_PACKETIZATION_MODE = "0"

# RFC 9628 §6 (VP9): profile-id absent means profile 0.
_DEFAULT_VP9_PROFILE = "0"


def _matches(bits: str, pattern: str) -> bool:
    return all(p in ("x", b) for p, b in zip(pattern, bits))


def h264_sub_profile(profile_level_id: str | None) -> str:
    """The H.264 profile a decoder must support for a profile-level-id, without its level
    (RFC 6184 §8.1: the level is the third byte; the first two name the profile)."""
    value = str(profile_level_id or _ABSENT_PROFILE_LEVEL_ID).strip().lower()
    if len(value) != 6 or any(ch not in "0123456789abcdef" for ch in value):
        return f"unreadable profile-level-id {value!r}"
    profile_idc, flags = int(value[:2], 16), format(int(value[2:4], 16), "08b")
    for pattern, name in _SUB_PROFILES.get(profile_idc, ()):
        if _matches(flags[:4], pattern):
            return name
    return f"profile_idc {profile_idc}"  # High and the rest: named by profile_idc alone


def _mode(parameters: dict) -> str:
    return str(parameters.get("packetization-mode", _DEFAULT_PACKETIZATION_MODE))


def _vp9_profile(codec: RTCRtpCodecParameters) -> str:
    return str((codec.parameters or {}).get("profile-id", _DEFAULT_VP9_PROFILE))


def _h264_carries(sent: dict, accepted: dict) -> bool:
    """RFC 6184 §8.2.2: profile-level-id (less its level) and packetization-mode identify the
    format; a Constrained Baseline stream is also a Baseline one (§8.1: Constrained Baseline is
    the subset of Baseline that the three patterns above name), so a Baseline decoder takes it."""
    if _mode(sent) != _mode(accepted):
        return False
    have = h264_sub_profile(sent.get("profile-level-id"))
    take = h264_sub_profile(accepted.get("profile-level-id"))
    return have == take or (have, take) == ("constrained-baseline", "baseline")


def carries(sent: RTCRtpCodecParameters, accepted: RTCRtpCodecParameters) -> bool:
    """Whether packets of codec `sent` can be forwarded unchanged to a receiver that negotiated
    `accepted`: the same media subtype (names are case-insensitive, RFC 4855 §3) at the same RTP
    clock rate, and, for H.264 and VP9, the parameters that make the format."""
    subtype = sent.mimeType.split("/")[-1].casefold()
    if subtype != accepted.mimeType.split("/")[-1].casefold() or sent.clockRate != accepted.clockRate:
        return False
    if subtype == "h264":
        return _h264_carries(sent.parameters or {}, accepted.parameters or {})
    if subtype == "vp9":
        return _vp9_profile(sent) == _vp9_profile(accepted)
    return True
