"""The reference server's own offer refusal (reference_server/offers.py): what it takes and what it refuses,
each with the reason a client reads in the 400."""

import pytest

from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.reference_server import offers

from .offers import aiortc_publisher_offer
from .test_sdp import OFFER


def _reasons(text: str) -> list[str]:
    try:
        offers.read_offer(text)
    except offers.Unusable as exc:
        return exc.reasons
    return []


def test_a_valid_offer_is_taken():
    assert [m.kind for m in offers.read_offer(OFFER).media] == ["audio", "video"]


def test_an_aiortc_offer_is_taken():
    assert _reasons(aiortc_publisher_offer()) == []


@pytest.mark.parametrize(
    "body,expected",
    [
        ("", "empty"),
        ("v=0\r\n", "no o= line"),
        ("hello", "not a <type>=<value> line"),
        (OFFER.replace("v=0", "v=1"), "start with v=0"),
        (sdp.without_attribute(OFFER, "fingerprint"), "no a=fingerprint"),
        (sdp.without_attribute(OFFER, "ice-ufrag"), "ICE credentials"),
        (OFFER.replace("a=ice-ufrag:abcd", "a=ice-ufrag:ab"), "4-256 ice-chars"),
        (OFFER.replace("a=ice-pwd:0123456789012345678901", "a=ice-pwd:0123"), "22-256 ice-chars"),
        (OFFER.replace("m=video 0 UDP/TLS/RTP/SAVPF 96", "m=video"), "is not m=<media>"),
        (OFFER.replace("m=audio", "m=application"), "audio and video media only"),
        (sdp.without_attribute(OFFER, "mid"), "no a=mid"),
        (sdp.without_attribute(OFFER, "rtpmap"), "no format has an a=rtpmap"),
        (OFFER.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 7"), "lists ['7']"),
        (OFFER.replace("a=mid:1", "a=mid:0"), "a=mid values repeat"),
    ],
)
def test_each_unusable_offer_is_refused_with_its_reason(body, expected):
    reasons = _reasons(body)
    assert any(expected in r for r in reasons), f"expected a reason with {expected!r}, got {reasons}"


def test_a_player_answer_is_read_without_the_offer_rules():
    answer = OFFER.replace("a=sendonly", "a=recvonly").replace("m=audio", "m=application")
    assert len(offers.read_description(answer).media) == 2, "an answer is not refused for its media kinds"
