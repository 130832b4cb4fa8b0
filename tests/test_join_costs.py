"""whip_whep_conformance.webrtc.join_costs with real aioice agents and aiortc receivers on loopback:
connect() returns when the check list completes, not at the end of the pacing pause; a failed check
list still fails; the bitrate estimator is made only when a packet is accounted."""

from __future__ import annotations

import asyncio

import aioice
import aioice.stun
import pytest

from whip_whep_conformance.webrtc import peer, join_costs


async def _connect_pair(controlled_has_candidates: bool = True) -> tuple[aioice.Connection, aioice.Connection]:
    """Two aioice agents on 127.0.0.1 with each other's credentials; the controlled one learns the
    controlling one's candidates only if `controlled_has_candidates`."""
    a, b = aioice.Connection(ice_controlling=True), aioice.Connection(ice_controlling=False)
    for agent in (a, b):
        await agent.gather_candidates()
    for mine, theirs in ((a, b), (b, a)):
        mine.remote_username, mine.remote_password = theirs.local_username, theirs.local_password
        if mine is a or controlled_has_candidates:
            for candidate in theirs.local_candidates:
                await mine.add_remote_candidate(candidate)
        await mine.add_remote_candidate(None)
    return a, b


def _run(scenario):
    peer.restrict_host_addresses(["127.0.0.1"])  # importing peer installed join_costs
    try:
        return asyncio.run(scenario())
    finally:
        peer.restrict_host_addresses(None)


def test_connect_returns_when_the_check_list_completes_not_after_the_pause(monkeypatch) -> None:
    # a 30 s pause: aioice's own connect() would return 30 s after its first check, whatever its outcome
    monkeypatch.setattr(join_costs, "PACING_S", 30.0)

    async def scenario() -> None:
        a, b = await _connect_pair()
        try:
            await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 5)
        except asyncio.TimeoutError:
            pytest.fail("connect() did not return within 5 s of a check list that completes on its first "
                        "check: it waited out the pacing pause (30 s here) instead of the outcome")
        finally:
            await a.close()
            await b.close()

    _run(scenario)


def test_connect_still_fails_when_no_check_can_succeed(monkeypatch) -> None:
    monkeypatch.setattr(aioice.stun, "RETRY_MAX", 1)  # an unanswered check fails after 0.5 + 1 s, not 63 s

    async def scenario() -> None:
        a, b = await _connect_pair()
        await b.close()  # nobody answers a's checks
        try:
            with pytest.raises(ConnectionError, match="ICE negotiation failed"):
                await asyncio.wait_for(a.connect(), 30)
        finally:
            await a.close()

    _run(scenario)


def test_the_bitrate_estimator_is_made_on_the_first_packet_only() -> None:
    estimator = join_costs.LazyRemoteBitrateEstimator()
    assert estimator._estimator is None, "a receiver that never gets RTP never pays for the estimator's buckets"
    estimator.add(abs_send_time=0, arrival_time_ms=1000, payload_size=1000, ssrc=1)
    assert estimator._estimator is not None, "the first packet accounted makes aiortc's own estimator"


def test_other_aioice_or_aiortc_versions_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(join_costs, "_installed", False)
    monkeypatch.setattr(join_costs, "PINNED", {**join_costs.PINNED, "aioice": "0.0.1"})
    with pytest.raises(RuntimeError, match="written against"):
        join_costs.install()


def test_a_cancelled_connect_leaves_no_reader_of_the_outcome_behind() -> None:
    async def scenario() -> None:
        a, b = aioice.Connection(ice_controlling=True), aioice.Connection(ice_controlling=False)
        for agent in (a, b):
            await agent.gather_candidates()
        a.remote_username, a.remote_password = b.local_username, b.local_password
        await b.close()  # a's checks go unanswered, and more candidates are expected (no end-of-candidates)
        for candidate in b.local_candidates:
            await a.add_remote_candidate(candidate)
        connecting = asyncio.ensure_future(a.connect())
        await asyncio.sleep(0)  # let connect() start its first check and its wait
        connecting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await connecting
        await asyncio.sleep(0)
        readers = [t for t in asyncio.all_tasks() if "Queue.get" in repr(t.get_coro()) and not t.done()]
        await a.close()
        assert not readers, f"a cancelled connect() left {len(readers)} task(s) waiting on the check list's outcome"

    _run(scenario)
