"""The server's consent checks (RFC 7675), counted for GET /client/v4/sessions, and what their expiry
ends: a WHEP viewer at once (as aioice does), a WHIP ingest only once its media stops too.

aioice checks consent every ~5 s and, after six unanswered checks (~30 s: RFC 7675 §5.1's consent
timeout), closes the whole ICE connection, so the session's transport fails and the server ends the
session. For a WHEP viewer that is right: the server sends it media, and on expiry it must stop
(§5.1). For a WHIP publisher it is more than RFC 7675 asks. Consent is consent *to send*: expiry
obliges the agent that checked to cease sending on that 5-tuple; it says nothing about receiving,
and nothing about ending a session. RFC 9725 §4.2 uses consent freshness "to detect non-graceful
disconnection", and a publisher whose SRTP (authenticated by the session's DTLS-SRTP keys) keeps
arriving has not disconnected. FFmpeg 8's WHIP muxer answers only the first consent check and so
lost its ingest after ~33 s.

So on a WHIP session, expiry here does what §5.1 requires, the server stops sending on the pair (to
a publisher that is only RTCP: receiver reports, keyframe requests, NACKs) and checks no more (the
same credentials may not regain consent on that 5-tuple), and the session lives while the
publisher's RTP keeps arriving. Once RTP has been silent for MEDIA_SHOWS_LIFE_S after expiry (or
already was at expiry), the ICE connection is closed as aioice would have closed it, and the
session ends through the same path (a peer that vanished is still ended within the consent
timeout). An ICE restart (new credentials, whose checks succeeded) obtains consent anew. The media timeout (--media-timeout) still ends a publisher whose RTP stops, consent or not.

Written against aioice 0.13.0's `Connection` (pinned; see whip_whep_conformance/webrtc/ice_restart.py): its consent loop
is replaced per connection (WHIP and WHEP), before ICE connects, by this one, which checks the same way
and counts the checks sent and answered on the session's observation.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Callable

from aioice import Connection, stun
from aioice.ice import CONSENT_FAILURES, CONSENT_INTERVAL

from .observations import Observation

log = logging.getLogger("reference_server.consent")

MEDIA_SHOWS_LIFE_S = 5.0  # RTP within this long counts as a publisher still there (~250 packets at 30 fps + Opus)
WATCH_EVERY_S = 1.0


def check_consent(connection: Connection, observed: Observation, last_media: Callable[[], float] | None, label: str) -> None:
    """Check consent on `connection` (a session's ICE agent), counting the checks on `observed`. On
    expiry a WHEP agent (`last_media` None) closes at once; a WHIP one stops the server's sending and
    closes only when the publisher's RTP (`last_media()`: time.monotonic() of the latest packet) has
    stopped too. Call before ICE connects: aioice starts its consent task then."""
    count_checks(connection, observed)
    expired = False
    send = connection.sendto

    async def sendto(data: bytes, component: int) -> None:
        if not expired:  # RFC 7675 §5.1: nothing is sent on a pair whose consent expired
            await send(data, component)

    async def checks_until_expired() -> None:
        """aioice's loop: a check on each nominated pair every ~5 s, until CONSENT_FAILURES in a row fail.
        An ICE-lite agent (ice_lite.py) sends none: a period without the client's checks counts as a failure."""
        assert connection.remote_password is not None
        failures = 0
        heard = observed.checks_received
        while failures < CONSENT_FAILURES:
            # aioice's pacing: 0.8 to 1.2 times the interval (RFC 7675 §5.1 randomises it)
            await asyncio.sleep(CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
            if getattr(connection, "ice_lite", False):
                failures, heard = (0 if observed.checks_received > heard else failures + 1), observed.checks_received
                continue
            for pair in list(connection._nominated.values()):
                request = connection.build_request(pair, nominate=False)
                observed.consent_sent += 1
                try:
                    await pair.protocol.request(request, pair.remote_addr,
                                                integrity_key=connection.remote_password.encode("utf8"),
                                                retransmissions=0)
                    observed.consent_answered += 1
                    failures = 0
                except stun.TransactionError:
                    failures += 1
                    observed.consent_unanswered += 1
                    observed.consent_unanswered_in_a_row = max(observed.consent_unanswered_in_a_row, failures)

    async def query_consent() -> None:
        nonlocal expired
        while True:
            await checks_until_expired()
            if last_media is None:
                log.info("WHEP session %s: consent expired; closing its ICE connection (RFC 7675 §5.1)", label)
                connection._query_consent_task = None  # close() would otherwise wait for this very task
                await connection.close()
                return
            expired, credentials = True, connection.remote_password
            if time.monotonic() - last_media() < MEDIA_SHOWS_LIFE_S:
                log.info("WHIP session %s: consent expired; the server stops sending to it (RFC 7675 §5.1) and "
                         "keeps the ingest while its media arrives", label)
            while (silent := time.monotonic() - last_media()) < MEDIA_SHOWS_LIFE_S:
                if connection.remote_password != credentials:
                    break  # an ICE restart (its checks succeeded): consent anew on the new pair (§5.1)
                await asyncio.sleep(WATCH_EVERY_S)  # a watchdog's period, not a synchronisation
            if connection.remote_password != credentials:
                expired = False
                log.info("WHIP session %s: ICE restarted; consent obtained again", label)
                continue
            log.info("WHIP session %s: consent expired and no media for %.1f s; closing its ICE connection", label, silent)
            connection._query_consent_task = None  # close() would otherwise wait for this very task
            await connection.close()
            return

    if last_media is not None:  # only a WHIP agent keeps going after expiry; a WHEP one closes (no wrapper on its hot path)
        connection.sendto = sendto  # type: ignore[method-assign]
    connection.query_consent = query_consent  # type: ignore[method-assign]


def count_checks(connection: Connection, observed: Observation) -> None:
    """Count the STUN Binding requests `connection` receives (the client's connectivity and consent checks)."""
    received = connection.request_received

    def request_received(message: stun.Message, addr: tuple[str, int], protocol) -> None:
        if message.message_method == stun.Method.BINDING:
            observed.checks_received += 1
        received(message, addr, protocol)

    connection.request_received = request_received  # type: ignore[method-assign]
