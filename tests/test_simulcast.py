"""The simulcast model (whip_whep_conformance/protocol/simulcast.py) and the suite's judgment of answers
(harness/judgments/simulcast_answers.py): the reference server's answer to the suite's offer is clean, and
each way an answer can break RFC 8853 §5.3.2 / RFC 8851 §6.3 is named."""

import pytest

from whip_whep_conformance.harness.judgments import simulcast_answers
from whip_whep_conformance.reference_server import simulcast_answer
from whip_whep_conformance.protocol import sdp, simulcast

OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 127.0.0.1", "a=mid:0", "a=sendonly", "a=rtcp-mux",
    "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuv", "a=fingerprint:sha-256 AA:BB", "a=setup:actpass",
    "a=rtpmap:96 VP8/90000", "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid", "a=ssrc:1 cname:x", "",
])
ANSWER = OFFER.replace("a=sendonly", "a=recvonly").replace("a=setup:actpass", "a=setup:passive").replace("a=ssrc:1 cname:x\r\n", "")


def test_offer_names_the_streams_and_the_rid_extension():
    offered = simulcast.offer(OFFER)
    assert "a=ssrc:" not in offered
    assert "a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" in offered
    assert "a=rid:h send\r\na=rid:l send\r\na=simulcast:send h;l\r\n" in offered


def test_accepting_answer_has_no_problems():
    offered = simulcast.offer(OFFER)
    answer, taken = simulcast_answer.accept(ANSWER, sdp.SessionDescription.parse(offered))
    assert taken and "a=simulcast:recv h;l" in answer and "a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" in answer
    assert simulcast_answers.answer_problems(offered, answer) == []


def test_offer_without_simulcast_is_answered_as_it_was():
    assert simulcast_answer.accept(ANSWER, sdp.SessionDescription.parse(OFFER)) == (ANSWER, False)


def test_answer_keeping_one_stream_is_fine():
    offered = simulcast.offer(OFFER)
    answer = simulcast_answer.accept(ANSWER, sdp.SessionDescription.parse(offered))[0].replace("a=rid:l recv\r\n", "").replace("recv h;l", "recv h")
    assert simulcast_answers.answer_problems(offered, answer) == []


@pytest.mark.parametrize("old,new,problem", [
    ("a=simulcast:recv h;l", "a=simulcast:send h;l", "reverses send to recv"),
    ("a=simulcast:recv h;l", "a=simulcast:recv h;l;x", "adds rid-ids ['x']"),
    ("a=simulcast:recv h;l", "a=simulcast:recv h;h", "appear twice"),
    ("a=simulcast:recv h;l", "a=simulcast:recv ~h;l", "marked paused"),
    ("a=rid:l recv", "a=rid:l send", "not reversed to recv"),
    ("a=rid:l recv", "a=rid:l recv pt=96", "adds pt="),
    ("a=simulcast:recv h;l", "a=simulcast:recv h;m", "no single 'a=rid:<id> recv' line"),
])
def test_each_broken_answer_is_named(old, new, problem):
    offered = simulcast.offer(OFFER)
    answer = simulcast_answer.accept(ANSWER, sdp.SessionDescription.parse(offered))[0].replace(old, new)
    problems = simulcast_answers.answer_problems(offered, answer)
    assert any(problem in p for p in problems), problems
