"""Two costs aioice and aiortc put on every new peer connection that a join need not pay (issue 24).

- **ICE outcome read late.** aioice's `Connection.connect()` starts a check, then sleeps 20 ms (its
  pacing, RFC 8445's Ta) before it looks again; only when the loop ends does it read the check list's
  outcome. On a path where the first check succeeds in under a millisecond, connect() still returns
  20 ms later, and DTLS (aiortc starts it when connect() returns) waits with it, on both sides: 20 ms
  of every viewer's time to first frame. Here the pacing is kept (a new check starts no sooner than
  every 20 ms) but the wait between two starts ends as soon as the check list has an outcome.
- **A bitrate estimator nobody uses.** aiortc gives every video RTCRtpReceiver a
  RemoteBitrateEstimator at once, whose rate counter allocates 1,000 one-millisecond buckets
  (≈1.3 ms per peer connection, the largest single cost of answering a WHEP offer in py-spy's
  profile). A WHEP viewer's session on the server is sendonly: its receivers never see RTP. The
  estimator is now made on the first packet it is given.

Neither changes what goes on the wire. Written against the pins in pyproject.toml (aioice 0.13.0,
aiortc 1.16.0): `install()` refuses other versions rather than patch code it was not read against.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version

import aioice.ice
import aiortc.rate
import aiortc.rtcrtpreceiver

PACING_S = 0.02  # aioice's own pause between two check starts (RFC 8445 §6.1.4.2's Ta)
PINNED = {"aioice": "0.13.0", "aiortc": "1.16.0"}

_installed = False
_aioice_connect = aioice.ice.Connection.connect  # aioice's own, kept for comparison (tests)


async def _connect(self: aioice.ice.Connection) -> None:
    """aioice 0.13.0's Connection.connect(), with the pause between two check starts ended early when
    the check list completes or fails (the only change: see the module's docstring)."""
    if not self._local_candidates_end:
        raise ConnectionError("Local candidates gathering was not performed")
    if self.remote_username is None or self.remote_password is None:
        raise ConnectionError("Remote username or password is missing")

    for remote_candidate in self._remote_candidates:
        self._pair_remote_candidate(remote_candidate)
    self.sort_check_list()
    self._unfreeze_initial()
    for early_check in self._early_checks:
        self.check_incoming(*early_check)
    self._early_checks.clear()
    self._early_checks_done = True

    res: int | None = None
    while self._check_periodic():
        getter = asyncio.ensure_future(self._check_list_state.get())
        try:
            done, _ = await asyncio.wait({getter}, timeout=PACING_S)
        finally:
            if not getter.done():  # timed out, or connect() itself cancelled (e.g. an ICE restart's deadline):
                getter.cancel()    # a cancelled get() leaves any outcome put meanwhile in the queue
        if done:
            res = getter.result()
            break
    if res is None:
        res = await self._check_list_state.get() if self._check_list else aioice.ice.ICE_FAILED

    for check in self._check_list:
        if check.task:
            check.task.cancel()
    if res != aioice.ice.ICE_COMPLETED:
        raise ConnectionError("ICE negotiation failed")
    self._query_consent_task = asyncio.create_task(self.query_consent())


class LazyRemoteBitrateEstimator:
    """aiortc's RemoteBitrateEstimator, made on the first packet it is asked to account."""

    def __init__(self) -> None:
        self._estimator: aiortc.rate.RemoteBitrateEstimator | None = None

    def add(self, *args, **kwargs):
        if self._estimator is None:
            self._estimator = aiortc.rate.RemoteBitrateEstimator()
        return self._estimator.add(*args, **kwargs)


def install() -> None:
    """Apply both changes, process-wide (idempotent)."""
    global _installed
    if _installed:
        return
    found = {name: version(name) for name in PINNED}
    if found != PINNED:
        raise RuntimeError(f"join_costs was written against {PINNED}, found {found}: re-read it before use")
    aioice.ice.Connection.connect = _connect  # type: ignore[method-assign]
    aiortc.rtcrtpreceiver.RemoteBitrateEstimator = LazyRemoteBitrateEstimator  # type: ignore[misc]
    _installed = True
