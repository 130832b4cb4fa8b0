"""--drop-path-after: a network path that is lost a while after the session connected, as a mobile
client's Wi-Fi going away is. The server's end of the ICE session then neither answers nor sends: its
sockets drop every datagram, both ways. The client must notice (consent, or media stopping) and restart
ICE (RFC 9725 §4.3.3); the restarted ICE session has new sockets and works normally, and is not dropped.

Written against aioice 0.13.0 (pinned; see whip_whep_conformance/webrtc/ice_restart.py): a `StunProtocol`
receives by `datagram_received` and sends by `send_stun` / `send_data`, so silencing those three on the
connection's current protocols silences that ICE session and nothing else.
"""

from __future__ import annotations

import asyncio
import logging

from aioice import Connection

log = logging.getLogger("reference_server.lost_path")


def silence(connection: Connection) -> int:
    """Make the ICE session `connection` has now deaf and mute (its sockets stay open, as a lost path's
    would be on this side); a restart later moves the connection onto new sockets. Returns how many."""
    protocols = list(connection._protocols)

    async def send_nothing(data: bytes, addr: tuple) -> None:
        return None

    for protocol in protocols:
        protocol.datagram_received = lambda data, addr: None  # type: ignore[method-assign]
        protocol.send_stun = lambda message, addr: None  # type: ignore[method-assign]
        protocol.send_data = send_nothing  # type: ignore[method-assign]
    return len(protocols)


async def drop_after(connected: asyncio.Event, connection: Connection, after_s: float, restarted, label: str) -> None:
    """`after_s` after `connected` is set, silence `connection`'s ICE session, unless an ICE restart
    (`restarted()` true) already replaced it."""
    await connected.wait()
    await asyncio.sleep(after_s)  # the scenario's timer: how long the path lasts
    if restarted():
        return
    count = silence(connection)
    log.info("session %s: its network path is lost (--drop-path-after): %d sockets silent until an ICE restart", label, count)
