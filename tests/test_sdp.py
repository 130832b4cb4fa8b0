"""The SDP model both the suite and the server judge offers and answers with."""

import pytest

from whip_whep import sdp

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
