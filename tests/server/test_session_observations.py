"""GET /client/v4/sessions: what the server observed of each session (the client conformance suite grades
clients by it), with a real aiortc publisher and viewer over HTTP on loopback."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import pytest
import pytest_asyncio
from aiortc import RTCCertificate, RTCPeerConnection

from .inprocess import SDPFRAG, Server, described
from .peers import CONNECT_TIMEOUT_S

pytestmark = pytest.mark.asyncio

FRAME_TIMEOUT_S = 20.0
CONSENT_WITHIN_S = 15.0  # aioice's consent interval is ~5 s (4 to 6)
POLL_EVERY_S = 0.25


async def listing(server: Server) -> list[dict[str, Any]]:
    response = await server.request("GET", "/client/v4/sessions", headers=server.api_auth())
    body = await response.json()
    assert response.status == 200 and body.get("success") is True, f"GET /client/v4/sessions; {described(response)}"
    return body["result"]


async def observed(server: Server, url: str) -> dict[str, Any]:
    found = [s for s in await listing(server) if s["url"] == url]
    assert len(found) == 1, f"GET /client/v4/sessions lists the session {url} once; got {found}"
    return found[0]


async def until(server: Server, url: str, done: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
    """The session's observation once `done` holds (polled: the observation is only seen over HTTP), or the last one."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = await observed(server, url)
        if done(seen) or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(POLL_EVERY_S)


async def first_frame(pc: RTCPeerConnection, kind: str) -> None:
    track = next(t.receiver.track for t in pc.getTransceivers() if t.kind == kind)
    await asyncio.wait_for(track.recv(), FRAME_TIMEOUT_S)


@pytest_asyncio.fixture
async def playing(server, live, peers):
    """A connected publisher and a viewer that has received video: the server has relayed media."""
    publisher = peers.publisher()
    published = await server.session(live.publish, await peers.offer(publisher))
    assert await peers.connect(publisher, published.answer) == "connected", "arranging: the publisher connects"
    viewer = peers.viewer()
    played = await server.session(live.play, await peers.offer(viewer))
    assert await peers.connect(viewer, played.answer) == "connected", "arranging: the viewer connects"
    await first_frame(viewer, "video")
    return published, played


async def test_a_publishing_session_is_listed_with_what_arrived(server, live, playing):
    published, _ = playing
    seen = await observed(server, published.path)
    ok = (seen["protocol"] == "whip" and seen["live_input"] == live.uid and seen["connected"] is True
          and seen["ended_by"] is None and seen["remote_candidates"] and seen["checks_received"] > 0
          and all(n > 0 for n in seen["rtp_packets"].values()) and len(seen["rtp_packets"]) == 2
          and {k: v for k, v in seen["dtls"].items() if k != "handshakes"} == {"state": "connected", "remote_fingerprint_matched": True})
    assert ok, f"a connected publisher's observation: whip, connected, its candidates, checks and RTP per mid; got {seen}"


def fingerprint_lines(sdp: str) -> list[str]:
    """The SDP's distinct a=fingerprint lines (aiortc repeats them in every m-section)."""
    return list(dict.fromkeys(line for line in sdp.splitlines() if line.startswith("a=fingerprint:")))


async def test_the_certificate_a_client_presented_is_listed(server, playing):
    published, _ = playing
    seen = await observed(server, published.path)
    handshakes = seen["dtls"]["handshakes"]
    assert len(handshakes) == 1 and handshakes[0]["key"] == "EC P-256" and handshakes[0]["not_before"] < handshakes[0]["not_after"] \
        and handshakes[0]["presented"]["sha-256"] == handshakes[0]["sdp_fingerprints"][0]["value"].upper(), \
        f"an aiortc publisher's one DTLS handshake: its EC P-256 certificate's sha-256 is its SDP's; got {seen['dtls']}"


async def test_a_certificate_that_is_not_the_offered_one_is_listed_too(server, live, peers):
    """aiortc fails the transport on a fingerprint mismatch; the server reads the certificate before that."""
    pc = peers.publisher()
    offer = await peers.offer(pc)
    own = fingerprint_lines(offer)
    others = [f"a=fingerprint:{f.algorithm} {f.value}" for f in RTCCertificate.generateCertificate().getFingerprints()]
    assert len(own) == len(others), f"arranging: aiortc offers one a=fingerprint per hash function; got {own}"
    for mine, other in zip(own, others):
        offer = offer.replace(mine, other)
    session = await server.session(live.publish, offer)
    await peers.connect(pc, session.answer)  # whatever the client's side reaches: the server's side fails
    seen = await until(server, session.path, lambda o: bool(o["dtls"]["handshakes"]), CONNECT_TIMEOUT_S)
    handshakes = seen["dtls"]["handshakes"]
    presented = [f"a=fingerprint:{a} {v}" for a, v in handshakes[0]["presented"].items()] if handshakes else []
    given = [f"a=fingerprint:{f['algorithm']} {f['value']}" for f in handshakes[0]["sdp_fingerprints"]] if handshakes else []
    assert len(handshakes) == 1 and sorted(presented) == sorted(own) and given == others, \
        f"the certificate the client presented ({own}) is listed though its offer named {others}; got {seen['dtls']}"


async def test_a_viewer_is_listed_with_what_was_sent(server, playing):
    _, played = playing
    seen = await observed(server, played.path)
    assert seen["protocol"] == "whep" and seen["connected"] and seen["rtp_packets"].get("1", 0) > 0, \
        f"a viewer's observation counts the RTP sent per mid (video is mid 1); got {seen}"


async def test_consent_checks_are_counted(server, playing):
    published, played = playing
    seen = [await until(server, s.path, lambda o: o["consent"]["answered"] > 0, CONSENT_WITHIN_S) for s in (published, played)]
    assert all(o["consent"]["sent"] >= o["consent"]["answered"] + o["consent"]["unanswered"]
               and o["consent"]["answered"] > 0 and o["consent"]["most_unanswered_in_a_row"] <= o["consent"]["unanswered"]
               for o in seen), \
        f"the server's consent checks to a publisher and a viewer are counted, sent, answered and not; got {[o['consent'] for o in seen]}"


async def test_a_deleted_session_stays_listed_as_ended_by_delete(server, playing):
    published, _ = playing
    response = await server.request("DELETE", published.path, headers=server.auth())
    assert response.status == 200, f"arranging: DELETE the session; {described(response)}"
    seen = await observed(server, published.path)
    assert seen["ended_by"] == "delete" and seen["ended_s"] >= seen["created_s"], \
        f"an ended session stays listed with its end and why; got {seen}"


async def test_trickle_patches_and_their_candidates_are_counted(server, live, peers):
    pc = peers.publisher()
    session = await server.session(live.publish, await peers.offer(pc))
    frag = "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n" \
           "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n"
    offer = pc.localDescription.sdp
    ufrag = next(line.split(":", 1)[1] for line in offer.splitlines() if line.startswith("a=ice-ufrag:"))
    pwd = next(line.split(":", 1)[1] for line in offer.splitlines() if line.startswith("a=ice-pwd:"))
    response = await server.patch(session.path, frag.format(ufrag, pwd), SDPFRAG, if_match=session.etag)
    assert response.status == 204, f"arranging: a trickle PATCH; {described(response)}"
    seen = await observed(server, session.path)
    assert seen["trickle_patches"] == 1 and "1 1 udp 1 127.0.0.1 9 typ host" in seen["remote_candidates"], \
        f"a trickle PATCH is counted and its candidate listed with the offer's; got {seen}"


async def test_sessions_need_the_api_token(start_server):
    server = await start_server(api_token="api-secret")
    response = await server.request("GET", "/client/v4/sessions")
    assert response.status == 401, f"GET /client/v4/sessions takes the --api-token as the other API routes do; {described(response)}"
