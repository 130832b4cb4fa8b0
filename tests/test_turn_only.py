"""The turn-only scenario's two halves, with real components: coturn (harness/clients/turn.py) and the
reference server started with --ice-only-from its relays. A publisher without the TURN server never
gets a session up (the control: the filter is what stops it); one that allocates there does. And the
reading of coturn's log that the TURN cases judge, on the lines coturn 4.6 writes."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness import player
from whip_whep_conformance.harness.clients import turn
from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.webrtc.peer import local_offer

pytestmark = pytest.mark.skipif(not turn.TurnServer("127.0.0.1").binary, reason="coturn's turnserver is not installed")


async def _publish(urls: list[str] | None, wait_s: float) -> tuple[bool, list[turn.TurnAttempt]]:
    """One publisher against a server reachable only through a fresh coturn: (came up in `wait_s`, coturn's view)."""
    server_turn = await turn.TurnServer("127.0.0.1").start()
    server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[], linked_turn=False,
                            extra_args=["--ice-only-from", server_turn.relays])
    target = await asyncio.to_thread(server.start)
    pc = player.publisher("vp8", [server_turn.publisher_url if u == "publisher" else u for u in urls] if urls else None)
    try:
        async with httpx.AsyncClient(timeout=10) as api:
            made = await api.post(target.live_inputs, json={}, headers={"Authorization": f"Bearer {target.api_token}"})
            whip = made.json()["result"]["webRTC"]["url"]
            answer = await api.post(whip, content=await local_offer(pc), headers={"Content-Type": "application/sdp"})
            assert answer.status_code == 201, f"control: the server takes the offer; {answer.status_code} {answer.text}"
            await pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        deadline = time.monotonic() + wait_s
        while pc.connectionState not in ("connected", "failed") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # aiortc offers no awaitable for a state; polled to a deadline
        return pc.connectionState == "connected", turn.attempts(server_turn.log)
    finally:
        await pc.close()
        await asyncio.to_thread(server.stop)
        await server_turn.stop()


def test_a_publisher_without_the_turn_server_never_connects():
    up, seen = asyncio.run(_publish(None, wait_s=6))  # through coturn it takes ~1.5 s
    assert not up and not seen, f"--ice-only-from admits only the relays: up={up}, coturn saw {seen}"


def test_a_publisher_through_the_turn_server_connects():
    up, seen = asyncio.run(_publish(["publisher"], wait_s=15))
    allocated = [a for a in seen if a.outcome == "allocated" and a.username == turn.PUBLISHER_USERNAME]
    assert up and allocated, f"through coturn's relay the session comes up: up={up}, coturn saw {seen}"


def test_coturn_log_lines_read_as_attempts():
    log = "\n".join([
        "0: : session 001: realm <conformance> user <>: incoming packet message processed, error 401: Unauthorized",
        "0: : ERROR: check_stun_auth: user whip=whep credentials are incorrect",
        "0: : ERROR: check_stun_auth: Cannot find credentials of user <whip>",
        '0: : ERROR: check_stun_auth: wrong username: "whip=whep"',
        "0: : session 002: realm <conformance> user <whip=whep>: incoming packet ALLOCATE processed, success",
        "1: : session 002: realm <conformance> user <whip=whep>: incoming packet CREATE_PERMISSION processed, success",
    ])
    assert [str(a) for a in turn.attempts(log)] == [
        "wrong credential as user <whip=whep>", "unknown user as user <whip>", 'refused username as user <"whip=whep">',
        "allocated as user <whip=whep>",
        "relayed as user <whip=whep>"], "each judged authentication, in order; the bare 401 challenge is none"


def test_relay_ports_lie_outside_the_ephemeral_range(tmp_path):
    ranges = tmp_path / "range"
    ranges.write_text("32768\t60999\n")
    assert turn.relay_port_range(ranges) == (61000, 61099), "above the ephemeral range where there is room"
    ranges.write_text("1024 65500\n")
    with pytest.raises(turn.TurnUnavailable):
        turn.relay_port_range(ranges)
