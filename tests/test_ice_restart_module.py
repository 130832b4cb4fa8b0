"""whip_whep_conformance.webrtc.ice_restart with two real aiortc peers on loopback: a restart on both sides keeps
DTLS/SRTP and media, a failed one keeps the old ICE session, and other aiortc/aioice versions are refused."""

from __future__ import annotations

import asyncio
from typing import Callable

import pytest
from aiortc import RTCSessionDescription

from whip_whep_conformance.webrtc import ice_restart, peer
from whip_whep_conformance.harness.player import Player, publisher


async def _pair():
    sender, receiver = publisher("vp8"), Player()
    await receiver.pc.setRemoteDescription(RTCSessionDescription(await peer.local_offer(sender), "offer"))
    await receiver.pc.setLocalDescription(await receiver.pc.createAnswer())
    await sender.setRemoteDescription(receiver.pc.localDescription)
    assert await receiver.wait_frames("video", 10, 10), "arrange: media flows before the restart"
    return sender, receiver


async def _restart(a, b, answer_checks: bool = True,
                   watch: Callable[[ice_restart.IceRestart], None] | None = None) -> tuple[bool, bool]:
    """Restart both sides' ICE, exchanging credentials and candidates in-process (`watch(restart)`
    sees each restart once it has begun)."""
    ra, rb = await ice_restart.IceRestart.begin(a), await ice_restart.IceRestart.begin(b)
    for restart in (ra, rb) if watch else ():
        watch(restart)
    for mine, theirs in ((ra, rb), (rb, ra)):
        mine.set_remote(theirs.local_username, theirs.local_password)
        for candidate in theirs.local_candidates if answer_checks or mine is rb else []:
            await mine.add_remote_candidate(candidate)
        await mine.add_remote_candidate(None)
    if not answer_checks:  # the far side never runs its new agent: a faked restart
        await rb.abandon()
        return await ra.complete(2), False
    done = await asyncio.gather(ra.complete(10), rb.complete(10))
    return done[0], done[1]


async def _exchange(ra: ice_restart.IceRestart, rb: ice_restart.IceRestart) -> None:
    """Each restart gets the other's credentials and every candidate, then end-of-candidates."""
    for mine, theirs in ((ra, rb), (rb, ra)):
        mine.set_remote(theirs.local_username, theirs.local_password)
        for candidate in theirs.local_candidates:
            await mine.add_remote_candidate(candidate)
        await mine.add_remote_candidate(None)


def _run(scenario):
    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        return asyncio.run(scenario())
    finally:
        peer.restrict_host_addresses(None)


def test_restart_keeps_media_flowing_on_new_sockets():
    async def scenario():
        sender, receiver = await _pair()
        try:
            before = {p.protocol for p in ice_restart.ice_connection(sender)._nominated.values()}
            completed = await _restart(sender, receiver.pc)
            after = {p.protocol for p in ice_restart.ice_connection(sender)._nominated.values()}
            count = receiver.streams["video"].frames
            flowing = await receiver.wait_frames("video", 30, 10)
            return completed, before.isdisjoint(after), flowing, receiver.streams["video"].frames - count
        finally:
            await receiver.close()
            await sender.close()

    completed, new_sockets, flowing, frames = _run(scenario)
    assert completed == (True, True) and new_sockets and flowing, (completed, new_sockets, frames)


def test_sending_moves_to_the_new_pair_in_the_step_that_nominates_it():
    """The peer sends on the new pair as soon as it has nominated it; what it sends is answered here
    (NACK, PLI) from the next datagram on. Had the switch waited for connect() to return, those answers
    would leave on the old pair, lost for good when that path is broken (the flaky recovery case)."""
    seen: list[tuple[bool, bool]] = []  # per side, at its nomination: (sends on a new socket, sends on an old one)

    def watch(restart: ice_restart.IceRestart) -> None:
        agent, check_complete = restart.agent, restart.agent.check_complete
        old = set(restart.current._protocols)

        def recorded(pair: object) -> None:
            was_done = agent._check_list_done
            check_complete(pair)
            if not was_done and agent._check_list_done:
                used = {p.protocol for p in restart.current._nominated.values()}
                seen.append((used <= set(agent._protocols), bool(used & old)))

        agent.check_complete = recorded

    async def scenario():
        sender, receiver = await _pair()
        try:
            return await _restart(sender, receiver.pc, watch=watch)
        finally:
            await receiver.close()
            await sender.close()

    completed = _run(scenario)
    assert completed == (True, True) and seen == [(True, False), (True, False)], (completed, seen)


def test_unanswered_restart_keeps_the_old_ice_session():
    async def scenario():
        sender, receiver = await _pair()
        try:
            before = dict(ice_restart.ice_connection(sender)._nominated)
            completed, _ = await _restart(sender, receiver.pc, answer_checks=False)
            kept = ice_restart.ice_connection(sender)._nominated == before
            return completed, kept, await receiver.wait_frames("video", 15, 10)
        finally:
            await receiver.close()
            await sender.close()

    assert _run(scenario) == (False, True, True)


def test_other_aioice_versions_are_refused(monkeypatch):
    versions = {"aiortc": "1.16.0", "aioice": "0.99.0"}
    monkeypatch.setattr(ice_restart.importlib.metadata, "version", lambda name: versions[name])
    with pytest.raises(ice_restart.IceRestartError, match="aioice 0.13.0, found 0.99.0"):
        ice_restart.check_versions()


def test_restart_before_connecting_is_refused():
    async def scenario():
        pc = peer.new_peer_connection()
        pc.addTransceiver("audio", direction="sendonly")
        await peer.local_offer(pc)
        try:
            await ice_restart.IceRestart.begin(pc)
        finally:
            await pc.close()

    with pytest.raises(ice_restart.IceRestartError, match="nothing to restart"):
        _run(scenario)


def test_restart_before_connecting_brings_the_session_up_on_the_new_pair():
    """begin(before_connected=True): the first ICE session cannot connect (each side got no candidate, and
    waits for more); the restart's agents nominate, the first session's pending connect() returns, and
    DTLS and media come up on the new pair (a client applying the 201's TURN server, RFC 9725 §4.6 NOTE)."""
    from whip_whep_conformance.protocol.sdp import without_candidates

    async def scenario():
        sender, receiver = publisher("vp8"), Player()
        try:
            offer = without_candidates(await peer.local_offer(sender))
            await receiver.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            await receiver.pc.setLocalDescription(await receiver.pc.createAnswer())
            answer = without_candidates(receiver.pc.localDescription.sdp)
            await sender.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            with pytest.raises(ice_restart.IceRestartError, match="nothing to restart"):
                await ice_restart.IceRestart.begin(sender)  # the default still refuses
            ra = await ice_restart.IceRestart.begin(sender, before_connected=True)
            rb = await ice_restart.IceRestart.begin(receiver.pc, before_connected=True)
            await _exchange(ra, rb)
            completed = await asyncio.gather(ra.complete(10), rb.complete(10))
            state = await peer.wait_connected(sender, 10)
            return completed, state, await receiver.wait_frames("video", 10, 10)
        finally:
            await receiver.close()
            await sender.close()

    assert _run(scenario) == ([True, True], "connected", True)


def test_restart_gathers_with_the_servers_given():
    """begin(servers=...): the new agent gathers with those STUN/TURN servers, and the session keeps them
    for its later restarts; an unknown keyword is refused."""
    async def scenario():
        sender, receiver = await _pair()
        try:
            with pytest.raises(ice_restart.IceRestartError, match="not STUN/TURN arguments"):
                await ice_restart.IceRestart.begin(sender, {"stun": ("127.0.0.1", 9)})
            # credentials without a TURN server: nothing to allocate, so nothing leaves the machine
            servers = {"turn_username": "u=1", "turn_password": "p=2"}
            ra = await ice_restart.IceRestart.begin(sender, servers)
            rb = await ice_restart.IceRestart.begin(receiver.pc)
            agent = (ra.agent.turn_server, ra.agent.turn_username, ra.agent.turn_password)
            await _exchange(ra, rb)
            await asyncio.gather(ra.complete(10), rb.complete(10))
            kept = ice_restart.ice_connection(sender)
            return agent, (kept.turn_server, kept.turn_username, kept.turn_password)
        finally:
            await receiver.close()
            await sender.close()

    agent, kept = _run(scenario)
    assert agent == kept == (None, "u=1", "p=2"), (agent, kept)
