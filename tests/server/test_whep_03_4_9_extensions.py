"""draft-ietf-wish-whep-03 §4.9 Protocol extensions and the WHEP core extensions (server-sent events,
video layer selection), as the reference server implements them.

§4.9: each supported extension is announced in the 201 by its own Link, rel an urn:ietf:params:whep:ext
URN. Core extensions: a POST (optionally a JSON array of event types, each one the server supports)
to the SSE URL creates an event stream, 201 with its Location; a GET long-polls it as text/event-stream,
each event's JSON in one data line; DELETE ends it, after which it is 404; all of a session's streams
end with it. A POST to the layer URL selects a layer (200), or the default with no constraint.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import pytest_asyncio
from aiohttp import ClientTimeout

from whip_whep_conformance.protocol.link import parse_links
from whip_whep_conformance.protocol.whep_extensions import EVENT_STREAM, LAYER_REL, SSE_REL

from .inprocess import described

pytestmark = pytest.mark.asyncio

READ_TIMEOUT_S = 10.0


@pytest_asyncio.fixture
async def viewer(server, live, viewer_offer):
    """A WHEP session and the Links of its 201."""
    session = await server.session(live.play, viewer_offer)
    return session, parse_links(session.created.headers.getall("Link", []))


def link(links, rel: str):
    found = [item for item in links if rel in item.rels]
    assert len(found) == 1, f"arranging: one Link rel={rel} on the 201; got {[str(item) for item in links]}"
    return found[0]


async def first_event(server, stream_path: str) -> tuple[str, list[str]]:
    """GET an event stream and read its first event: (Content-Type, the event's field lines)."""
    async with asyncio.timeout(READ_TIMEOUT_S):
        async with server.client.get(stream_path) as response:
            lines: list[str] = []
            while not lines or lines[-1] != "":
                line = (await response.content.readline()).decode().rstrip("\r\n")
                if line.startswith(":") or (line == "" and not lines):
                    continue  # a comment (keep-alive), or a blank line before the first field
                lines.append(line)
            return response.headers.get("Content-Type", ""), lines[:-1]


async def poll_status(server, stream_path: str) -> int:
    """The status of a long poll of `stream_path` (its body, a stream that may never end, is not read)."""
    async with asyncio.timeout(READ_TIMEOUT_S):
        async with server.client.get(stream_path) as response:
            return response.status


async def test_201_announces_each_extension_in_its_own_link(viewer):
    _, links = viewer
    extensions = [item for item in links if any(r.startswith("urn:ietf:params:whep:ext") for r in item.rels)]
    assert extensions and all(len(item.rels) == 1 for item in extensions), \
        f"WHEP §4.9: one Link per extension, rel its urn:ietf:params:whep:ext URN; {[str(item) for item in links]}"


async def test_sse_link_names_its_events(viewer):
    _, links = viewer
    events = link(links, SSE_REL).params.get("events", "").split(",")
    assert {"active", "inactive", "viewercount"} <= set(events), f"core extensions §3: the SSE Link's events; got {events}"


async def test_sse_post_creates_a_stream_201_with_location(server, viewer):
    _, links = viewer
    response = await server.request("POST", link(links, SSE_REL).target, json=["viewercount"])
    assert response.status == 201 and response.headers.get("Location"), \
        f"core extensions §3: the POST creates an event stream, 201 with its Location; {described(response)}"


async def test_sse_post_with_an_unsupported_event_is_refused(server, viewer):
    _, links = viewer
    response = await server.request("POST", link(links, SSE_REL).target, json=["viewercount", "no-such-event"])
    assert 400 <= response.status < 500, f"core extensions §3: an event type not supported is refused (4xx); {described(response)}"


async def test_stream_delivers_viewercount_as_one_json_data_line(server, viewer):
    _, links = viewer
    created = await server.request("POST", link(links, SSE_REL).target, json=["viewercount"])
    assert created.status == 201, f"control: the stream is created; {described(created)}"
    content_type, lines = await first_event(server, created.headers["Location"])
    data = [line[len("data:"):].strip() for line in lines if line.startswith("data:")]
    assert content_type.startswith(EVENT_STREAM) and "event: viewercount" in lines and len(data) == 1 \
        and json.loads(data[0]) == {"viewercount": 1}, \
        f"core extensions §3: text/event-stream, viewercount with its JSON in one data line; {content_type} {lines}"


async def test_deleted_stream_is_404(server, viewer):
    _, links = viewer
    created = await server.request("POST", link(links, SSE_REL).target, json=["viewercount"])
    deleted = await server.request("DELETE", created.headers["Location"])
    assert deleted.status == 200, f"control: DELETE ends the stream; {described(deleted)}"
    status = await poll_status(server, created.headers["Location"])
    assert status == 404, f"core extensions §3: a deleted stream's long poll gets 404; GET {created.headers['Location']} got {status}"


async def test_streams_end_with_their_session(server, viewer):
    session, links = viewer
    created = await server.request("POST", link(links, SSE_REL).target, json=["viewercount"])
    assert created.status == 201, f"control: the stream is created; {described(created)}"
    async with server.client.get(created.headers["Location"], timeout=ClientTimeout(total=None)) as polling:
        async with asyncio.timeout(READ_TIMEOUT_S):
            await polling.content.readline()  # the long poll is open: its first event is on its way
        ended = await server.request("DELETE", session.path)
        assert ended.status == 200, f"control: DELETE ends the session; {described(ended)}"
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                await polling.content.read()  # to the end of the stream
            closed = True
        except TimeoutError:
            closed = False
    assert closed, f"core extensions §3: a session's event streams end with it; the open long poll was still open {READ_TIMEOUT_S} s later"


async def test_layer_selection_of_the_default_is_200(server, viewer):
    _, links = viewer
    response = await server.request("POST", link(links, LAYER_REL).target, json={})
    assert response.status == 200, f"core extensions §4: asking for the default layer selection gets 200; {described(response)}"


async def test_layer_selection_of_a_layer_that_does_not_exist_is_refused(server, viewer):
    _, links = viewer
    response = await server.request("POST", link(links, LAYER_REL).target, json={"rid": "no-such-rid"})
    assert 400 <= response.status < 500, f"core extensions §4: a layer that does not exist cannot be selected; {described(response)}"
