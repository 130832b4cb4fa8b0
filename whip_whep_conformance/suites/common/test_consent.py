"""ICE consent and the end of a session — RFC 9725 §4.2/§4.3.3, draft-ietf-wish-whep-03 §4.2.8/§4.3/
§4.4.3, draft-murillo-whep-01 §4.3: a session ends by DELETE (the server withdraws ICE consent at once,
RFC 7675, and no media follows), by a DTLS close from the client, or by consent freshness when the client
vanishes (the slow case, --slow-cases).

The client sends its own consent checks (Binding requests with the session's credentials, to the
server's address on the nominated pair) instead of waiting for aioice's 5-second cycle.
"""

import asyncio
import time

import pytest

from whip_whep_conformance.protocol import sdpfrag
from whip_whep_conformance.harness.grading import ArrangeFailed
from whip_whep_conformance.webrtc.consent import ConsentCheck, go_silent
from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
WITHDRAWN_WITHIN_S = 3.0  # "at once": the DELETE's own work plus a check's 1.5 s wait
ENDED_WITHIN_S = 5.0  # a DTLS close_notify is one packet; the server needs no timeout to act on it
CONSENT_TIMEOUT_S = 30.0  # RFC 7675 §5.1: consent expires 30 s after the last answered check
SILENCE_NOTICED_WITHIN_S = CONSENT_TIMEOUT_S + 15.0  # plus the server's check interval and its teardown
QUIET_S = 1.0  # no video packet for this long counts as media stopped (the stream sends ~30 packets/s)
LIVE_S = 10.0  # how long a live session's consent is watched: consent checks come every ~5 s (RFC 7675 §5.1)
LIVE_CHECK_EVERY_S = 1.0
FRESHNESS = {"whip": ("WHIP-4.2-13",), "whep": ("WHEPL-4.2.8-3", "WHEP01-4.3-3")}


@pytest.mark.requirement("WHIP-4.2-13", "WHEPL-4.2.8-3", "WHEP01-4.3-3")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_consent_is_answered_while_the_session_lives(case, protocol):
    """Check consent on a connected session (WHEP: a playing viewer) every second for 10 s: the server
    answers every check, from the first to the last.

    RFC 9725 §4.2 and draft-ietf-wish-whep-03 §4.3 (draft-murillo-whep-01 §4.3): "consent freshness as
    per RFC 7675 SHALL be used". A client's consent expires 30 s after its last answered check and it
    must then stop sending (RFC 7675 §5.1), so a server that stops answering (or never answers) on a
    live session breaks it: a Fail of that rule, not a feature the server lacks."""
    pc, _, _, check = await _connected_session(case, protocol, answered_anyway=True)
    started = time.monotonic()
    unanswered: list[float] = []
    sent = 0
    while True:
        at = time.monotonic() - started
        if at > LIVE_S:
            break
        sent += 1
        if await check.answered() is not True:
            unanswered.append(at)
        await asyncio.sleep(LIVE_CHECK_EVERY_S)  # pacing of the checks (RFC 7675 §5.1), not a synchronisation
    case.record.figures["consent_checks_sent"] = sent
    case.record.figures["consent_checks_unanswered"] = len(unanswered)
    case.expect(not unanswered, *FRESHNESS[protocol],
                message=f"{len(unanswered)} of {sent} consent checks on the live {protocol.upper()} session went "
                        f"unanswered, the first {unanswered[0] if unanswered else 0:.1f} s in: the client's consent "
                        f"expires 30 s after the last answered one (RFC 7675 §5.1)")


async def _connected_session(case, protocol: str, answered_anyway: bool = False):
    """A connected session whose server answers consent checks: (peer, POST response, player or None, ConsentCheck).
    `answered_anyway`: the case grades the answers itself, so an unanswered first check does not end it."""
    the_player = None
    if protocol == "whip":
        _, pc, posted = await case.publish_media("vp8")
    else:
        urls = await case.live_stream()  # a WHEP-only run plays what is live at its endpoint
        the_player, posted = await case.start_player(urls)
        if not await the_player.wait_frames("video", 5, case.target.timeout_s):
            raise ArrangeFailed(f"arranging a playing viewer failed: no video decoded in {case.target.timeout_s:g} s "
                                "(graded under BRIEF-MEDIA-1)")
        pc = the_player.pc
    check = ConsentCheck(pc)
    if check.server_address is None:
        raise ArrangeFailed("arranging a session failed: its ICE agent nominated no candidate pair to check consent on")
    if await check.answered() is not True and not answered_anyway:
        raise ArrangeFailed("no consent on the live session: the server did not answer a consent check on the session's "
                            "pair (graded under the consent rule in test_consent_is_answered_while_the_session_lives)")
    return pc, posted, the_player, check


@pytest.mark.requirement("WHIP-4.2-16", "WHEPL-4.3-2", "WHEP01-4.3-5")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_delete_withdraws_consent(case, protocol):
    """DELETE a connected session: the server's ICE agent stops answering consent checks within seconds,
    and (WHEP) its media stops."""
    pc, posted, the_player, check = await _connected_session(case, protocol)
    deleted = await case.signalling.delete(posted.location)
    if not 200 <= deleted.status_code < 300:
        case.not_applicable(f"the DELETE got {deleted.status_code}: the session did not end")
    took = await check.wait_withdrawn(WITHDRAWN_WITHIN_S)
    ids = rules.ids("consent-withdrawn-on-delete", protocol)
    if took is not None:
        case.record.figures["consent_withdrawn_ms"] = round(took * 1000)
    case.expect(took is not None, *ids,
                message=f"{WITHDRAWN_WITHIN_S:g} s after the DELETE's {deleted.status_code}, the server still answered consent checks")
    if the_player is not None:
        last = await the_player.wait_silence("video", QUIET_S, WITHDRAWN_WITHIN_S + QUIET_S)
        case.expect(last is not None, *ids,
                    message=f"consent was withdrawn, but video packets still arrived {WITHDRAWN_WITHIN_S + QUIET_S:g} s later")


@pytest.mark.requirement("WHIP-4.2-13", "WHEPL-4.2.8-3", "WHEP01-4.3-3")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_dtls_close_ends_the_session(case, protocol):
    """Close the client's peer connection (a DTLS close_notify, no DELETE): the server terminates the
    session: its ICE agent stops answering consent checks within seconds, and its URL is gone (404/410).

    (The rows' other half, consent freshness noticing a peer that went silent without a close, takes
    the 30-second consent timeout and is not checked here.)"""
    pc, posted, _, check = await _connected_session(case, protocol)
    await pc.close()
    took = await check.wait_withdrawn(ENDED_WITHIN_S)
    ids = rules.ids("session-ends-with-consent", protocol)
    if took is not None:
        case.record.figures["consent_withdrawn_ms"] = round(took * 1000)
    case.expect(took is not None, *ids,
                message=f"{ENDED_WITHIN_S:g} s after the client's DTLS close, the server still answered consent checks "
                        "for the session: it did not end")
    deleted = await case.signalling.delete(posted.location)
    case.expect(deleted.status_code in (404, 410), *ids,
                message=f"the DTLS close ended the media, but the session is still there: a DELETE of its URL got "
                        f"{deleted.status_code}, not 404")


@pytest.mark.requirement("WHIP-4.3.3-12", "WHIP-4.2-13", "WHEPL-4.4.3-13", "WHEPL-4.2.8-3", "WHEP01-4.3-3")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_silent_peer_is_ended_after_a_refused_restart(case, protocol):
    """Refuse-provoking restart, then the client vanishes (its sockets close: no DTLS close, no DELETE):
    consent freshness notices and the server ends the session within the 30-second consent timeout
    and a margin: consent checks go unanswered and the session URL is gone."""
    if not case.target.slow_cases:
        case.not_applicable(f"waits out the {CONSENT_TIMEOUT_S:g}-second consent timeout: run with --slow-cases")
    pc, posted, _, check = await _connected_session(case, protocol)
    refused = await case.signalling.patch(posted.location, str(sdpfrag.unusable_restart(pc.localDescription.sdp)), if_match="*")
    if 200 <= refused.status_code < 300:
        case.not_applicable(f"a restart with the illegal ice-ufrag 'ab' was taken ({refused.status_code}): nothing failed")
    go_silent(pc)
    took = await check.wait_withdrawn(SILENCE_NOTICED_WITHIN_S, interval_s=1.0)
    if took is not None:
        case.record.figures["consent_withdrawn_ms"] = round(took * 1000)
    deleted = await case.signalling.delete(posted.location) if took is not None else None
    ended = deleted is not None and deleted.status_code in (404, 410)
    observed = (f"{SILENCE_NOTICED_WITHIN_S:g} s after the client went silent, the server still answered consent checks"
                if took is None else
                f"the server stopped answering consent checks {took:.1f} s after the client went silent, but a DELETE of "
                f"the session then got {deleted.status_code if deleted else '?'}, not 404")
    after_restart = rules.ids("refused-restart-ends-silent-session", protocol)
    freshness = rules.ids("session-ends-with-consent", protocol)
    case.expect(ended, *after_restart, message=f"after a refused restart ({refused.status_code}): {observed}")
    case.expect(ended, *freshness, message=observed)
