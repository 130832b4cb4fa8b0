"""Set-up cost of the reference server: WHIP POST→201 and WHEP POST→201 times, sessions per second
(run on purpose; prints figures, asserts nothing).

Method: the reference server runs in its own process (loopback, no token). The offers are made once
by aiortc peers in this process (VP8 + Opus; a WHEP viewer receiving audio and video) and sent again
and again: the server does its whole set-up for each POST (a peer connection, the offer applied, an
answer with its candidates gathered on loopback), which is what is measured. Latency: `--count`
POSTs one after another, each timed from sending the request to the complete 201, then deleted
(not timed). Throughput: `--clients` concurrent clients each POST, then DELETE, for `--seconds`;
sessions per second is the count of 201s over the wall time. WHIP needs one live input per
publisher, so each WHIP client has its own; the WHEP clients share one live input that has a
connected publisher.

    .venv/bin/python benchmarks/setup_cost.py --count 100 --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx
from aiortc import RTCSessionDescription

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.harness.embedded import EmbeddedServer  # noqa: E402
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player
from whip_whep_conformance.protocol import profiles  # noqa: E402
from whip_whep_conformance.harness.measurement import quantile  # noqa: E402

SDP = {"Content-Type": "application/sdp"}


async def create_session(http: httpx.AsyncClient, url: str, offer: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = await http.post(url, content=offer, headers=SDP)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text[:200]}")
    return elapsed, str(httpx.URL(url).join(response.headers["Location"]))


async def latency(http: httpx.AsyncClient, url: str, offer: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        elapsed, session = await create_session(http, url, offer)
        times.append(elapsed * 1000)
        await http.delete(session)
    return times


async def throughput(http: httpx.AsyncClient, urls: list[str], offer: str, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    created = 0

    async def client(url: str) -> None:
        nonlocal created
        while time.monotonic() < deadline:
            _, session = await create_session(http, url, offer)
            created += 1
            await http.delete(session)

    started = time.monotonic()
    await asyncio.gather(*(client(u) for u in urls))
    return created / (time.monotonic() - started)


async def run(count: int, clients: int, seconds: float) -> None:
    server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[])
    server.start()
    peer.restrict_host_addresses(["127.0.0.1"])
    api = {"Authorization": f"Bearer {server.api_token}"}
    collection = f"{server.base_url}/client/v4/accounts/bench/stream/live_inputs"
    try:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients * 2)) as http:
            inputs = [(await http.post(collection, headers=api)).json()["result"] for _ in range(clients + 1)]
            offerer = player.publisher("vp8")
            whip_offer = await peer.local_offer(offerer)
            await offerer.close()
            viewer = peer.new_peer_connection([])
            viewer.addTransceiver("audio", direction="recvonly")
            viewer.addTransceiver("video", direction="recvonly")
            whep_offer = await peer.local_offer(viewer)
            await viewer.close()
            # the WHEP clients' live input is live, as a viewer's would be
            live = inputs[0]
            publishing = player.publisher("vp8")
            answer = await http.post(live["webRTC"]["url"], content=await peer.local_offer(publishing), headers=SDP)
            await publishing.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
            if await peer.wait_connected(publishing, 20) != "connected":
                raise RuntimeError("the publisher did not connect")
            whip_urls = [i["webRTC"]["url"] for i in inputs[1:]]
            whep_url = live["webRTCPlayback"]["url"]

            print(f"machine: 2-core loopback; {count} sequential POSTs each, then {clients} clients for {seconds:g} s")
            for what, url, offer in (("WHIP", whip_urls[0], whip_offer), ("WHEP", whep_url, whep_offer)):
                await latency(http, url, offer, 5)  # warm-up: imports, first codecs
                times = await latency(http, url, offer, count)
                print(f"{what} POST→201: median {statistics.median(times):.1f} ms, p95 {quantile(times, 0.95):.1f} ms, "
                      f"min {min(times):.1f} ms ({count} sequential)", flush=True)
            whip_rate = await throughput(http, whip_urls, whip_offer, seconds)
            print(f"WHIP sessions created per second: {whip_rate:.0f} ({clients} concurrent clients, own live inputs)", flush=True)
            whep_rate = await throughput(http, [whep_url] * clients, whep_offer, seconds)
            print(f"WHEP sessions created per second: {whep_rate:.0f} ({clients} concurrent clients, one live input)", flush=True)
            await publishing.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.clients, args.seconds))


if __name__ == "__main__":
    main()
