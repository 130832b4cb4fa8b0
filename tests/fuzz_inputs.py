"""Hypothesis strategies for what a hostile or sloppy client sends the reference server."""

from __future__ import annotations

from hypothesis import strategies as st

VALID_OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "a=msid-semantic: WMS s\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Kw3x\r\na=ice-pwd:o4Wj7dVq1zN2rYc8bLmP5sTe\r\n"
    "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=msid:s a\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Kw3x\r\na=ice-pwd:o4Wj7dVq1zN2rYc8bLmP5sTe\r\n"
    "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF\r\n"
    "a=setup:actpass\r\na=mid:1\r\na=sendonly\r\na=msid:s v\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
)
LINES = VALID_OFFER.split("\r\n")[:-1]
SDP_LINE = st.one_of(
    st.sampled_from(LINES),
    st.builds(lambda t, v: f"{t}={v}", st.sampled_from("vostcmab"), st.text(max_size=40)),
    st.builds(lambda a, v: f"a={a}:{v}", st.sampled_from(["ice-ufrag", "ice-pwd", "fingerprint", "setup", "mid",
                                                        "rtpmap", "fmtp", "candidate", "group", "msid", "rtcp-fb"]),
              st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=60)),
    st.builds(lambda k, p, fmts: f"m={k} {p} UDP/TLS/RTP/SAVPF {fmts}", st.sampled_from(["audio", "video", "application", "x"]),
              st.integers(-5, 10**12), st.text(alphabet="0123456789 ", max_size=20)),
)


@st.composite
def mutated_offers(draw) -> bytes:
    """A valid offer with lines dropped, duplicated, reordered, altered or truncated."""
    lines = list(LINES)
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["drop", "dup", "swap", "insert", "replace"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if action == "drop":
            lines.pop(i)
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "insert":
            lines.insert(i, draw(SDP_LINE))
        else:
            lines[i] = draw(SDP_LINE)
    text = "\r\n".join(lines) + draw(st.sampled_from(["\r\n", "\n", ""]))
    body = text.encode("utf-8", errors="surrogatepass")
    cut = draw(st.one_of(st.none(), st.integers(0, len(body))))
    return body if cut is None else body[:cut]


SDP_BODIES = st.one_of(
    mutated_offers(),
    st.binary(max_size=2000),
    st.builds(lambda n: (VALID_OFFER.split("m=audio")[0] + "".join(
        f"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:{i}\r\na=rtpmap:111 opus/48000/2\r\n" for i in range(n))).encode(),
        st.integers(100, 3000)),
    st.just(b"\xff\xfe" + VALID_OFFER.encode("utf-16-le")),
)
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)
CONTENT_TYPES = st.one_of(st.sampled_from(["application/sdp", "APPLICATION/SDP; charset=utf-8", "application/trickle-ice-sdpfrag",
                                           "text/plain", "", "application/sdp;;;", "multipart/form-data; boundary=x"]), HEADER_VALUE)
METHODS = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"])
PATH_SEGMENT = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#%"), min_size=0, max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

FRAG_LINE = st.one_of(
    st.sampled_from(["a=ice-ufrag:Kw3x", "a=ice-pwd:o4Wj7dVq1zN2rYc8bLmP5sTe", "m=audio 9 UDP/TLS/RTP/SAVPF 111",
                     "a=mid:0", "a=end-of-candidates", "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host",
                     "a=ice-options:trickle", "a=group:BUNDLE 0 1"]),
    st.builds(lambda v: f"a=candidate:{v}", st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=80)),
    st.builds(lambda t, v: f"{t}={v}", st.sampled_from("amvoc"), st.text(max_size=40)),
)
SDPFRAG_BODIES = st.one_of(
    st.lists(FRAG_LINE, max_size=12).map(lambda lines: ("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogatepass")),
    st.binary(max_size=500),
)
