"""The load's publishers: the suite's own stamped publisher (harness.player.publisher), one per live input,
so the decoding viewers can read each frame's capture time (webrtc.stamp) for glass-to-glass latency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription

from whip_whep_conformance.harness import player
from whip_whep_conformance.webrtc import peer


class PublishFailed(RuntimeError):
    """The target did not take a publisher: it cannot be load-tested (exit 6)."""


@dataclass
class Publication:
    pc: RTCPeerConnection
    session_url: str | None


async def publish(http: httpx.AsyncClient, whip_url: str, token: str | None, codec: str,
                  ice_servers: list[str], timeout_s: float,
                  created: Callable[[str], None] = lambda url: None) -> Publication:
    """A connected WHIP publisher sending stamped `codec` video and Opus to `whip_url`. `created` gets the
    session URL right after the 201, before ICE/DTLS: a Ctrl-C during them leaves a session to sweep."""
    pc = player.publisher(codec, ice_servers)
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = await http.post(whip_url, content=(await peer.local_offer(pc)).encode(),
                                   headers={"Content-Type": "application/sdp", **auth})
        if response.status_code != 201:
            raise PublishFailed(f"the WHIP POST of the publisher was answered {response.status_code} "
                                f"{response.reason_phrase}: {response.text[:200]!r}")
        session_url = urljoin(str(response.url), response.headers["Location"]) if response.headers.get("Location") else None
        publication = Publication(pc, session_url)
        if session_url:
            created(session_url)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        except Exception as exc:  # aiortc's parser raises bare AssertionError/ValueError
            await unpublish(http, publication, token)
            raise PublishFailed(f"the publisher could not apply the WHIP answer: {type(exc).__name__}: {exc}") from None
        state = await peer.wait_connected(pc, timeout_s)
        if state != "connected":
            await unpublish(http, publication, token)
            raise PublishFailed(f"the publisher's ICE/DTLS {state} within {timeout_s:g} s")
        return publication
    except BaseException:
        await pc.close()
        raise


async def unpublish(http: httpx.AsyncClient, publication: Publication, token: str | None) -> bool:
    """DELETE the publisher's session and close its peer; whether the DELETE was taken."""
    deleted = publication.session_url is None
    if publication.session_url:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            deleted = (await http.delete(publication.session_url, headers=auth)).status_code < 300
        except httpx.HTTPError:
            deleted = False
    await publication.pc.close()
    return deleted
