"""The server options behind the client suite's scenarios (#21): legal server behaviours a client must follow
(Location forms, a first refusal with Retry-After, unknown Links, a lost path, counter-offers, ICE-lite)."""

from __future__ import annotations

import pytest
from aiortc.rtcicetransport import candidate_to_aioice
from aiortc.sdp import candidate_from_sdp
from yarl import URL

from whip_whep_conformance.protocol import profiles, sdpfrag
from whip_whep_conformance.webrtc.consent import ConsentCheck
from whip_whep_conformance.reference_server.consent import count_checks
from whip_whep_conformance.reference_server.observations import Observation
from whip_whep_conformance.webrtc.ice_restart import IceRestart, ice_connection
from whip_whep_conformance.reference_server.__main__ import parse_args

from .inprocess import described

@pytest.mark.asyncio
async def test_relative_location_resolves_against_the_request_uri(start_server, publisher_offer):
    server = await start_server(location="relative")
    live = await server.live_input()
    created = await server.post_offer(live.publish, publisher_offer)
    location = created.headers.get("Location", "")
    resolved = URL(live.publish).join(URL(location)).path
    gone = await server.request("DELETE", resolved, headers=server.auth())
    assert not location.startswith("/") and "://" not in location and gone.status == 200, \
        f"--location=relative: a path-relative Location resolving (RFC 3986) to the session; got {location!r} -> {resolved}: {gone.status}"


@pytest.mark.asyncio
async def test_relative_location_does_not_resolve_against_the_host_root(start_server, publisher_offer):
    server = await start_server(location="relative")
    live = await server.live_input()
    location = (await server.post_offer(live.publish, publisher_offer)).headers.get("Location", "")
    wrong = await server.request("DELETE", "/" + location, headers=server.auth())
    assert wrong.status == 404, f"--location=relative: against the host root {location!r} names no session; {described(wrong)}"


@pytest.mark.asyncio
async def test_location_base_gives_absolute_locations_there(start_server, publisher_offer):
    server = await start_server(location="absolute", location_base="http://127.0.0.2:8443")
    live = await server.live_input()
    location = URL((await server.post_offer(live.publish, publisher_offer)).headers.get("Location", ""))
    gone = await server.request("DELETE", location.path, headers=server.auth())
    assert (location.scheme, location.host, location.port) == ("http", "127.0.0.2", 8443) and gone.status == 200, \
        f"--location-base: the Location is absolute at that host:port with the session's path; got {location} ({gone.status})"


@pytest.mark.asyncio
async def test_absolute_location_names_the_request_origin(start_server, publisher_offer):
    server = await start_server(location="absolute")
    live = await server.live_input()
    location = URL((await server.post_offer(live.publish, publisher_offer)).headers.get("Location", ""))
    assert location.is_absolute() and location.port == server.client.port, \
        f"--location=absolute: an absolute URI at the server the client asked; got {location}"


@pytest.mark.asyncio
async def test_unavailable_first_refuses_then_takes_the_post(start_server, publisher_offer):
    server = await start_server(unavailable_first=2)
    live = await server.live_input()
    statuses = [(await server.post_offer(live.publish, publisher_offer)) for _ in range(3)]
    first = statuses[0]
    assert [r.status for r in statuses] == [503, 503, 201] and first.headers.get("Retry-After") == "1" \
        and first.headers.get("Content-Type", "").startswith("application/problem+json"), \
        f"--unavailable-first=2: 503 + Retry-After: 1 + problem twice, then 201; got {[described(r) for r in statuses]}"


@pytest.mark.asyncio
async def test_unavailable_first_takes_the_status_and_protocols(start_server, publisher_offer, viewer_offer):
    server = await start_server(unavailable_first=1, unavailable_status=429, unavailable_on=("whep",))
    live = await server.live_input()
    published = await server.post_offer(live.publish, publisher_offer)
    played = await server.post_offer(live.play, viewer_offer)
    assert (published.status, played.status) == (201, 429), \
        f"--unavailable-status=429 --unavailable-on=whep: the publisher is taken, the first viewer refused; {published.status}, {played.status}"


@pytest.mark.asyncio
async def test_extra_link_is_on_the_201(start_server, publisher_offer):
    value = '<urn:example:x>; rel="urn:example:unknown"'
    server = await start_server(extra_links=[value])
    live = await server.live_input()
    created = await server.post_offer(live.publish, publisher_offer)
    assert value in created.headers.getall("Link", []), f"--extra-link: the 201 carries it; {described(created)}"


@pytest.mark.asyncio
async def test_counter_offer_answers_every_viewer_offer_406(start_server, viewer_offer):
    server = await start_server(profiles.STANDARD, counter_offer=True)
    live = await server.live_input()
    refused = await server.post_offer(live.play, viewer_offer)
    assert refused.status == 406 and refused.headers.get("Content-Type", "").startswith("application/sdp") \
        and refused.headers.get("Location"), f"--counter-offer: 406 with the server's offer and a Location; {described(refused)}"


def test_flags_make_the_config():
    config, _ = parse_args(["--location=relative", "--unavailable-first=2", "--unavailable-status=500",
                            "--extra-link=<urn:x>; rel=\"urn:y\"", "--drop-path-after=3", "--counter-offer", "--ice-lite"])
    got = (config.location, config.unavailable_first, config.unavailable_status, config.extra_links,
           config.drop_path_after_s, config.counter_offer, config.ice_lite)
    assert got == ("relative", 2, 500, ['<urn:x>; rel="urn:y"'], 3.0, True, True), f"the flags reach ServerConfig; got {got}"


def test_location_base_means_absolute():
    config, _ = parse_args(["--location-base=https://127.0.0.1:9"])
    assert (config.location, config.location_base) == ("absolute", "https://127.0.0.1:9"), \
        f"--location-base makes absolute Locations there; got {config.location}, {config.location_base}"


DROP_AFTER_S = 0.5
RESTART_TIMEOUT_S = 20.0


async def _dropped_publisher(start_server, peers):
    """A publisher connected to a --drop-path-after server, past the drop (a consent check went unanswered)."""
    server = await start_server(drop_path_after_s=DROP_AFTER_S)
    live = await server.live_input()
    pc = peers.publisher()
    session = await server.session(live.publish, await peers.offer(pc))
    assert await peers.connect(pc, session.answer) == "connected", "arranging: the publisher connects"
    check = ConsentCheck(pc)
    lost_after = await check.wait_withdrawn(DROP_AFTER_S + 10.0)
    return server, pc, session, lost_after, live


@pytest.mark.asyncio
async def test_drop_path_after_stops_answering_on_the_ice_session(start_server, peers):
    _, _, _, lost_after, _ = await _dropped_publisher(start_server, peers)
    assert lost_after is not None and lost_after >= DROP_AFTER_S * 0.5, \
        f"--drop-path-after={DROP_AFTER_S}: the server's agent answers checks, then stops (lost after {lost_after} s)"


async def _restarted(server, pc, session) -> tuple[bool, bool | None]:
    """ICE-restart a peer by PATCH: (connected on the new ICE session, its consent answered)."""
    restart = await IceRestart.begin(pc)
    frag = sdpfrag.for_description(pc.localDescription.sdp, restart.local_username, restart.local_password,
                                   [c.to_sdp() for c in restart.local_candidates], end_of_candidates=True)
    response = await server.patch(session.path, str(frag), if_match="*")
    assert response.status == 200, f"arranging: the restart PATCH; {described(response)}"
    answer = sdpfrag.parse(await response.text())
    ufrag, pwd = answer.credentials()
    restart.set_remote(ufrag, pwd)
    for media in answer.media:
        for line in media.candidates:
            await restart.add_remote_candidate(candidate_to_aioice(candidate_from_sdp(line)))
    await restart.add_remote_candidate(None)
    connected = await restart.complete(RESTART_TIMEOUT_S)
    return connected, (await ConsentCheck(pc).answered() if connected else None)


@pytest.mark.asyncio
async def test_drop_path_after_recovers_by_ice_restart(start_server, peers):
    server, pc, session, _, _ = await _dropped_publisher(start_server, peers)
    connected, answered = await _restarted(server, pc, session)
    assert connected and answered, \
        f"--drop-path-after: an ICE restart brings a working ICE session (connected {connected}, consent answered {answered})"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["whip", "whep"])
async def test_ice_lite_server_connects_without_checks_of_its_own(start_server, peers, kind):
    server = await start_server(ice_lite=True)
    live = await server.live_input()
    pc = peers.publisher() if kind == "whip" else peers.viewer()
    session = await server.session(live.publish if kind == "whip" else live.play, await peers.offer(pc))
    heard = Observation("client", kind, live.uid)  # the Binding requests the client's agent receives
    count_checks(ice_connection(pc), heard)
    state = await peers.connect(pc, session.answer)
    assert "\na=ice-lite" in session.answer and state == "connected" and heard.checks_received == 0, \
        f"--ice-lite: a=ice-lite in the answer, ICE connects with the client controlling and the server sends no " \
        f"check (state {state}, the client received {heard.checks_received} checks)"


@pytest.mark.asyncio
async def test_relative_location_after_a_redirect_resolves_under_the_redirected_uri(start_server, publisher_offer):
    server = await start_server(location="relative", redirect=True)
    live = await server.live_input()
    moved = await server.post_offer(live.publish, publisher_offer)
    target = URL(moved.headers.get("Location", ""))
    created = await server.post_offer(target.path, publisher_offer)
    resolved = target.join(URL(created.headers.get("Location", ""))).path
    gone = await server.request("DELETE", resolved, headers=server.auth())
    assert (moved.status, created.status, gone.status) == (307, 201, 200), \
        f"--redirect --location=relative: a client following the 307 resolves the Location against the URI it POSTed to " \
        f"({resolved}); got {moved.status}, {created.status}, DELETE {gone.status}"


async def _until_quiet(pc, quiet_s: float, deadline_s: float) -> tuple[bool, int]:
    """Whether the packets `pc` has received stop growing for `quiet_s` within `deadline_s` (sampled from
    its inbound-rtp stats), and how many it received."""
    import asyncio
    import time

    async def received() -> int:
        return sum(s.packetsReceived for s in (await pc.getStats()).values() if s.type == "inbound-rtp")

    loop = asyncio.get_running_loop()
    end, last, since = loop.time() + deadline_s, await received(), time.monotonic()
    while loop.time() < end:
        await asyncio.sleep(0.1)  # sampling a counter, not synchronisation
        now = await received()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True, now
    return False, last


@pytest.mark.asyncio
async def test_drop_path_after_silences_a_viewers_media(start_server, peers):
    """A WHEP viewer's lost path carries no media either: the relay's direct send (Egress.send_now) must
    fall back to aiortc's chain, which lost_path.py silenced (the client suite's dropped-path scenario)."""
    server, publisher, published, _, live = await _dropped_publisher(start_server, peers)
    assert await _restarted(server, publisher, published) == (True, True), \
        "arranging: the publisher's path is back by an ICE restart (only a first ICE session is dropped)"
    viewer = peers.viewer()
    played = await server.session(live.play, await peers.offer(viewer))
    assert await peers.connect(viewer, played.answer) == "connected", "arranging: the viewer connects"
    quiet, received = await _until_quiet(viewer, quiet_s=1.5, deadline_s=DROP_AFTER_S + 15.0)
    assert quiet and received > 0, \
        f"--drop-path-after={DROP_AFTER_S}: a viewer's media arrives, then stops with its path; " \
        f"{'still arriving' if not quiet else 'none arrived'} ({received} packets)"
