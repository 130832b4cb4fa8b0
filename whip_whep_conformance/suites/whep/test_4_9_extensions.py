"""WHEP protocol extensions — draft-ietf-wish-whep-03 §4.9 (and -02 §4.9.1-4.9.2, draft-murillo-whep-01 §4.9):
server-sent events and video layer selection, announced by Links on the 201.

Extensions are optional: a target that announces none is Not applicable for the cases about them;
what a target does announce must work as the draft says. Streams are read with deadlines, and
every change an event reports is made by the case itself (a viewer joins, the publisher leaves).
"""

import pytest

from whip_whep_conformance.harness import rules
from whip_whep_conformance.harness.judgments import whep_layers
from whip_whep_conformance.protocol import whep_extensions as ext

pytestmark = pytest.mark.asyncio

# WHEPL-4.9-1 / WHEP01-4.9-1 ("announces the extensions the server supports") are not graded: a black box
# shows only what is announced, so the case reports that list (Info) under the rule it grades.
ONE_LINK_EACH = rules.ids("extension-link-each", "whep")


async def _viewer_session(case, live: bool = True):
    """A WHEP session (POSTed, not connected) on an input that is live or not: (urls, posted, links)."""
    urls = await case.live_input()
    if live:
        await case.live_stream(urls)  # a WHEP-only run: what is live at its endpoint
    _, posted = await case.play(urls)
    if posted.status != 201:
        case.not_applicable(f"no WHEP session to look at: the POST got {posted.describe()}")
    return urls, posted, case.links(posted.response)


def _sse_link(case, links):
    found = ext.find(links, ext.SSE_REL)
    if found is None:
        case.not_applicable("the 201 announces no server-sent events extension")
    return found


def _subscribable(case, sse, wanted: list[str]) -> list[str]:
    """The wanted event types the target announces (all of them when it lists none)."""
    advertised = ext.advertised_events(sse)
    chosen = wanted if advertised is None else [t for t in wanted if t in advertised]
    if not chosen:
        case.not_applicable(f"the SSE Link announces events {advertised}, none of {wanted}")
    return chosen


async def _open(case, sse, types: list[str]):
    """POST the event types to the SSE URL and GET the stream: (POST response, reader)."""
    created = await case.signalling.request("POST", sse.target, json=types)
    location = created.headers.get("Location")
    if created.status_code != 201 or not location:
        case.not_applicable(f"no event stream to read: POST {sse.target} got {created.status_code}, Location {location!r}")
    _, reader = await case.open_events(str(created.url.join(location)))
    return created, reader


@pytest.mark.requirement(*ONE_LINK_EACH)
async def test_extensions_are_announced_one_link_each(case):
    """POST an offer: each extension the 201 announces has a Link of its own (one rel in urn:ietf:params:whep:ext) with an http(s) URL."""
    _, _, links = await _viewer_session(case, live=False)
    announced = ext.extension_links(links)
    if not announced:
        case.not_applicable("the 201 announces no extension (they are optional)")
    for link in announced:
        rels = [r for r in link.rels if r.startswith(ext.EXTENSION_PREFIX)]
        case.expect(len(rels) == 1 and link.target.startswith(("http://", "https://")), *ONE_LINK_EACH,
                    message=f"the Link <{link.target}> announces {rels}: one extension per Link, with a URL")
    # What was announced goes with the case's figures, not as an Info of the rule graded above: a
    # requirement's verdict is its worst check's, and Info would hide that rule's Pass.
    case.record.figures["extensions_announced"] = ", ".join(r for link in announced for r in link.rels)


@pytest.mark.requirement("WHEPX-4.9.1-1", "WHEPX-4.9.1-2", "WHEPX-4.9.1-4")
async def test_event_stream_is_created(case):
    """POST the event types to the SSE URL: 201 with the stream's Location; the Link may list its events."""
    _, _, links = await _viewer_session(case)
    sse = _sse_link(case, links)
    advertised = ext.advertised_events(sse)
    case.capability(bool(advertised), "WHEPX-4.9.1-2",
                    f"the SSE Link lists events {advertised}" if advertised else "the SSE Link lists no events")
    created = await case.signalling.request("POST", sse.target, json=_subscribable(case, sse, ["active", "inactive"]))
    if created.status_code < 500:  # a 5xx shows neither that the target is the entry point nor that it is not
        case.expect(created.status_code not in (404, 405), "WHEPX-4.9.1-1",
                    message=f"the SSE URL {sse.target} answered the POST {created.status_code}")
    case.expect(created.status_code == 201 and bool(created.headers.get("Location")), "WHEPX-4.9.1-4",
                message=f"the POST got {created.status_code}, Location {created.headers.get('Location')!r}")


@pytest.mark.requirement("WHEPX-4.9.1-5")
async def test_unknown_event_type_is_refused(case):
    """POST an event type nobody defined to the SSE URL: 400, and no stream (no Location)."""
    _, _, links = await _viewer_session(case)
    sse = _sse_link(case, links)
    created = await case.signalling.request("POST", sse.target, json=["no-such-event-type"])
    case.expect(created.status_code == 400 and not created.headers.get("Location"), "WHEPX-4.9.1-5",
                message=f"a stream of an unknown event type got {created.status_code}, Location {created.headers.get('Location')!r}")


@pytest.mark.requirement("WHEPX-4.9.1-5")
async def test_unadvertised_event_type_is_refused(case):
    """POST an event type the events document defines but the SSE Link's `events` list leaves out: the
    events document (§4) refuses any type "missing from an advertised events list" with 400 and opens
    no stream, not only unknown ones. The control: a type the Link lists is taken (201)."""
    _, _, links = await _viewer_session(case)
    sse = _sse_link(case, links)
    advertised = ext.advertised_events(sse)
    if not advertised:
        case.not_applicable("the SSE Link lists no events, so no defined type is missing from it")
    left_out = [t for t in ext.EVENT_TYPES if t not in advertised]
    if not left_out:
        case.not_applicable(f"the SSE Link lists every defined event type: {advertised}")
    control = await case.signalling.request("POST", sse.target, json=[advertised[0]])
    if control.status_code != 201:
        case.not_applicable(f"control: a stream of the advertised type {advertised[0]!r} got {control.status_code}")
    created = await case.signalling.request("POST", sse.target, json=[left_out[0]])
    case.expect(created.status_code == 400 and not created.headers.get("Location"), "WHEPX-4.9.1-5",
                message=f"a stream of {left_out[0]!r}, defined but not in the Link's events {advertised}, got "
                        f"{created.status_code}, Location {created.headers.get('Location')!r}")


@pytest.mark.requirement("WHEPX-4.9.1-9", "WHEPX-4.9.1-10", "WHEPX-4.9.1.1-1", "WHEPX-4.9.1.5-1")
async def test_events_are_typed_json_on_one_line(case):
    """With a live publisher, read active and viewercount: each names its type, carries JSON on one data line."""
    _, _, links = await _viewer_session(case)
    sse = _sse_link(case, links)
    types = _subscribable(case, sse, ["active", "viewercount"])
    _, reader = await _open(case, sse, types)
    seen: dict[str, ext.Event] = {}
    while set(types) - set(seen):
        event = await reader.next(case.target.timeout_s)
        if event is None:
            break
        seen.setdefault(event.type, event)
    for event in reader.events:
        try:
            event.json()
            is_json = True
        except ValueError:
            is_json = False
        case.expect(event.type != "message" and (is_json or event.type == "scte35"), "WHEPX-4.9.1-9",
                    message=f"event {event.type!r} with data {event.data[:100]!r}: a type and JSON data are required")
        case.expect(len(event.data_lines) == 1, "WHEPX-4.9.1-10",
                    message=f"event {event.type!r} spreads its data over {len(event.data_lines)} data lines")
    if "active" in types:
        active = seen.get("active")
        case.expect(active is not None and active.data_lines == ["{}"], "WHEPX-4.9.1.1-1",
                    message=f"with the publication live: active event {active.data if active else 'never came'!r}")
    if "viewercount" in types:
        count = seen.get("viewercount")
        value = count.json_object().get("viewercount") if count else None
        case.expect(isinstance(value, int) and not isinstance(value, bool), "WHEPX-4.9.1.5-1",
                    message=f"viewercount event {count.data if count else 'never came'!r}")


@pytest.mark.requirement("WHEPX-4.9.1-8")
async def test_stream_carries_only_its_types(case):
    """Open a stream for viewercount alone, then let a second viewer join: only viewercount events arrive."""
    urls, _, links = await _viewer_session(case)
    sse = _sse_link(case, links)
    _, reader = await _open(case, sse, _subscribable(case, sse, ["viewercount"]))
    await case.play(urls)  # a second viewer: the count changes
    counted = await reader.until(lambda e: e.type == "viewercount" and e.json_object().get("viewercount", 0) >= 2,
                                 case.target.timeout_s)
    others = [e.type for e in reader.events if e.type != "viewercount"]
    if counted is None and not others:
        case.not_applicable("no viewercount event showed the second viewer within --timeout-s")
    case.expect(not others, "WHEPX-4.9.1-8", message=f"a stream opened for viewercount also got {others}")


async def _viewercount_stream(case):
    """A viewer session with an event stream open for viewercount: (POST response, stream URL, reader)."""
    _, posted, links = await _viewer_session(case)
    sse = _sse_link(case, links)
    created, reader = await _open(case, sse, _subscribable(case, sse, ["viewercount"]))
    return posted, str(created.url.join(created.headers["Location"])), reader


@pytest.mark.requirement("WHEPX-4.9.1-13")
async def test_deleted_stream_is_gone(case):
    """DELETE an event stream, then GET it: 404."""
    _, stream_url, _ = await _viewercount_stream(case)
    await case.signalling.request("DELETE", stream_url)
    response, _ = await case.open_events(stream_url)
    case.expect(response.status_code == 404, "WHEPX-4.9.1-13",
                message=f"GET {stream_url} after its DELETE answered {response.status_code}")


@pytest.mark.requirement("WHEPX-4.9.1-14")
async def test_ending_the_session_ends_its_streams(case):
    """With a stream open, DELETE the WHEP session: the open stream ends and the stream URL answers 404."""
    posted, stream_url, reader = await _viewercount_stream(case)
    await case.signalling.delete(posted.location)
    await reader.until(lambda e: False, case.target.timeout_s)  # read to the end, or to the deadline
    response, _ = await case.open_events(stream_url)
    case.expect(reader.ended and response.status_code == 404, "WHEPX-4.9.1-14",
                message=f"after the session's DELETE the open stream {'ended' if reader.ended else 'stayed open'} "
                        f"and GET {stream_url} answered {response.status_code}")


@pytest.mark.requirement("WHEPX-4.9.1.2-1")
async def test_inactive_when_the_publication_stops(case):
    """With a live publisher, open a stream for active and inactive, then DELETE the publisher: inactive, with {}."""
    urls = await case.live_input()
    _, published = await case.start_publisher("vp8", urls)
    _, posted = await case.play(urls)
    if posted.status != 201:
        case.not_applicable(f"no WHEP session: the POST got {posted.describe()}")
    sse = _sse_link(case, case.links(posted.response))
    _, reader = await _open(case, sse, _subscribable(case, sse, ["active", "inactive"]))
    await reader.until(lambda e: e.type == "active", case.target.timeout_s)
    await case.signalling.delete(published.location)
    inactive = await reader.until(lambda e: e.type == "inactive", case.target.timeout_s)
    case.expect(inactive is not None and inactive.data_lines == ["{}"], "WHEPX-4.9.1.2-1",
                message=f"after the publisher's DELETE: inactive event {inactive.data if inactive else 'never came'!r}")


@pytest.mark.requirement("WHEPX-4.9.1.2-2")
async def test_no_inactive_before_any_publication(case):
    """Play an input nobody publishes, open a stream for inactive and viewercount, let a viewer join: no inactive."""
    urls, _, links = await _viewer_session(case, live=False)
    if case.is_publishing(urls):
        case.not_applicable("the target plays only inputs being published (409): the suite had to publish first")
    sse = _sse_link(case, links)
    _, reader = await _open(case, sse, _subscribable(case, sse, ["inactive", "viewercount"]))
    await case.play(urls)  # a second viewer: an event that must come, after anything sent at the start
    await reader.until(lambda e: e.type == "viewercount" and e.json_object().get("viewercount", 0) >= 2, case.target.timeout_s)
    inactive = [e for e in reader.events if e.type == "inactive"]
    case.expect(not inactive, "WHEPX-4.9.1.2-2",
                message=f"nothing was ever published, yet the stream got {len(inactive)} inactive event(s)")


async def _layers(case, links):
    """The first layers event of a live input's stream (Not applicable when none comes)."""
    sse = _sse_link(case, links)
    _, reader = await _open(case, sse, _subscribable(case, sse, ["layers"]))
    event = await reader.until(lambda e: e.type == "layers", case.target.timeout_s)
    if event is None:
        case.not_applicable("no layers event within --timeout-s of opening the stream")
    return event


@pytest.mark.requirement("WHEPX-4.9.1.3-2", "WHEPX-4.9.1.3-3")
async def test_layers_event_describes_layers(case):
    """With a live publisher, read a layers event: m-line indexes to arrays of layers, each with rid, spatialLayerId or temporalLayerId."""
    _, _, links = await _viewer_session(case)
    event = await _layers(case, links)
    try:
        data = event.json()
    except ValueError:
        data = event.data
    problems = whep_layers.layer_problems(data)
    case.expect(not any("has none of" in p for p in problems), "WHEPX-4.9.1.3-3", message="; ".join(problems))
    case.expect(not problems, "WHEPX-4.9.1.3-2", message="; ".join(problems))


@pytest.mark.requirement("WHEPX-4.9.2-1", "WHEPX-4.9.2-2", "WHEPX-4.9.2-3")
async def test_layer_selection_comes_with_layers_events(case):
    """A 201 announcing layer selection announces server-sent events too, with layers among their events."""
    _, _, links = await _viewer_session(case, live=False)
    layer = ext.find(links, ext.LAYER_REL)
    if layer is None:
        case.not_applicable("the 201 announces no layer selection extension")
    case.expect(layer.target.startswith(("http://", "https://")), "WHEPX-4.9.2-1",
                message=f"the layer selection Link's target {layer.target!r} is not a URL")
    sse = ext.find(links, ext.SSE_REL)
    case.expect(sse is not None, "WHEPX-4.9.2-2", message="layer selection is announced without server-sent events")
    advertised = ext.advertised_events(sse) if sse else None
    case.expect(advertised is None or "layers" in advertised, "WHEPX-4.9.2-3",
                message=f"the SSE Link's events {advertised} leave out layers")


@pytest.mark.requirement("WHEPX-4.9.2-5")
async def test_layer_request_is_answered(case):
    """POST a layer from the layers event to the layer URL: 200; POST a rid no layer has: a 4xx."""
    _, _, links = await _viewer_session(case)
    layer_link = ext.find(links, ext.LAYER_REL)
    if layer_link is None:
        case.not_applicable("the 201 announces no layer selection extension")
    data = (await _layers(case, links)).json_object()
    media_id, layers = next(((k, v) for k, v in data.items() if isinstance(v, list) and v), (None, None))
    if media_id is None:
        case.not_applicable(f"the layers event lists no layer: {data}")
    chosen = {k: v for k, v in layers[0].items() if k in ext.LAYER_IDS}
    picked = await case.signalling.request("POST", layer_link.target, json={"mediaId": media_id, **chosen})
    case.expect(picked.status_code == 200, "WHEPX-4.9.2-5",
                message=f"a request for the advertised layer {chosen} got {picked.status_code}")
    missing = await case.signalling.request("POST", layer_link.target, json={"mediaId": media_id, "rid": "no-such-rid"})
    case.expect(400 <= missing.status_code < 500, "WHEPX-4.9.2-5",
                message=f"a request for a rid no layer has got {missing.status_code}")


@pytest.mark.requirement("WHEPL-4.9-4", "WHEP01-4.9-4")
async def test_playback_needs_no_extension(case):
    """Play without touching any extension URL: media is decoded all the same."""
    urls = await case.live_stream()
    the_player, _ = await case.start_player(urls)
    decoded = await the_player.wait_frames("video", 10, case.target.timeout_s)
    case.expect(decoded, "WHEPL-4.9-4", "WHEP01-4.9-4",
                message="no video was decoded by a player that used no extension")
