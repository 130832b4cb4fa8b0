"""WHEP working group PR #44 "allow-partials" (open at the snapshot, @07ac3709): an endpoint may accept only
some of the offered m-lines, answering the others with port 0 and no codec details, as long as one audio or
video m-line is accepted. (WHIP says the opposite for ingest: RFC 9725 §4.4.3 would have the POST refused.)

An open proposal is no rule yet: this case runs only under --whep-proposals, and every check is Info
(harness/grading.py PROPOSAL_CAP). The partial offer holds audio and video the endpoint serves, plus one
m-line a WHEP endpoint need not serve: a data channel, or a second video; a whole-offer refusal counts only
after its control (a plain audio+video offer right after) was taken. What PR #44 asks of any answer (keep a
media m-line; a refused one lists no codecs) is judged on a plain offer's answer too. WHEPP-44-2 (a player refusing m-lines of a
counter-offer) is a player's duty and stays catalogued.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import sdp

pytestmark = pytest.mark.asyncio

PARTIAL = ("WHEPP-44-1", "WHEPP-44-3", "WHEPP-44-4")
# The offers, each with a single m-line beyond the audio and video every WHEP endpoint plays.
EXTRA = {"data-channel": (("audio", "video"), True), "second-video": (("audio", "video", "video"), False)}


def _detailed(media: sdp.Media) -> list[str]:
    """What a refused m-line lists beyond the one format token RFC 8866's m= grammar needs (WHEPP-44-3)."""
    found = [f"a={name}" for name in ("rtpmap", "fmtp", "rtcp-fb") if media.attributes.get(name)]
    formats = media.payloads or []
    if len(formats) > 1:
        found.append(f"{len(formats)} formats on its m= line")
    return found


@pytest.mark.requirement(*PARTIAL)
@pytest.mark.parametrize("extra", list(EXTRA))
async def test_unservable_m_line_is_answered_with_port_0(case, extra):
    """POST audio + video + one more m-line: a 201 that refuses just that one with port 0 (no codec details) and
    keeps a media m-line, rather than refusing the whole offer."""
    case.proposal_amends_the_profile(*PARTIAL)
    kinds, data_channel = EXTRA[extra]
    urls = await case.live_input()
    _, offer = await case.viewer_offer(kinds, data_channel=data_channel)
    posted = await case.signalling.post_offer(case.whep_url(urls), offer)
    what = f"an offer of {' + '.join(kinds)}{' + a data channel' if data_channel else ''}"
    if case.is_counter_offer(posted):
        case.not_applicable(f"{what} got a 406 counter-offer: the endpoint gave no answer whose m-lines to judge")
    if 400 <= posted.status < 500:
        if await case.refusal_of_the_offer(posted, "whep", urls, what):  # the control was taken (else Not applicable)
            case.capability(False, "WHEPP-44-1", f"{what} was refused whole ({posted.describe()}), where PR #44 would "
                                                 "answer the m-line it cannot serve with port 0")
        return
    case.arranged(posted, "whep", "a viewer")
    answer = case.answer_of(posted, "whep")
    refused = [m for m in answer.media if m.port == 0]
    kept_media = [m for m in answer.media if m.kind in ("audio", "video") and m.port != 0]
    answered = [f"{m.kind}:{m.port}" for m in answer.media]
    if refused:
        _judge_answer(case, answer, what)
    case.capability(bool(refused) and bool(kept_media), "WHEPP-44-1",
                    f"the answer to {what} is m-lines (kind:port) {answered}: "
                    + ("a partial answer" if refused else "every m-line accepted, none refused with port 0"))


@pytest.mark.requirement("WHEPP-44-3", "WHEPP-44-4")
async def test_answer_keeps_media_and_refused_m_lines_are_bare(case):
    """POST a plain audio + video offer: the answer keeps an audio or video m-line (non-zero port), and any
    m-line it refuses (port 0) lists no codec or format details."""
    case.proposal_amends_the_profile("WHEPP-44-3", "WHEPP-44-4")
    _, posted = await case.play(await case.live_input())
    _judge_answer(case, case.answer_of(posted, "whep"), "an audio + video offer")


def _judge_answer(case, answer: sdp.SessionDescription, what: str) -> None:
    """What PR #44 asks of any answer: an audio or video m-line accepted (44-4); refused ones bare (44-3, when any)."""
    answered = [f"{m.kind}:{m.port}" for m in answer.media]
    case.expect(any(m.kind in ("audio", "video") and m.port != 0 for m in answer.media), "WHEPP-44-4",
                message=f"the answer to {what} accepts no audio or video m-line (kind:port {answered})")
    if any(m.port == 0 for m in answer.media):
        detailed = {m.mid or m.kind: _detailed(m) for m in answer.media if m.port == 0 and _detailed(m)}
        case.expect(not detailed, "WHEPP-44-3",
                    message=f"refused m-lines (port 0) in the answer to {what} still list codec or format details: {detailed}")
