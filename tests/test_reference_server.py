"""The reference server as its users run it: a process, its command line, its HTTP surface."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx
import pytest

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import profiles

from .offers import aiortc_publisher_offer
from .suite_run import REPO


def _server(pair=profiles.STANDARD, token=False, faults=(), extra=()) -> EmbeddedServer:
    server = EmbeddedServer(pair, token=token, faults=list(faults), ice_servers=[], extra_args=list(extra))
    server.start()
    return server


@pytest.fixture
def server():
    s = _server(extra=["--ice-server", "stun:stun.invalid:3478", "--ice-server", "turn:user:pa%3Bss@turn.invalid:3478"])
    yield s
    s.stop()


def _input(s: EmbeddedServer, http: httpx.Client) -> dict:
    response = http.post(f"{s.base_url}/client/v4/accounts/a/stream/live_inputs", headers={"Authorization": f"Bearer {s.api_token}"})
    assert response.status_code == 201, response.text
    return response.json()["result"]


def test_sigterm_exits_0():
    s = _server()
    assert s.stop() == 0


def test_sigint_exits_0():
    s = _server()
    s.proc.send_signal(2)
    assert s.proc.wait(10) == 0


def test_fault_list_and_unknown_fault():
    listed = subprocess.run([sys.executable, "-m", "reference_server", "--fault", "list"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "post-status-200" in listed.stdout
    bad = subprocess.run([sys.executable, "-m", "reference_server", "--fault", "nope"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown fault" in bad.stderr


def test_api_requires_its_token_and_answers_in_envelopes(server):
    url = f"{server.base_url}/client/v4/accounts/a/stream/live_inputs"
    with httpx.Client(timeout=10) as http:
        refused = http.post(url)
        assert refused.status_code == 401 and refused.json()["success"] is False
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        auth = {"Authorization": f"Bearer {server.api_token}"}
        bad_json = http.post(url, content=b"{", headers=auth)
        assert bad_json.status_code == 400 and bad_json.json()["errors"][0]["code"] == 10005
        missing = http.get(f"{url}/{'0' * 32}", headers=auth)
        assert missing.status_code == 404 and missing.json()["success"] is False


def test_options_answers_cors_without_credentials_and_links_ice_servers(server):
    with httpx.Client(timeout=10) as http:
        live = _input(server, http)
        preflight = http.options(live["webRTC"]["url"], headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
        assert preflight.headers["Accept-Post"] == "application/sdp"
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        assert "link" not in preflight.headers, "no ICE servers on a preflight (RFC 9725 §4.6)"
        plain = http.options(live["webRTC"]["url"])
        links = plain.headers.get_list("link")
        assert links[:2] == ['<stun:stun.invalid:3478>; rel="ice-server"',
                             '<turn:turn.invalid:3478>; rel="ice-server"; username="user"; credential="pa%3Bss"'], \
            "RFC 9725 Figure 5's form, every value quoted"
        # the embedded server also advertises, without using it, the TURN entry the Link checks parse
        assert links[2].startswith('<turn:turn.example.invalid:3478?transport=udp>; rel="ice-server"; username="conformance"')


@pytest.mark.parametrize("pair,status", [(profiles.STANDARD, 204), (profiles.CLOUDFLARE, 405)])
def test_get_on_endpoint_follows_the_profile(pair, status):
    s = _server(pair)
    try:
        with httpx.Client(timeout=10) as http:
            live = _input(s, http)
            response = http.get(live["webRTC"]["url"])
            assert response.status_code == status
            assert response.headers["protocol-version"] == pair.whip
            if status == 405:
                assert "POST" in response.headers["Allow"]
    finally:
        s.stop()


@pytest.mark.parametrize("pair,listed", [(profiles.STANDARD, {"GET", "HEAD"}), (profiles.CLOUDFLARE, set())])
def test_allow_lists_get_only_where_it_is_supported(pair, listed):
    """RFC 9110 §15.5.6: a 405's Allow (and OPTIONS' Allow / Access-Control-Allow-Methods) lists the supported
    methods; under the drafts GET and HEAD get 405, so they are not among them (issue 17, item 12)."""
    s = _server(pair)
    try:
        with httpx.Client(timeout=10) as http:
            url = _input(s, http)["webRTC"]["url"]
            fields = [http.put(url).headers["Allow"], http.options(url).headers["Allow"],
                      http.options(url).headers["Access-Control-Allow-Methods"]]
            if pair == profiles.CLOUDFLARE:
                fields.append(http.get(url).headers["Allow"])
            for value in fields:
                methods = {m.strip() for m in value.split(",")}
                assert "POST" in methods and methods & {"GET", "HEAD"} == listed, value
    finally:
        s.stop()


@pytest.mark.parametrize("pair", [profiles.STANDARD, profiles.CLOUDFLARE], ids=["standard", "cloudflare"])
def test_delete_on_the_publish_url_follows_the_profile(make_server, pair):
    """Cloudflare's example WHIPClient.disconnectStream() DELETEs the publish URL: under draft-ietf-wish-whip-06
    (the Cloudflare profile) that ends the live publisher, and a browser's preflight may send it; under
    RFC 9725 it is 405 with an Allow that does not name DELETE, and the publisher stays."""
    s = make_server(pair)
    cloudflare = pair == profiles.CLOUDFLARE
    with httpx.Client(timeout=10) as http:
        url = _input(s, http)["webRTC"]["url"]
        preflight = http.options(url, headers={"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"})
        nobody = http.delete(url)
        posted = http.post(url, content=aiortc_publisher_offer(), headers={"Content-Type": "application/sdp"})
        assert posted.status_code == 201, posted.text
        deleted = http.delete(url)
        session = http.delete(httpx.URL(url).join(posted.headers["Location"]))
    allowed = {m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")}
    if cloudflare:
        assert "DELETE" in allowed, preflight.headers
        assert (nobody.status_code, deleted.status_code, session.status_code) == (404, 200, 404), \
            "DELETE with nobody publishing, DELETE with a publisher, then DELETE of its session"
    else:
        assert "DELETE" not in allowed and nobody.status_code == 405 and "DELETE" not in deleted.headers["Allow"], deleted.headers
        assert (deleted.status_code, session.status_code) == (405, 200), "the publisher's session is still there after the 405"


async def _publish_and_connect(whip_url: str) -> tuple:
    pc = peer.publisher([])
    offer = await peer.local_offer(pc)
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(whip_url, content=offer, headers={"Content-Type": "application/sdp"})
    assert response.status_code == 201, response.text
    from aiortc import RTCSessionDescription

    await pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
    state = await peer.wait_connected(pc, 10)
    return pc, state, response


def test_sigterm_with_a_connected_publisher_exits_0():
    s = _server()
    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        with httpx.Client(timeout=10) as http:
            live = _input(s, http)

        async def scenario():
            pc, state, _ = await _publish_and_connect(live["webRTC"]["url"])
            assert state == "connected"
            assert s.stop() == 0
            await pc.close()

        asyncio.run(scenario())
    finally:
        peer.restrict_host_addresses(None)
        s.stop()


def test_session_that_never_connects_is_ended():
    s = _server(extra=["--session-timeout", "1"])
    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        with httpx.Client(timeout=10) as http:
            live = _input(s, http)

            async def post_only():
                pc = peer.publisher([])
                offer = await peer.local_offer(pc)
                await pc.close()  # the client vanishes: ICE never connects
                return offer

            offer = asyncio.run(post_only())
            posted = http.post(live["webRTC"]["url"], content=offer, headers={"Content-Type": "application/sdp"})
            assert posted.status_code == 201
            uid_url = f"{s.base_url}/client/v4/accounts/a/stream/live_inputs/{live['uid']}"
            auth = {"Authorization": f"Bearer {s.api_token}"}
            deadline = time.monotonic() + 15
            state = "connected"
            while time.monotonic() < deadline:  # bounded wait on the server's own state
                state = http.get(uid_url, headers=auth).json()["result"]["status"]["current"]["state"]
                if state == "disconnected":
                    break
            assert state == "disconnected", "the unconnected publisher was not ended"
    finally:
        peer.restrict_host_addresses(None)
        s.stop()


def test_a_session_cannot_be_ended_through_another_input_or_protocol(server):
    with httpx.Client(timeout=10) as http:
        mine, other = _input(server, http), _input(server, http)
        text = aiortc_publisher_offer()
        posted = http.post(mine["webRTC"]["url"], content=text, headers={"Content-Type": "application/sdp"})
        sid = posted.headers["Location"].rsplit("/", 1)[1]
        via_other_secret = http.delete(f"{other['webRTC']['url']}/{sid}")
        via_play_url = http.delete(f"{mine['webRTCPlayback']['url']}/{sid}")
        assert (via_other_secret.status_code, via_play_url.status_code) == (404, 404)
        assert http.delete(f"{mine['webRTC']['url']}/{sid}").status_code == 200, "the session survived both attempts"
        assert "Traceback" not in via_other_secret.text
