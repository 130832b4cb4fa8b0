"""--ice-only-from: a media server reachable only through a TURN server, as one behind a firewall that
admits nothing but its TURN relays is. Every ICE socket of the server hears and speaks only to one
address and port range, the relay addresses of that TURN server: a client gets a session up only by
allocating on the TURN server the 201's Link names (RFC 9725 §4.6) and reaching the server's host
candidates from its relayed candidate. What the client sends from anywhere else (its host candidates,
its server-reflexive ones) is dropped, both ways, as such a firewall drops it.

Process-wide, like ports.restrict_host_addresses: installed by the server's entry point, never by an
in-process test server. Written against aioice 0.13.0 (pinned; see
whip_whep_conformance/webrtc/ice_restart.py): a `StunProtocol` receives by `datagram_received` and
sends by `send_stun` / `send_data`, for every ICE session, restarted ones included.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from aioice.ice import StunProtocol

log = logging.getLogger("reference_server.turn_only")


@dataclass(frozen=True)
class RelayRange:
    """The one source (and destination) the server's ICE sockets admit: `host`, ports `low`..`high`."""

    host: str
    low: int
    high: int

    @classmethod
    def parse(cls, text: str) -> "RelayRange":
        """`HOST:LOW-HIGH` (an IP literal; IPv6 in brackets); ValueError naming what is wrong."""
        host, sep, ports = text.rpartition(":")
        low, dash, high = ports.partition("-")
        if not sep or not dash or not low.isdigit() or not high.isdigit():
            raise ValueError(f"--ice-only-from takes HOST:LOW-HIGH, not {text!r}")
        host = host.strip("[]")
        try:
            ipaddress.ip_address(host)  # a firewall rule names addresses, not host names
        except ValueError:
            raise ValueError(f"--ice-only-from: {host!r} is not an IP address") from None
        if not 0 < int(low) <= int(high) < 65536:
            raise ValueError(f"--ice-only-from: {low}-{high} is not a port range")
        return cls(host, int(low), int(high))

    def admits(self, addr: tuple) -> bool:
        try:  # as addresses, not strings: "::1" and "0:0::1" are one host
            same = ipaddress.ip_address(addr[0].split("%")[0]) == ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return same and self.low <= addr[1] <= self.high


def admit_only(relays: RelayRange) -> None:
    """From now on every ICE socket of this process drops datagrams from, and to, anything but `relays`."""
    receive, send_stun, send_data = StunProtocol.datagram_received, StunProtocol.send_stun, StunProtocol.send_data

    def datagram_received(self: StunProtocol, data: bytes, addr: tuple) -> None:
        if relays.admits(addr):
            receive(self, data, addr)

    def guarded_send_stun(self: StunProtocol, message, addr: tuple) -> None:
        if relays.admits(addr):
            send_stun(self, message, addr)

    async def guarded_send_data(self: StunProtocol, data: bytes, addr: tuple) -> None:
        if relays.admits(addr):
            await send_data(self, data, addr)

    StunProtocol.datagram_received = datagram_received  # type: ignore[method-assign]
    StunProtocol.send_stun = guarded_send_stun  # type: ignore[method-assign]
    StunProtocol.send_data = guarded_send_data  # type: ignore[method-assign]
    log.info("ICE admits only %s:%d-%d (--ice-only-from)", relays.host, relays.low, relays.high)
