"""ICE consent when a session ends — RFC 9725 §4.2, draft-ietf-wish-whep-03 §4.3, draft-murillo-whep-01 §4.3:
a media server that ends a session withdraws ICE consent at once (RFC 7675), so no media follows.

The client sends its own consent checks (Binding requests on the nominated pair, with the session's
credentials) before and after the DELETE, instead of waiting for aioice's 5-second cycle.
"""

import pytest

from whip_whep.consent import ConsentCheck

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
WITHDRAWN_WITHIN_S = 3.0  # "at once": the DELETE's own work plus a check's 1.5 s wait
ENDED_WITHIN_S = 5.0  # a DTLS close_notify is one packet; the server needs no timeout to act on it
QUIET_S = 1.0  # no video packet for this long counts as media stopped (the stream sends ~30 packets/s)


async def _connected_session(case, protocol: str):
    """A connected session whose server answers consent checks: (peer, POST response, player or None, ConsentCheck)."""
    the_player = None
    if protocol == "whip":
        _, pc, posted = await case.publish_media("vp8")
    else:
        urls, _ = await case.start_publisher("vp8")
        the_player, posted = await case.start_player(urls)
        if not await the_player.wait_frames("video", 5, case.target.timeout_s):
            raise RuntimeError("arranging a playing viewer failed: no video decoded")
        pc = the_player.pc
    check = ConsentCheck(pc)
    if await check.answered() is not True:
        case.not_applicable("the server does not answer consent checks on the session's pair while it runs")
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
    ids = ("WHIP-4.2-16",) if protocol == "whip" else ("WHEPL-4.3-2", "WHEP01-4.3-5")
    if took is not None:
        case.record.figures["consent_withdrawn_ms"] = round(took * 1000)
    case.expect(took is not None, *ids,
                message=f"{WITHDRAWN_WITHIN_S:g} s after the DELETE's {deleted.status_code}, the server still answered consent checks")
    if the_player is not None:
        last = await the_player.wait_silence("video", QUIET_S, WITHDRAWN_WITHIN_S + QUIET_S)
        case.expect(last is not None, *ids,
                    message=f"consent was withdrawn, but video packets still arrived {WITHDRAWN_WITHIN_S + QUIET_S:g} s after the DELETE")


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
    ids = ("WHIP-4.2-13",) if protocol == "whip" else ("WHEPL-4.2.8-3", "WHEP01-4.3-3")
    if took is not None:
        case.record.figures["consent_withdrawn_ms"] = round(took * 1000)
    case.expect(took is not None, *ids,
                message=f"{ENDED_WITHIN_S:g} s after the client's DTLS close, the server still answered consent checks "
                        "for the session: it did not end")
    deleted = await case.signalling.delete(posted.location)
    case.expect(deleted.status_code in (404, 410), *ids,
                message=f"the DTLS close ended the media, but the session is still there: a DELETE of its URL got "
                        f"{deleted.status_code}, not 404")
