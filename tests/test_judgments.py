"""The suite's judgments (harness/judgments/): SDP syntax of a target's body, and the codec rules an answer is
graded by, H.264 profiles as RFC 6184 §8.1 names them."""

import pytest

from whip_whep_conformance.harness.judgments import codecs, sdp_syntax
from whip_whep_conformance.harness.judgments.candidates import candidate_problem
from whip_whep_conformance.protocol import sdp

from .test_sdp import OFFER


def test_a_valid_description_has_no_syntax_problems():
    assert sdp_syntax.problems(OFFER) == []


@pytest.mark.parametrize(
    "body,expected",
    [
        ("", "empty"),
        ("v=0\r\n", "no o= line"),
        ("hello", "not of the form"),
        (OFFER.replace("v=0", "v=1"), "v=0"),
        (OFFER.replace("m=video 0 UDP/TLS/RTP/SAVPF 96", "m=video"), "malformed media line"),
    ],
)
def test_syntax_problems_name_what_is_wrong(body, expected):
    problems = sdp_syntax.problems(body)
    assert any(expected in p for p in problems), problems


def test_judged_parse_refuses_what_the_judgment_finds():
    with pytest.raises(sdp.SdpSyntaxError, match="v=0"):
        sdp_syntax.parse(OFFER.replace("v=0", "v=1"))


@pytest.mark.parametrize("value,problem", [
    ("1 1 udp 2130706431 127.0.0.1 5000 typ host", None),
    ("1 1 udp 2130706431 0.0.0.0 5000 typ host", "no reachable address"),
    ("1 1 udp 2130706431 127.0.0.1 0 typ host", "no reachable address"),
    ("junk", "not candidate grammar"),
])
def test_candidate_problem(value, problem):
    found = candidate_problem(value)
    assert (found is None) if problem is None else (problem in (found or "")), found


def _codec(payload: int, name: str, fmtp: str = "") -> sdp.Codec:
    return sdp.Codec(payload=payload, name=name, clock_rate=90000, fmtp=fmtp)


@pytest.mark.parametrize("plid,profile", [
    ("42e01f", "constrained baseline"), ("42C01F", "constrained baseline"), ("4de01f", "constrained baseline"),
    ("42001f", "baseline"), ("4d001f", "main"), ("640c1f", "high"),
    (None, "baseline"),  # RFC 6184 §8.1: absent means Baseline at Level 1.0, not libwebrtc's Constrained Baseline
])
def test_h264_profile_ignores_level_and_spelling(plid, profile):
    assert codecs.h264_profile(plid) == profile


def test_same_format_compares_what_names_the_codec():
    cb = _codec(102, "H264", "packetization-mode=1;profile-level-id=42e01f")
    assert codecs.same_format(cb, _codec(96, "h264", "profile-level-id=42e034;packetization-mode=1")), "level differs only"
    assert not codecs.same_format(cb, _codec(102, "H264", "profile-level-id=42e01f")), "mode 0 is another format"
    assert not codecs.same_format(cb, _codec(102, "H264", "packetization-mode=1;profile-level-id=640c1f"))
    assert not codecs.same_format(cb, _codec(102, "H264", "packetization-mode=1")), "no profile-level-id is Baseline"
    assert not codecs.same_format(_codec(98, "VP9", "profile-id=0"), _codec(98, "VP9", "profile-id=2"))
    assert codecs.same_format(_codec(98, "VP9"), _codec(100, "vp9", "profile-id=0"))


def _video(*formats: sdp.Codec) -> sdp.Media:
    return sdp.Media(kind="video", port=9, protocol="UDP/TLS/RTP/SAVPF", payloads=[c.payload for c in formats], mid="1",
                     direction="sendonly", setup=None, ice_ufrag=None, ice_pwd=None, fingerprints=[], candidates=[],
                     end_of_candidates=False, rtcp_mux=True, rtcp_mux_only=False, bundle_only=False, codecs=list(formats))


def test_answer_codec_findings():
    offered = _video(_codec(96, "VP8"), _codec(97, "rtx", "apt=96"),
                     _codec(102, "H264", "packetization-mode=1;profile-level-id=42e01f"))
    answered = _video(_codec(100, "VP8"), _codec(97, "rtx", "apt=100"), _codec(119, "AV1"),
                      _codec(102, "H264", "packetization-mode=1;profile-level-id=640c1f"))
    assert [c.name for c in codecs.unoffered_formats(offered, answered)] == ["AV1", "H264"]
    assert codecs.renumbered_formats(offered, answered) == ["VP8/90000 offered as payload type 96, answered as 100"]
    assert len(codecs.h264_changes(offered, answered)) == 1 and "high" in codecs.h264_changes(offered, answered)[0]
