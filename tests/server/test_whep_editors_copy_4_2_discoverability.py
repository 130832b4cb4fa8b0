"""The editor's copy after draft-ietf-wish-whep-03, §4.2 WHEP Endpoint URL Discoverability, as the reference
server implements it: HEAD on a WHEP endpoint gets "200 OK" typed application/sdp, with the header fields
of the GET answer and no body; GET gets the same 200 without content (-03 §4.1: "a 2xx successful response
with no content"). draft-murillo-whep-01 §4.3 keeps both 405."""

from __future__ import annotations

import asyncio

import pytest

from whip_whep_conformance.protocol import profiles

from .inprocess import SDP, described

pytestmark = pytest.mark.asyncio


async def test_head_and_get_on_the_whep_endpoint_are_200_typed_sdp_alike(server, live):
    get = await server.request("GET", live.play, headers=server.auth())
    head = await server.request("HEAD", live.play, headers=server.auth())
    for response in (get, head):
        assert (response.status, response.headers.get("Content-Type"), response.headers.get("Content-Length")) \
            == (200, SDP, "0"), f"editor's copy §4.2: 200 typed {SDP}, no content; {described(response)}"
    assert set(get.headers) - {"Date"} == set(head.headers) - {"Date"}, \
        f"editor's copy §4.2: HEAD carries GET's header fields: GET {sorted(get.headers)}, HEAD {sorted(head.headers)}"
    assert head.headers.get("Access-Control-Allow-Origin") == "*", \
        f"HEAD is CORS-safelisted (no preflight): its answer needs Access-Control-Allow-Origin; {described(head)}"


async def _after_head(server, path: str) -> tuple[bytes, bytes]:
    """HEAD `path` with an OPTIONS pipelined behind it, read off the socket (aiohttp's client, like httpx,
    reads no content after a HEAD answer): the whole reply, and what follows the HEAD answer's header section."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.client.server.port)
    try:
        writer.write(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                     f"OPTIONS {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = await asyncio.wait_for(reader.read(-1), 5)
    finally:
        writer.close()
    return data, data.partition(b"\r\n\r\n")[2]


async def test_head_answer_has_nothing_after_its_header_section(server, live):
    data, rest = await _after_head(server, live.play)
    assert data.startswith(b"HTTP/1.1 200") and rest.startswith(b"HTTP/1.1 "), \
        f"editor's copy §4.2: the HEAD answer MUST NOT include a message body; on the wire: {data[:400]!r}"


async def test_head_with_body_fault_writes_after_the_header_section(start_server):
    """Control for the head-with-body fault: aiohttp writes no HEAD content, so the fault writes to the socket."""
    server = await start_server(faults=("head-with-body",))
    live = await server.live_input()
    data, rest = await _after_head(server, live.play)
    assert data.startswith(b"HTTP/1.1 200") and not rest.startswith(b"HTTP/1.1 ") and b"HTTP/1.1 200" in rest, data[:400]


async def test_whip_endpoint_keeps_its_204(server, live):
    response = await server.request("HEAD", live.publish, headers=server.auth())
    assert response.status == 204 and "Content-Type" not in response.headers, \
        f"RFC 9725 §4.1: a WHIP endpoint's HEAD stays 204 without a type; {described(response)}"


async def test_head_on_the_whep_endpoint_is_405_under_murillo_01(start_server):
    server = await start_server(profiles.CLOUDFLARE)
    live = await server.live_input()
    response = await server.request("HEAD", live.play)
    assert response.status == 405, f"draft-murillo-whep-01 §4.3: HEAD on the endpoint gets 405; {described(response)}"


@pytest.mark.parametrize("fault", ["head-405", "head-wrong-type", "head-missing-header"])
async def test_discoverability_faults_touch_head_only(start_server, fault):
    """Control for the faults' proof: each distorts the HEAD answer and leaves GET's correct."""
    server = await start_server(faults=(fault,))
    live = await server.live_input()
    get = await server.request("GET", live.play)
    head = await server.request("HEAD", live.play)
    assert (get.status, get.headers.get("Content-Type"), get.headers.get("Access-Control-Allow-Origin")) == (200, SDP, "*"), \
        described(get)
    assert (head.status, head.headers.get("Content-Type"), head.headers.get("Access-Control-Allow-Origin")) \
        != (200, SDP, "*"), f"{fault} left HEAD correct; {described(head)}"
