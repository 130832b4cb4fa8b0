"""Real offers for the project's tests, made by aiortc on loopback."""

from __future__ import annotations

import asyncio

from whip_whep_conformance.webrtc import peer


def aiortc_publisher_offer() -> str:
    """A WHIP offer from an aiortc publisher whose only host candidate is 127.0.0.1."""

    async def make() -> str:
        pc = peer.publisher([])
        try:
            return await peer.local_offer(pc)
        finally:
            await pc.close()

    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        return asyncio.run(make())
    finally:
        peer.restrict_host_addresses(None)
