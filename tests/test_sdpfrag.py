"""application/trickle-ice-sdpfrag bodies: build, parse, round trip (protocol); refusal of malformed ones by the
suite's judgment (harness/judgments/sdpfrag_syntax.py) and, separately, by the server's own rule
(reference_server/fragments.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whip_whep_conformance.harness.judgments import sdpfrag_syntax
from whip_whep_conformance.protocol import sdpfrag
from whip_whep_conformance.reference_server import fragments

READERS = {"suite judgment": sdpfrag_syntax.parse, "server rule": fragments.read}

ICE = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", min_size=4, max_size=40)
PWD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+/", min_size=22, max_size=40)
CANDIDATE = st.builds(
    lambda f, p, port: f"{f} 1 udp {p} 192.0.2.1 {port} typ host",
    st.text(alphabet="abc123", min_size=1, max_size=8), st.integers(1, 2**31), st.integers(1, 65535),
)


def test_parse_media_level_credentials_win():
    body = "a=ice-ufrag:sess\r\na=ice-pwd:0123456789012345678901\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:medi\r\na=ice-pwd:abcdefghijabcdefghijab\r\na=candidate:1 1 udp 1 192.0.2.1 9 typ host\r\na=end-of-candidates\r\n"
    frag = sdpfrag.parse(body)
    assert frag.credentials() == ("medi", "abcdefghijabcdefghijab")
    assert frag.media[0].mid == "0" and frag.media[0].end_of_candidates


@given(ufrag=ICE, pwd=PWD, candidates=st.lists(CANDIDATE, max_size=5), eoc=st.booleans())
def test_build_then_parse_round_trips(ufrag, pwd, candidates, eoc):
    frag = sdpfrag.SdpFrag(ice_ufrag=ufrag, ice_pwd=pwd, media=[
        sdpfrag.FragMedia("m=audio 9 UDP/TLS/RTP/SAVPF 111", mid="0", candidates=candidates, end_of_candidates=eoc)
    ])
    again = sdpfrag.parse(sdpfrag.build(frag))
    assert again == frag


@pytest.mark.parametrize(
    "body",
    [
        "",
        "v=0\r\n",
        "garbage",
        "a=ice-ufrag:abcd\r\n",  # ufrag without pwd
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 udp\r\n",
        "a=candidate:1 1 udp 1 192.0.2.1 9 typ host\r\n",  # outside a media section
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=candidate:1 1 udp 1 192.0.2.1 port typ host\r\n",
        "a=ice-ufrag:ab\r\na=ice-pwd:0123456789012345678901\r\n",  # ufrag shorter than 4
        "m=audio\r\na=mid:0\r\n",
    ],
)
@pytest.mark.parametrize("reader", READERS, ids=list(READERS))
def test_malformed_fragments_are_refused(body, reader):
    with pytest.raises(sdpfrag.SdpFragError):
        READERS[reader](body)


@given(ufrag=ICE, pwd=PWD, candidates=st.lists(CANDIDATE, max_size=5))
def test_well_formed_fragments_are_taken_by_both(ufrag, pwd, candidates):
    frag = sdpfrag.SdpFrag(ice_ufrag=ufrag, ice_pwd=pwd, media=[
        sdpfrag.FragMedia("m=audio 9 UDP/TLS/RTP/SAVPF 111", mid="0", candidates=candidates)
    ])
    text = sdpfrag.build(frag)
    assert sdpfrag_syntax.parse(text) == fragments.read(text) == frag
