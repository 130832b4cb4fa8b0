"""Put VP9 (`vp9.py`) into aiortc's codec selection.

aiortc picks codecs through module-level functions (`get_encoder`, `get_decoder`, `depayload`,
`is_codec_compatible`) and the `CODECS` table, with no registration API. `install()` adds VP9
(profile 0) and its RTX to the table and wraps those functions where aiortc looks them up. It
checks the aiortc version and every hook point first and raises `Vp9HookError` when an upgrade
moved one: a silent no-op would make every VP9 check of the suite report the codec Unsupported.
"""

from __future__ import annotations

import importlib.metadata

import aiortc.codecs
import aiortc.rtcpeerconnection
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
from aiortc.codecs import CODECS
from aiortc.rtcrtpparameters import RTCRtcpFeedback, RTCRtpCodecParameters

from whip_whep_conformance.webrtc import vp9

# The aiortc releases whose internals the hook was written against (pyproject.toml pins one).
SUPPORTED_AIORTC = ("1.16.0",)
PROFILE_ID = "0"  # 8-bit 4:2:0, what every WebRTC stack decodes

_HOOK_POINTS = (
    (aiortc.rtcrtpsender, "get_encoder"),
    (aiortc.rtcrtpreceiver, "get_decoder"),
    (aiortc.rtcrtpreceiver, "depayload"),
    (aiortc.rtcpeerconnection, "is_codec_compatible"),
    (aiortc.codecs, "get_encoder"),
    (aiortc.codecs, "get_decoder"),
    (aiortc.codecs, "depayload"),
)
_installed = False


class Vp9HookError(RuntimeError):
    """aiortc changed in a way the VP9 hook does not know."""


def install() -> None:
    """Make VP9 offerable, answerable, encodable and decodable by every aiortc peer of this process."""
    global _installed
    if _installed:
        return
    _check_aiortc()
    payload_type = _free_payload_type()
    CODECS["video"] += [
        RTCRtpCodecParameters(
            mimeType=vp9.MIME_TYPE, clockRate=vp9.CLOCK_RATE, payloadType=payload_type,
            rtcpFeedback=[RTCRtcpFeedback(type="nack"), RTCRtcpFeedback(type="nack", parameter="pli"),
                          RTCRtcpFeedback(type="goog-remb")],
            parameters={"profile-id": PROFILE_ID},
        ),
        RTCRtpCodecParameters(mimeType="video/rtx", clockRate=vp9.CLOCK_RATE, payloadType=payload_type + 1,
                              parameters={"apt": payload_type}),
    ]
    for module, name in _HOOK_POINTS:
        setattr(module, name, _WRAPPERS[name](getattr(module, name)))
    _installed = True


def installed() -> bool:
    return _installed


def _check_aiortc() -> None:
    version = importlib.metadata.version("aiortc")
    if version not in SUPPORTED_AIORTC:
        raise Vp9HookError(
            f"the VP9 hook supports aiortc {', '.join(SUPPORTED_AIORTC)}, found {version}: check "
            "whip_whep_conformance/webrtc/aiortc_vp9.py against the new aiortc (codec selection functions) before widening the pin"
        )
    for module, name in _HOOK_POINTS:
        if not callable(getattr(module, name, None)):
            raise Vp9HookError(f"aiortc {version} has no {module.__name__}.{name}: the VP9 hook needs updating")
    if not isinstance(CODECS.get("video"), list):
        raise Vp9HookError("aiortc.codecs.CODECS has no 'video' list: the VP9 hook needs updating")


def _free_payload_type() -> int:
    """Two consecutive dynamic payload types aiortc's table does not use yet."""
    used = {c.payloadType for codecs in CODECS.values() for c in codecs}
    for candidate in range(96, 127):
        if candidate not in used and candidate + 1 not in used:
            return candidate
    raise Vp9HookError("no two free dynamic payload types left in aiortc's codec table")


def _is_vp9(codec) -> bool:
    return codec.mimeType.lower() == vp9.MIME_TYPE.lower()


def _wrap_get_encoder(original):
    def get_encoder(codec):
        return vp9.Vp9Encoder() if _is_vp9(codec) else original(codec)
    return get_encoder


def _wrap_get_decoder(original):
    def get_decoder(codec):
        return vp9.Vp9Decoder() if _is_vp9(codec) else original(codec)
    return get_decoder


def _wrap_depayload(original):
    def depayload(codec, payload: bytes) -> bytes:
        return vp9.vp9_depayload(payload) if _is_vp9(codec) else original(codec, payload)
    return depayload


def _wrap_is_codec_compatible(original):
    def is_codec_compatible(a, b) -> bool:
        if _is_vp9(a) and _is_vp9(b):
            # RFC 9628 §6: profile-id absent means 0; different profiles are different codecs.
            return str(a.parameters.get("profile-id", "0")) == str(b.parameters.get("profile-id", "0")) \
                and a.clockRate == b.clockRate
        return original(a, b)
    return is_codec_compatible


_WRAPPERS = {
    "get_encoder": _wrap_get_encoder,
    "get_decoder": _wrap_get_decoder,
    "depayload": _wrap_depayload,
    "is_codec_compatible": _wrap_is_codec_compatible,
}
