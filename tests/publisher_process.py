"""A WHIP publisher in its own process, so a test can make it vanish (SIGKILL: no DELETE, no DTLS close).

    python tests/publisher_process.py WHIP_URL   # prints "connected <Location>", then streams until killed
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from aiortc import RTCSessionDescription

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player  # noqa: E402


async def main(url: str) -> None:
    peer.restrict_host_addresses(["127.0.0.1"])
    pc = player.publisher("vp8")
    async with httpx.AsyncClient(timeout=10) as http:
        posted = await http.post(url, content=await peer.local_offer(pc), headers={"Content-Type": "application/sdp"})
    await pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
    state = await peer.wait_connected(pc, 10)
    print(state, posted.headers.get("Location"), flush=True)
    await asyncio.Event().wait()


asyncio.run(main(sys.argv[1]))
