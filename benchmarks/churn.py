"""Resource hygiene under churn: create and delete publishers and viewers many times, then check
that the server holds no sessions, tasks, file descriptors or UDP sockets more than before.

Sessions are created by POSTing real aiortc offers (the server gathers ICE and binds sockets for
each); every `--connect-every`-th cycle also connects the publisher and a viewer over ICE/DTLS.

    .venv/bin/python benchmarks/churn.py --cycles 1000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx
from aiortc import RTCSessionDescription

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.harness.embedded import EmbeddedServer  # noqa: E402
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import profiles  # noqa: E402


def udp_sockets(pid: int) -> int:
    inodes = set()
    for proto in ("udp", "udp6"):
        path = Path(f"/proc/{pid}/net/{proto}")
        if path.exists():
            inodes |= {line.split()[9] for line in path.read_text().splitlines()[1:]}
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


async def snapshot(http: httpx.AsyncClient, server: EmbeddedServer) -> dict:
    stats = (await http.get(f"{server.base_url}/client/v4/stats", headers={"Authorization": f"Bearer {server.api_token}"})).json()["result"]
    return stats | {"udp_sockets": udp_sockets(server.proc.pid)}


async def settle(http: httpx.AsyncClient, server: EmbeddedServer, before: dict, timeout_s: float = 30) -> dict:
    """Wait (bounded) for closing peer connections to finish releasing what they held."""
    deadline = time.monotonic() + timeout_s
    now = await snapshot(http, server)
    while time.monotonic() < deadline and any(now[k] > before[k] for k in ("sessions", "tasks", "open_fds", "udp_sockets")):
        await asyncio.sleep(0.5)  # polling the server's own counters, bounded by the deadline
        now = await snapshot(http, server)
    return now


async def churn(cycles: int, connect_every: int) -> tuple[dict, dict, float]:
    server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[])
    server.start()
    peer.restrict_host_addresses(["127.0.0.1"])
    api_auth = {"Authorization": f"Bearer {server.api_token}"}
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            before = await snapshot(http, server)
            pub_pc, view_pc = peer.publisher([]), peer.viewer([])
            pub_offer, view_offer = await peer.local_offer(pub_pc), await peer.local_offer(view_pc)
            await pub_pc.close(), await view_pc.close()
            started = time.monotonic()
            for cycle in range(cycles):
                live = (await http.post(f"{server.base_url}/client/v4/accounts/churn/stream/live_inputs", headers=api_auth)).json()["result"]
                connect = connect_every and cycle % connect_every == 0
                pcs = []
                if connect:
                    pub, viewer = peer.publisher([]), peer.viewer([])
                    pcs = [pub, viewer]
                    offers = [await peer.local_offer(pub), await peer.local_offer(viewer)]
                else:
                    offers = [pub_offer, view_offer]
                locations = []
                for url, offer, pc in zip((live["webRTC"]["url"], live["webRTCPlayback"]["url"]), offers, pcs or [None, None]):
                    posted = await http.post(url, content=offer, headers={"Content-Type": "application/sdp"})
                    assert posted.status_code == 201, posted.text
                    locations.append(str(httpx.URL(url).join(posted.headers["Location"])))
                    if pc is not None:
                        await pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
                for pc in pcs:
                    assert await peer.wait_connected(pc, 20) == "connected"
                for location in reversed(locations):
                    assert (await http.delete(location)).status_code == 200
                assert (await http.delete(f"{server.base_url}/client/v4/accounts/churn/stream/live_inputs/{live['uid']}", headers=api_auth)).status_code == 200
                for pc in pcs:
                    await pc.close()
                if (cycle + 1) % 100 == 0:
                    print(f"  {cycle + 1} cycles, {await snapshot(http, server)}", flush=True)
            elapsed = time.monotonic() - started
            after = await settle(http, server, before)
    finally:
        server.stop()
        server._stderr.seek(0)
        errors = server._stderr.read()
        if errors.strip():
            print("server stderr:\n" + errors[-3000:])
    return before, after, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--connect-every", type=int, default=20, help="connect ICE/DTLS on every Nth cycle (0: never)")
    args = parser.parse_args()
    before, after, elapsed = asyncio.run(churn(args.cycles, args.connect_every))
    print(f"{args.cycles} cycles (publisher + viewer created and deleted each; every {args.connect_every}th connected) in {elapsed:.1f} s")
    print(f"before: {before}")
    print(f"after:  {after}")
    leaked = {k: after[k] - before[k] for k in ("live_inputs", "sessions", "tasks", "open_fds", "udp_sockets") if after[k] > before[k]}
    print(f"leaked: {leaked or 'nothing'}")
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
