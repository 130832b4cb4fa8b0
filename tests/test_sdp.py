"""The SDP model both the suite and the server judge offers and answers with."""

import pytest

from whip_whep_conformance.protocol import sdp

from .offers import aiortc_publisher_offer

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=ice-options:trickle\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtcp-mux-only\r\n"
    "a=msid:s a\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 AA:BB\r\n"
    "a=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=bundle-only\r\na=rtcp-mux\r\n"
    "a=msid:s v\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 AA:BB\r\n"
    "a=setup:actpass\r\na=rtpmap:96 VP8/90000\r\n"
)


def test_parse_reads_media_sections_and_flags():
    desc = sdp.SessionDescription.parse(OFFER)
    audio, video = desc.media
    assert (audio.kind, audio.mid, audio.direction, audio.setup) == ("audio", "0", "sendonly", "actpass")
    assert audio.rtcp_mux and audio.rtcp_mux_only and not audio.bundle_only
    assert video.bundle_only and not video.rejected, "port 0 with bundle-only is bundled, not rejected"
    assert audio.candidates == ["1 1 udp 2130706431 127.0.0.1 5000 typ host"]
    assert [c.mime for c in video.codecs] == ["VP8"]
    assert desc.bundle_groups == [["0", "1"]] and desc.ice_options == ["trickle"]
    assert audio.msid == video.msid == "s"


def test_offer_problems_accepts_a_valid_offer():
    assert sdp.offer_problems(OFFER) == []


@pytest.mark.parametrize(
    "body,expected",
    [
        ("", "empty"),
        ("v=0\r\n", "no o= line"),
        ("hello", "not of the form"),
        (OFFER.replace("v=0", "v=1"), "v=0"),
        (sdp.without_attribute(OFFER, "fingerprint"), "no a=fingerprint"),
        (sdp.without_attribute(OFFER, "ice-ufrag"), "no a=ice-ufrag"),
        (OFFER.replace("a=ice-ufrag:abcd", "a=ice-ufrag:ab"), "4-256 ice-chars"),
        (OFFER.replace("m=video 0 UDP/TLS/RTP/SAVPF 96", "m=video"), "malformed media line"),
        (OFFER.replace("m=audio", "m=application"), "only audio/video"),
    ],
)
def test_offer_problems_names_what_is_wrong(body, expected):
    problems = sdp.offer_problems(body)
    assert any(expected in p for p in problems), problems


def test_without_candidates_strips_candidates_only():
    stripped = sdp.without_candidates(OFFER)
    assert "a=candidate" not in stripped and "a=mid:0" in stripped


def test_with_direction_rewrites_every_section():
    desc = sdp.SessionDescription.parse(sdp.with_direction(OFFER, "sendrecv"))
    assert {m.direction for m in desc.media} == {"sendrecv"}


def test_aiortc_offers_parse_and_pass_offer_checks():
    offer = aiortc_publisher_offer()
    assert sdp.offer_problems(offer) == []
    desc = sdp.SessionDescription.parse(offer)
    assert [m.kind for m in desc.media] == ["audio", "video"]
    assert all("127.0.0.1" in c for m in desc.media for c in m.candidates), "only the configured host address"


def test_bundle_group_must_name_existing_mids():
    broken = OFFER.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 7")
    assert any("names mids ['7']" in p for p in sdp.offer_problems(broken))
    twice = OFFER.replace("a=mid:1", "a=mid:0")
    assert any("share a mid" in p for p in sdp.offer_problems(twice))


# --- codecs in offers and answers -------------------------------------------------------------

def _codec(payload: int, name: str, fmtp: str = "") -> sdp.Codec:
    return sdp.Codec(payload=payload, name=name, clock_rate=90000, fmtp=fmtp)


@pytest.mark.parametrize("plid,profile", [
    ("42e01f", "constrained baseline"), ("42C01F", "constrained baseline"), ("4de01f", "constrained baseline"),
    ("42001f", "baseline"), ("4d001f", "main"), ("640c1f", "high"), (None, "constrained baseline"),
])
def test_h264_profile_ignores_level_and_spelling(plid, profile):
    assert sdp.h264_profile(plid) == profile


def test_same_format_compares_what_names_the_codec():
    cb = _codec(102, "H264", "packetization-mode=1;profile-level-id=42e01f")
    assert sdp.same_format(cb, _codec(96, "h264", "profile-level-id=42e034;packetization-mode=1")), "level differs only"
    assert not sdp.same_format(cb, _codec(102, "H264", "profile-level-id=42e01f")), "mode 0 is another format"
    assert not sdp.same_format(cb, _codec(102, "H264", "packetization-mode=1;profile-level-id=640c1f"))
    assert not sdp.same_format(_codec(98, "VP9", "profile-id=0"), _codec(98, "VP9", "profile-id=2"))
    assert sdp.same_format(_codec(98, "VP9"), _codec(100, "vp9", "profile-id=0"))


def _video(*codecs: sdp.Codec) -> sdp.Media:
    return sdp.Media(kind="video", port=9, protocol="UDP/TLS/RTP/SAVPF", payloads=[c.payload for c in codecs], mid="1",
                     direction="sendonly", setup=None, ice_ufrag=None, ice_pwd=None, fingerprints=[], candidates=[],
                     end_of_candidates=False, rtcp_mux=True, rtcp_mux_only=False, bundle_only=False, codecs=list(codecs))


def test_answer_codec_findings():
    offered = _video(_codec(96, "VP8"), _codec(97, "rtx", "apt=96"),
                     _codec(102, "H264", "packetization-mode=1;profile-level-id=42e01f"))
    answered = _video(_codec(100, "VP8"), _codec(97, "rtx", "apt=100"), _codec(119, "AV1"),
                      _codec(102, "H264", "packetization-mode=1;profile-level-id=640c1f"))
    assert [c.name for c in sdp.unoffered_formats(offered, answered)] == ["AV1", "H264"]
    assert sdp.renumbered_formats(offered, answered) == ["VP8/90000 offered as payload type 96, answered as 100"]
    assert len(sdp.h264_changes(offered, answered)) == 1 and "high" in sdp.h264_changes(offered, answered)[0]


def test_without_format_drops_the_codec_and_its_rtx():
    text = OFFER.replace("m=video 0 UDP/TLS/RTP/SAVPF 96", "m=video 0 UDP/TLS/RTP/SAVPF 96 98 99").replace(
        "a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n"
        "a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98")
    arranged = sdp.SessionDescription.parse(text).media[1]
    assert ([c.name for c in arranged.codecs], arranged.payloads) == (["VP8", "VP9", "rtx"], [96, 98, 99]), "arrange"
    stripped = sdp.SessionDescription.parse(sdp.without_format(text, "vp9")).media[1]
    assert ([c.name for c in stripped.codecs], stripped.payloads) == (["VP8"], [96])
