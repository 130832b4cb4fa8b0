"""Link (RFC 8288), media type and Bearer parsing (protocol); the suite's judgments of ice-server links and
entity-tags (harness/judgments); the server's own If-Match rule (reference_server/etag.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whip_whep_conformance.harness.judgments import http_fields
from whip_whep_conformance.harness.judgments.ice_servers import ice_server_problems
from whip_whep_conformance.protocol import headers
from whip_whep_conformance.protocol.link import Link, LinkSyntaxError, format_link, parse_links
from whip_whep_conformance.reference_server import etag

VALUES = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


def test_parses_comma_joined_and_quoted_values():
    links = parse_links('<stun:stun.example.net>; rel="ice-server", <turn:t.example.net?transport=udp>; rel=ice-server; username="u;x"; credential="p=,\\"q"')
    assert [link.target for link in links] == ["stun:stun.example.net", "turn:t.example.net?transport=udp"]
    assert links[1].params["username"] == "u;x" and links[1].params["credential"] == 'p=,"q'
    assert all("ice-server" in link.rels for link in links)


@pytest.mark.parametrize("bad", ["stun:stun.example.net; rel=ice-server", '<stun:x>; rel="ice-server" junk'])
def test_refuses_the_draft_example_mistakes(bad):
    with pytest.raises(LinkSyntaxError):
        parse_links(bad)


@given(username=VALUES, credential=VALUES)
def test_format_then_parse_round_trips(username, credential):
    link = Link("turn:turn.example.net", {"rel": "ice-server", "username": username, "credential": credential})
    assert parse_links(format_link(link)) == [link]


def test_turn_without_credentials_is_a_problem():
    assert ice_server_problems(Link("turn:t", {"rel": "ice-server"}))
    assert ice_server_problems(Link("http://x", {"rel": "ice-server"}))
    assert not ice_server_problems(Link("stun:s", {"rel": "ice-server"}))


@pytest.mark.parametrize("value,strong", [('"abc"', True), ('W/"abc"', False), ("abc", False), ("*", False), ('""', True)])
def test_entity_tag_syntax(value, strong):
    assert http_fields.is_strong_entity_tag(value) is strong


@pytest.mark.parametrize("if_match,holds", [
    ("*", True), ('"a"', True), ('"b", "a"', True), ('"b",,  "a" ', True),
    ('W/"a"', False),  # RFC 9110 §13.1.1: strong comparison, a weak tag never matches
    ('"b"', False), ("nope", False), ("a", False), ("", False), ('"a', False),
])
def test_server_if_match_rule(if_match, holds):
    assert etag.if_match_holds(if_match, '"a"') is holds, f"If-Match: {if_match} against ETag \"a\""


def test_media_type_and_bearer():
    assert headers.media_type("Application/SDP; charset=utf-8") == "application/sdp"
    assert headers.media_type(None) is None
    assert headers.bearer_token("bearer t0k") == "t0k"
    assert headers.bearer_token("Basic x") is None and headers.bearer_token("Bearer ") is None
