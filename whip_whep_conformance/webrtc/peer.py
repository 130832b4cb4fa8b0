"""aiortc peer connections that stay on the network they are told to use.

aioice gathers host candidates on every interface except loopback, and aiortc falls back to a
public STUN server when given no ICE servers. Both are wrong for a conformance tool on a closed
machine, so every peer in the project (suite and server) is made here.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Callable

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from whip_whep_conformance.webrtc import aiortc_vp9, join_costs

# Every peer of the project, suite and server alike, can offer, answer and code VP9,
# and connects without the set-up costs join_costs.py removes.
aiortc_vp9.install()
join_costs.install()

_host_addresses: list[str] | None = None
_original_get_host_addresses = aioice.ice.get_host_addresses


def _configured_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    assert _host_addresses is not None
    chosen = []
    for address in _host_addresses:
        version = ipaddress.ip_address(address).version
        if (version == 4 and use_ipv4) or (version == 6 and use_ipv6):
            chosen.append(address)
    return chosen


def restrict_host_addresses(addresses: list[str] | None) -> None:
    """Offer host candidates only on `addresses` (process-wide: aioice has no per-agent knob).

    None restores aioice's own choice (every non-loopback interface).
    """
    global _host_addresses
    if addresses:
        for address in addresses:
            ipaddress.ip_address(address)  # raises ValueError on a bad --ice-host
        _host_addresses = list(addresses)
        aioice.ice.get_host_addresses = _configured_host_addresses
    else:
        _host_addresses = None
        aioice.ice.get_host_addresses = _original_get_host_addresses


def ice_servers(urls: list[str | RTCIceServer]) -> list[RTCIceServer]:
    """RTCIceServer entries for explicit URLs; `turn:` URLs take `user:pass@` credentials (entries
    already made, e.g. from a Link's username and credential, are kept as they are)."""
    servers = []
    for url in urls:
        if isinstance(url, RTCIceServer):
            servers.append(url)
            continue
        username = credential = None
        scheme, _, rest = url.partition(":")
        if "@" in rest:
            userinfo, _, host = rest.rpartition("@")
            username, _, credential = userinfo.partition(":")
            url = f"{scheme}:{host}"
        servers.append(RTCIceServer(urls=url, username=username, credential=credential))
    return servers


def new_peer_connection(ice_server_urls: list[str | RTCIceServer] | None = None) -> RTCPeerConnection:
    """A peer connection with an explicit ICE server list (empty: no STUN/TURN at all)."""
    return RTCPeerConnection(RTCConfiguration(iceServers=ice_servers(ice_server_urls or [])))


class SilentTrack(MediaStreamTrack):
    """A track that never yields a frame: it lets a sender be negotiated sendonly without media.

    The media relay replaces what flows on it; until then the sender waits instead of polling.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self):  # type: ignore[override]
        await self._never
        raise ConnectionError("silent track ended")

    def stop(self) -> None:
        if not self._never.done():
            self._never.cancel()
        super().stop()




def publisher(ice_server_urls: list[str] | None = None) -> RTCPeerConnection:
    """A WHIP client's peer: one audio and one video track, sendonly, one MediaStream."""
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    pc = new_peer_connection(ice_server_urls)
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    return pc


def viewer(ice_server_urls: list[str] | None = None, kinds: tuple[str, ...] = ("audio", "video")) -> RTCPeerConnection:
    """A WHEP player's peer: recvonly audio and video."""
    pc = new_peer_connection(ice_server_urls)
    for kind in kinds:
        pc.addTransceiver(kind, direction="recvonly")
    return pc


def answer_only_ice(pc: RTCPeerConnection) -> int:
    """Make `pc` start no ICE connectivity checks of its own: it only answers the remote agent's
    checks (and sends the triggered checks RFC 8445 §7.3.1.4 asks for, nominating through them).

    A peer that sends checks lets the server learn its address as a peer-reflexive candidate, so
    the server connects even when it threw the trickled candidates away. Without our checks, only
    candidates the server really applied can connect. aioice has no such mode: this replaces the
    pacing step of its check list (`Connection._check_periodic`, aioice 0.13) with one that starts
    nothing. Returns how many ICE connections were changed (call it after setLocalDescription)."""
    changed = 0
    for transceiver in pc.getTransceivers():
        transport = transceiver.sender.transport
        connection = getattr(getattr(transport, "transport", None), "_connection", None)
        if connection is None or getattr(connection, "_answer_only", False):
            continue
        if not callable(getattr(connection, "_check_periodic", None)):
            raise RuntimeError("aioice has no Connection._check_periodic: answer_only_ice needs updating")
        connection._check_periodic = lambda connection=connection: not connection._check_list_done
        connection._answer_only = True
        changed += 1
    return changed


async def local_offer(pc: RTCPeerConnection) -> str:
    """Create and apply an offer; aiortc gathers every candidate before it returns."""
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def wait_state(pc: RTCPeerConnection, done: Callable[[str], bool], timeout_s: float) -> str | None:
    """Wait until `done(pc.connectionState)`; the state then, or None when `timeout_s` passed first."""
    reached = asyncio.Event()

    def _check() -> None:
        if done(pc.connectionState):
            reached.set()

    pc.on("connectionstatechange", _check)
    _check()
    try:
        await asyncio.wait_for(reached.wait(), timeout_s)
    except asyncio.TimeoutError:
        return None
    return pc.connectionState


async def wait_connected(pc: RTCPeerConnection, timeout_s: float) -> str:
    """Wait until ICE and DTLS are up; returns the final state ('connected', 'failed', or 'timeout')."""
    state = await wait_state(pc, lambda s: s in ("connected", "failed", "closed"), timeout_s)
    return "timeout" if state is None else state
