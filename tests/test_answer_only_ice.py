"""peer.answer_only_ice: a peer that starts no ICE checks connects only through candidates the
other side really has (the media-plane proof of trickle ICE rests on it)."""

from __future__ import annotations

import asyncio

from aiortc import RTCSessionDescription

from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import sdp


async def _connect(strip_offer_candidates: bool) -> tuple[str, str]:
    offerer = peer.new_peer_connection()
    offerer.addTransceiver("audio", direction="sendonly")
    answerer = peer.new_peer_connection()
    try:
        offer = await peer.local_offer(offerer)
        assert peer.answer_only_ice(offerer) == 1, "one bundled ICE connection to change"
        sent = sdp.without_candidates(offer) if strip_offer_candidates else offer
        await answerer.setRemoteDescription(RTCSessionDescription(sent, "offer"))
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        states = await asyncio.gather(peer.wait_connected(offerer, 3), peer.wait_connected(answerer, 3))
        return states[0], states[1]
    finally:
        await offerer.close()
        await answerer.close()


def _run(strip: bool) -> tuple[str, str]:
    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        return asyncio.run(_connect(strip))
    finally:
        peer.restrict_host_addresses(None)


def test_answer_only_peer_connects_when_the_other_side_has_its_candidates():
    assert _run(strip=False) == ("connected", "connected")


def test_answer_only_peer_cannot_be_found_without_its_candidates():
    """No checks from us, none toward us: no peer-reflexive shortcut, no connection."""
    assert _run(strip=True) == ("timeout", "timeout")
