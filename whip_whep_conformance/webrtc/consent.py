"""ICE consent (RFC 7675) as a client sees it: does the media server's ICE agent still answer Binding
requests for the session?

A media server that ends a session must withdraw consent at once (RFC 9725 §4.2, draft-ietf-wish-whep-03
§4.3): its ICE agent stops answering. aioice checks consent only every ~5 s and gives up after 30 s,
so this sends checks on demand: Binding requests with the session's credentials (USERNAME, MESSAGE-
INTEGRITY keyed by the server's ice-pwd), as a consent check is, to the server's address on the
nominated pair. They go from a socket of their own, next to the session's: a live agent answers a
valid check from any address (RFC 8445 §7.3), and the session's own socket may already be closed by
aiortc once the server's DTLS close arrives. The credentials are read from aioice's private state
(aioice 0.13.0: the pin `ice_restart` checks).
"""

from __future__ import annotations

import asyncio
import copy
import time

from aioice import stun
from aiortc import RTCPeerConnection

from whip_whep_conformance.webrtc.ice_restart import ice_connection

CHECK_INTERVAL_S = 0.1  # between answered checks: fine enough to time "at once", far from flooding
RETRANSMISSION_WAITS_S = (0.5, 1.0)  # RFC 8489's RTO 500 ms, doubled once: 1.5 s before a check is unanswered


class _Replies(asyncio.DatagramProtocol):
    """Completes `reply` with the first authentic response to `transaction_id`: True for a success
    response, False for an error one (RFC 7675 grants consent only with a success: a server whose
    shared port answers 401/400 for an ended session's credentials has withdrawn it)."""

    def __init__(self, reply: asyncio.Future[bool], transaction_id: bytes, key: bytes) -> None:
        self.reply, self.transaction_id, self.key = reply, transaction_id, key

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            message = stun.parse_message(data)
        except ValueError:
            return
        if message.transaction_id != self.transaction_id or self.reply.done():
            return
        # A success must be signed with the session's password; a refusal need not be (RFC 8489 §9.1.4).
        if message.message_class == stun.Class.ERROR or (message.message_class == stun.Class.RESPONSE
                                                          and message.check_message_integrity(self.key)):
            self.reply.set_result(message.message_class == stun.Class.RESPONSE)


class ConsentCheck:
    """Consent checks for a connected session; its credentials and the server's address are taken at
    construction, while the session is connected, so checks can still be sent after it ends."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        connection = ice_connection(pc)
        pairs = list(connection._nominated.values())
        self.server_address: tuple[str, int] | None = pairs[0].remote_addr if pairs else None
        self._local_host = pairs[0].local_candidate.host if pairs else None
        self._pair = pairs[0] if pairs else None
        self._username = f"{connection.remote_username}:{connection.local_username}"
        self._key = (connection.remote_password or "").encode("utf8")
        self._controlling = connection.ice_controlling
        self._tie_breaker = connection._tie_breaker

    def aimed_at(self, address: tuple[str, int]) -> "ConsentCheck":
        """The same checks, sent to another server address (one of its candidates off the nominated pair)."""
        other = copy.copy(self)
        other.server_address = address
        return other

    def _request(self, signed: bool = True) -> stun.Message:
        request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
        request.attributes["USERNAME"] = self._username
        request.attributes["PRIORITY"] = 1
        request.attributes["ICE-CONTROLLING" if self._controlling else "ICE-CONTROLLED"] = self._tie_breaker
        if signed:
            request.add_message_integrity(self._key)
        return request

    async def answered_on_the_pair(self) -> bool | None:
        """One check (retransmitted once) from the nominated pair's own socket, as aioice's consent checks
        go: through the TURN relay where the pair is relayed, which a socket of its own would bypass (and a
        server reachable only through that relay never answers). True/False/None as `answered`."""
        if self._pair is None or self.server_address is None:
            return None
        try:
            await self._pair.protocol.request(self._request(signed=False), self.server_address,
                                              integrity_key=self._key, retransmissions=1)
            return True
        except (stun.TransactionError, ConnectionError):
            return False

    @property
    def relayed(self) -> bool:
        """Whether the nominated pair runs through a TURN relay (its local candidate is a relayed one)."""
        return self._pair is not None and self._pair.local_candidate.type == "relay"

    async def answered(self) -> bool | None:
        """Send one check (retransmitted once): True if the server granted consent (a success response),
        False if it went unanswered or was refused, None if there is no nominated pair to take the
        address and credentials from."""
        if self.server_address is None or self._local_host is None:
            return None
        loop = asyncio.get_running_loop()
        request = self._request()
        reply: asyncio.Future[bool] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Replies(reply, request.transaction_id, self._key),
                                                           local_addr=(self._local_host, 0))
        try:
            for wait_s in RETRANSMISSION_WAITS_S:
                transport.sendto(bytes(request), self.server_address)
                try:
                    return await asyncio.wait_for(asyncio.shield(reply), wait_s)
                except asyncio.TimeoutError:
                    continue
            return False
        finally:
            transport.close()

    async def wait_withdrawn(self, timeout_s: float, interval_s: float = CHECK_INTERVAL_S) -> float | None:
        """Check every `interval_s` until a check goes unanswered: the seconds from the first check to
        that one's sending (an upper bound on when consent went), or None if every check sent within
        `timeout_s` was answered."""
        started = time.monotonic()
        while True:
            sent = time.monotonic()
            if sent - started >= timeout_s:
                return None
            answered = await self.answered()
            if answered is None:
                return None
            if not answered:
                return sent - started
            await asyncio.sleep(interval_s)  # pacing, as consent checks are paced (RFC 7675 §5.1)


def go_silent(pc: RTCPeerConnection) -> None:
    """Make the client vanish as a crashed or disconnected one does: its ICE sockets close, with no
    DTLS close_notify and no DELETE, so only the server's consent freshness can notice."""
    for protocol in list(ice_connection(pc)._protocols):
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.close()
