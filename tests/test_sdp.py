"""The SDP model (parsing and offer edits) both the suite and the server read descriptions with; it judges nothing."""

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


def test_parser_reads_what_the_judgments_refuse():
    """Parsing is not judging: a v=1 description still has a model (the suite and the server refuse it themselves)."""
    desc = sdp.SessionDescription.parse(OFFER.replace("v=0", "v=1"))
    assert [m.kind for m in desc.media] == ["audio", "video"]


def test_parser_refuses_a_media_line_it_cannot_model():
    with pytest.raises(sdp.SdpSyntaxError, match="cannot be read"):
        sdp.SessionDescription.parse(OFFER.replace("m=video 0 UDP/TLS/RTP/SAVPF 96", "m=video x"))


def test_without_candidates_strips_candidates_only():
    stripped = sdp.without_candidates(OFFER)
    assert "a=candidate" not in stripped and "a=mid:0" in stripped


def test_with_direction_rewrites_every_section():
    desc = sdp.SessionDescription.parse(sdp.with_direction(OFFER, "sendrecv"))
    assert {m.direction for m in desc.media} == {"sendrecv"}


def test_aiortc_offers_parse():
    desc = sdp.SessionDescription.parse(aiortc_publisher_offer())
    assert [m.kind for m in desc.media] == ["audio", "video"]
    assert all("127.0.0.1" in c for m in desc.media for c in m.candidates), "only the configured host address"


def test_without_format_drops_the_codec_and_its_rtx():
    text = OFFER.replace("m=video 0 UDP/TLS/RTP/SAVPF 96", "m=video 0 UDP/TLS/RTP/SAVPF 96 98 99").replace(
        "a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n"
        "a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98")
    arranged = sdp.SessionDescription.parse(text).media[1]
    assert ([c.name for c in arranged.codecs], arranged.payloads) == (["VP8", "VP9", "rtx"], [96, 98, 99]), "arrange"
    stripped = sdp.SessionDescription.parse(sdp.without_format(text, "vp9")).media[1]
    assert ([c.name for c in stripped.codecs], stripped.payloads) == (["VP8"], [96])
