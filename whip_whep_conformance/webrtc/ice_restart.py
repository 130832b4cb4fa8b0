"""ICE restart for aiortc peer connections (RFC 8445 §9, RFC 8839 §4.4.1.1.1), as WHIP and WHEP drive
it by PATCH (RFC 9725 §4.3.3, draft-ietf-wish-whep-03 §4.4.3).

aiortc keeps one aioice `Connection` per transport for life and has no restart. A restart here
runs a second, fresh agent — new ufrag/pwd, newly gathered candidates (new sockets), its own
checks and nomination — beside the working one, which keeps carrying media meanwhile. When the new
agent has nominated a pair, its state is moved into the connection aiortc holds (so the DTLS
association, SRTP keys and every reader stay as they are) and the old sockets are closed. If the
new agent fails, nothing changes: the session keeps its current ICE session (RFC 9725 §4.3.3).

The move happens inside the new agent's nomination itself (its check_complete), not when connect()
returns: that is two or three event-loop turns later, and the peer, once it has nominated too, sends
media on the new pair at once. Whatever arrived in those turns was answered on the old pair (its
NACKs and PLIs), which after a broken path is lost for good: aiortc asks once per gap, and its jitter
buffer then waits on the hole until 512 packets have passed (about 7.5 s of this suite's video).

    restart = await IceRestart.begin(pc)           # new credentials and candidates to send
                                                   # (servers=: gather with other STUN/TURN servers)
    restart.set_remote(ufrag, pwd, candidates, end_of_candidates=True)
    ok = await restart.complete(timeout_s=10)      # checks, nomination, switch-over

A restart may also begin while the first ICE session is still checking (`before_connected=True`):
how a client applies STUN/TURN servers it learnt only after gathering (the 201's Links, RFC 9725 §4.6
NOTE). If the new agent nominates first, the first session's checks are cancelled and its pending
connect() returns as if it had completed, on the new pair, so aiortc goes on to DTLS as usual.

Written against aiortc 1.16.0 / aioice 0.13.0 (pinned in pyproject.toml); `check_versions()` refuses
others, as the move reaches into aioice's private state.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging

from typing import Any, Mapping

from aioice import Candidate, Connection
from aioice.ice import ICE_COMPLETED
from aiortc import RTCPeerConnection

log = logging.getLogger("whip_whep.ice_restart")

SUPPORTED = {"aiortc": ("1.16.0",), "aioice": ("0.13.0",)}
# aioice Connection attributes the switch-over moves or relies on.
_STATE = ("_local_username", "_local_password", "remote_username", "remote_password", "remote_is_lite",
          "_local_candidates", "_remote_candidates", "_remote_candidates_end", "_check_list", "_nominated",
          "_nominating", "_protocols", "_tie_breaker", "ice_controlling", "_query_consent_task", "_components",
          "stun_server", "turn_server", "turn_username", "turn_password", "turn_ssl", "turn_transport")
# The STUN/TURN keyword arguments of aioice's Connection: what `begin(servers=...)` may replace.
SERVER_ARGS = ("stun_server", "turn_server", "turn_username", "turn_password", "turn_ssl", "turn_transport")


class IceRestartError(RuntimeError):
    """The installed aiortc/aioice are not the ones this module was written for, or a restart cannot start."""


def check_versions() -> None:
    for package, versions in SUPPORTED.items():
        found = importlib.metadata.version(package)
        if found not in versions:
            raise IceRestartError(f"ICE restart supports {package} {', '.join(versions)}, found {found}: check "
                                  "whip_whep_conformance/webrtc/ice_restart.py against it (aioice Connection internals) before widening the pin")
    probe = Connection(ice_controlling=False)
    missing = [name for name in _STATE if not hasattr(probe, name)]
    if missing:
        raise IceRestartError(f"aioice Connection lacks {missing}: the ICE restart needs updating")


def ice_connection(pc: RTCPeerConnection) -> Connection:
    """The aioice connection of a bundled peer connection (the first transceiver's transport)."""
    for transceiver in pc.getTransceivers():
        transport = transceiver.sender.transport
        connection = getattr(getattr(transport, "transport", None), "_connection", None)
        if connection is not None:
            return connection
    raise IceRestartError("the peer connection has no ICE transport yet (apply a description first)")


class IceRestart:
    """One ICE restart of one peer connection, from gathering to switch-over."""

    def __init__(self, current: Connection, agent: Connection, pc: RTCPeerConnection | None = None) -> None:
        self.current = current
        self.agent = agent
        self.pc = pc  # whose transport the move must find alive (aiortc cannot bring a failed one back)
        self.done = False
        self._retired: list | None = None  # the old sockets, once the state has moved (closed by complete())
        self._watch_nomination()

    @classmethod
    async def begin(cls, pc: RTCPeerConnection, servers: Mapping[str, Any] | None = None,
                    before_connected: bool = False) -> "IceRestart":
        """Start a restart: a new agent in the same role, with new credentials and freshly gathered candidates.

        `servers` (aioice Connection keywords, SERVER_ARGS) replaces the current STUN/TURN servers, for
        this gathering and the session's later ones; `before_connected` allows a restart while the
        first ICE session is still checking (otherwise refused: nothing to restart)."""
        check_versions()
        current = ice_connection(pc)
        if current._closing or (not current._nominated and not before_connected):
            raise IceRestartError("ICE has not connected (or has closed): there is nothing to restart")
        if pc.iceConnectionState == "failed" or (current._check_list_done and not current._nominated):
            raise IceRestartError("ICE has failed: aiortc's transport cannot be brought back by a restart")
        unknown = set(servers or {}) - set(SERVER_ARGS)
        if unknown:
            raise IceRestartError(f"not STUN/TURN arguments of aioice's Connection: {sorted(unknown)}")
        chosen = {name: getattr(current, name) for name in SERVER_ARGS}
        chosen.update(servers or {})
        agent = Connection(
            ice_controlling=current.ice_controlling,
            components=len(current._components),
            **chosen,
            use_ipv4=current._use_ipv4, use_ipv6=current._use_ipv6,
            transport_policy=current._transport_policy,
        )
        # Media that reaches the new sockets before the switch-over belongs to the working session.
        agent.data_received = current.data_received  # type: ignore[method-assign]
        await agent.gather_candidates()
        return cls(current, agent, pc)

    @property
    def local_username(self) -> str:
        return self.agent.local_username

    @property
    def local_password(self) -> str:
        return self.agent.local_password

    @property
    def local_candidates(self) -> list[Candidate]:
        return self.agent.local_candidates

    def set_remote(self, username: str, password: str, ice_lite: bool = False) -> None:
        self.agent.remote_username, self.agent.remote_password = username, password
        self.agent.remote_is_lite = ice_lite

    async def add_remote_candidate(self, candidate: Candidate | None) -> None:
        """A remote candidate of the restarted session (None: end-of-candidates)."""
        if not self.agent._remote_candidates_end:
            await self.agent.add_remote_candidate(candidate)

    async def complete(self, timeout_s: float, retire_old: bool = True) -> bool:
        """Run the new agent's checks; on nomination switch the session over to it. False (and the
        old ICE session kept) when it does not connect within `timeout_s`. `retire_old=False` leaves
        the old sockets open and answering (a fault of the reference server: RFC 9725 §4.3.3 wants
        only the newly exchanged candidates used)."""
        try:
            await asyncio.wait_for(self.agent.connect(), timeout_s)
        except (ConnectionError, asyncio.TimeoutError) as exc:
            if self._retired is None:
                log.info("ICE restart failed (%s); keeping the current ICE session", exc or "timeout")
                await self.abandon()
                return False
            # nominated (and moved) just as the deadline struck: the new session is the session now
        except asyncio.CancelledError:  # the session ended meanwhile: free the new agent's sockets
            if self._retired is None:  # (once moved, every socket is the connection's, closed with it)
                await self.abandon()
            raise
        if self._retired is None:  # connect() returned without a nomination having moved the state
            await self.abandon()
            return False
        await self._finish_switch_over(retire_old)
        self.done = True
        return True

    async def abandon(self) -> None:
        """Drop the new agent (its sockets) and keep the current ICE session."""
        self.agent.data_received = lambda data, component: None  # type: ignore[method-assign]
        await self.agent.close()

    def _watch_nomination(self) -> None:
        """Move the state the moment the new agent's check list completes (every component nominated),
        in the same step: no datagram the peer sends on the new pair is handled, and answered, before."""
        agent, check_complete = self.agent, self.agent.check_complete

        def on_check_complete(pair: object) -> None:
            was_done = agent._check_list_done
            check_complete(pair)
            completed = not was_done and agent._check_list_done and len(agent._nominated) == len(agent._components)
            if completed and self._retired is None and not self.current._closing and not self._failed():
                self._move_state()

        agent.check_complete = on_check_complete  # type: ignore[method-assign]

    def _failed(self) -> bool:
        """The first ICE session failed while this restart ran (its connect() raised, aiortc's transport
        is failed for good): moving onto it would report a restart that can never carry DTLS."""
        return self.pc is not None and self.pc.iceConnectionState == "failed"

    def _move_state(self) -> None:
        """The switch-over proper (synchronous): `current` takes the new agent's credentials, pairs and sockets."""
        current, agent = self.current, self.agent
        still_checking = not current._check_list_done  # a restart begun before_connected, first
        if still_checking:
            for pair in current._check_list:  # the first session's checks end here
                if pair.task is not None:
                    pair.task.cancel()
        self._retired = current._protocols
        for protocol in agent._protocols:
            protocol.receiver = current
        for name in _STATE:
            if name not in ("_query_consent_task", "_components"):
                setattr(current, name, getattr(agent, name))
        current._protocols = agent._protocols + self._retired  # the old ones until complete() closes them
        if still_checking:  # the connect() aiortc awaits returns now, on the moved nominated pair
            current._check_list_done = True
            current._check_list_state.put_nowait(ICE_COMPLETED)

    async def _finish_switch_over(self, retire_old: bool) -> None:
        """What the move leaves: the new agent's own consent task, and the old sockets."""
        current, agent, retired = self.current, self.agent, self._retired or []
        if agent._query_consent_task is not None:
            agent._query_consent_task.cancel()  # the current connection's consent task goes on, on the new pair
        if retire_old and not current._closing:  # (a closing connection closes them all itself)
            current._protocols = agent._protocols
            for protocol in retired:
                await protocol.close()
        # else: still open and answering, closed with the connection
        log.info("ICE restart complete: nominated %s", list(current._nominated.values()))
