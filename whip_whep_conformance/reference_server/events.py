"""WHEP extensions (draft-ietf-wish-whep-03 §4.9): server-sent events and video layer selection.

Each WHEP session announces both in its 201. A player POSTs the event types it wants to the SSE URL
and long-polls the stream it gets; the server queues `active`/`inactive` as the publication starts
and stops, `viewercount` as viewers come and go, and `layers` (one layer: the one stream the relay
forwards, also of a simulcast publisher). Layer selection accepts what that one layer offers.
The streams themselves (what each was opened for, what waits to be sent) are `event_streams.py`.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from whip_whep_conformance.protocol import whep_extensions as ext
from whip_whep_conformance.protocol.link import Link, format_link

from .event_streams import EventStream
from .faults import Fault
from .refusal import Refusal

if TYPE_CHECKING:
    from .live_inputs import LiveInput
    from .sessions import Session

SUPPORTED = ("active", "inactive", "layers", "viewercount")
KEEPALIVE_S = 15.0  # a comment line now and then, so idle proxies keep the long poll open


# --- what the live input tells its viewers ------------------------------------------------------

def publication_changed(live: "LiveInput", active: bool) -> None:
    if not active and Fault.SSE_NO_INACTIVE in live.relay.faults:
        return
    for viewer in list(live.viewers):
        if viewer.events is not None:
            viewer.events.emit("active" if active else "inactive", {})
            if active:
                viewer.events.emit("layers", layers(live, viewer))


def viewers_changed(live: "LiveInput") -> None:
    for viewer in list(live.viewers):
        if viewer.events is not None:
            viewer.events.emit("viewercount", _viewercount(live))


def _viewercount(live: "LiveInput") -> dict:
    count = len(live.viewers) + live.viewers_elsewhere
    return {"viewercount": str(count) if Fault.VIEWERCOUNT_AS_TEXT in live.relay.faults else count}


def _publishing(live: "LiveInput") -> bool:
    return live.publisher is not None and live.publisher.connected.is_set()


def layers(live: "LiveInput", viewer: "Session") -> dict[str, list[dict]]:
    """The one layer the relay forwards, under the viewer's video m-line index."""
    index = next((i for i, t in enumerate(viewer.pc.getTransceivers()) if t.kind == "video"), None)
    if index is None:
        return {}
    layer: dict[str, Any] = {"spatialLayerId": 0, "temporalLayerId": 0}
    if Fault.LAYERS_WITHOUT_IDS in live.relay.faults:
        layer = {}
    bitrate = live.relay.video_bitrate()
    if bitrate:
        layer["bitrate"] = bitrate
    return {str(index): [layer]}


def initial_events(live: "LiveInput", viewer: "Session", stream: EventStream) -> None:
    """What a new stream learns at once: the publication state, the audience, the layers."""
    assert viewer.events is not None
    if _publishing(live):
        viewer.events.emit("active", {}, only=stream)
        viewer.events.emit("layers", layers(live, viewer), only=stream)
    elif Fault.SSE_INITIAL_INACTIVE in live.relay.faults:
        viewer.events.emit("inactive", {}, only=stream)  # §4.9.1.2 forbids this
    viewer.events.emit("viewercount", _viewercount(live), only=stream)


# --- the 201's Links ------------------------------------------------------------------------------

def links(session_url: str) -> list[str]:
    """A WHEP session's extension Links: server-sent events (with the types it sends) and layer selection."""
    sse = Link(f"{session_url}/sse", {"rel": ext.SSE_REL, "events": ",".join(SUPPORTED)})
    layer = Link(f"{session_url}/layer", {"rel": ext.LAYER_REL})
    return [format_link(sse), format_link(layer)]


# --- requests to the extension URLs ----------------------------------------------------------------

async def open_stream(request: web.Request, live: "LiveInput", viewer: "Session", base: dict[str, str]) -> web.Response:
    """POST to the SSE URL: optionally a JSON array of event types; 201 with the stream's Location."""
    assert viewer.events is not None
    body = await request.read()
    types: set[str] = set(SUPPORTED)
    if body.strip():
        try:
            asked = json.loads(body)
        except ValueError:
            asked = None
        if not isinstance(asked, list) or not all(isinstance(t, str) for t in asked):
            raise Refusal(400, "the body must be a JSON array of event types")
        unknown = sorted(set(asked) - set(SUPPORTED))
        if unknown and Fault.SSE_UNKNOWN_EVENT_ACCEPTED not in viewer.events.faults:
            raise Refusal(400, f"event types not supported here: {', '.join(unknown)}")  # core extensions §4
        types = set(asked) & set(SUPPORTED)
    stream = viewer.events.open(types)
    initial_events(live, viewer, stream)
    headers = dict(base)
    if Fault.SSE_POST_NO_LOCATION not in viewer.events.faults:
        headers["Location"] = f"{request.path}/{stream.id}"
    return web.Response(status=201, headers=headers)


async def serve_stream(request: web.Request, viewer: "Session", stream_id: str, base: dict[str, str]) -> web.StreamResponse:
    """GET the stream: text/event-stream, events as they come, until the stream or session ends."""
    assert viewer.events is not None
    stream = viewer.events.streams.get(stream_id)
    if stream is None:
        raise Refusal(404, "no such event stream (never created, deleted, or its session ended)")
    response = web.StreamResponse(status=200, headers={**base, "Content-Type": ext.EVENT_STREAM, "Cache-Control": "no-store"})
    await response.prepare(request)
    stream.opened.set()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.queue.get(), KEEPALIVE_S)
        except asyncio.TimeoutError:
            chunk = b": keep-alive\n\n"
        if chunk is None:
            break
        try:
            await response.write(chunk)
        except (ConnectionError, RuntimeError):
            break
    return response


async def delete_stream(viewer: "Session", stream_id: str, base: dict[str, str]) -> web.Response:
    assert viewer.events is not None
    if Fault.SSE_STREAM_SURVIVES_DELETE in viewer.events.faults:
        return web.Response(status=200, headers=base)
    if not viewer.events.delete(stream_id):
        raise Refusal(404, "no such event stream")
    return web.Response(status=200, headers=base)


async def select_layer(request: web.Request, live: "LiveInput", viewer: "Session", base: dict[str, str]) -> web.Response:
    """POST a layer request (§4.9.2): the one layer there is (or the automatic choice) is 200, others 422."""
    try:
        asked = json.loads(await request.read() or b"{}")
    except ValueError:
        asked = None
    if not isinstance(asked, dict):
        raise Refusal(400, "the body must be a JSON object")
    offered = layers(live, viewer)
    media_id = str(asked.get("mediaId", next(iter(offered), "")))
    available = offered.get(media_id)
    if available is None:
        raise Refusal(422, f"no video m-line {media_id!r} to select a layer of")
    wanted = {k: asked[k] for k in ("rid", "spatialLayerId", "temporalLayerId") if k in asked}
    if wanted and Fault.LAYER_SELECTION_ACCEPTS_ANYTHING not in live.relay.faults:
        if not any(all(layer.get(k) == v for k, v in wanted.items()) for layer in available):
            raise Refusal(422, f"no layer {json.dumps(wanted)} on m-line {media_id}")
    return web.Response(status=200, headers=base)

