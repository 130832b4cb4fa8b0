"""ICE restart by PATCH — RFC 9725 §4.3.3, draft-ietf-wish-whep-03 §4.4.3, draft-murillo-whep-01 §4.4.

The suite's peer really restarts: a new ICE agent with new credentials and newly gathered candidates
(whip_whep_conformance/webrtc/ice_restart.py) whose checks must succeed against the candidates of the server's 200. A
server that answers 200 with fresh credentials but keeps its old agent therefore fails: the new
agent's checks go unanswered. Media is watched at a WHEP player throughout.

Only a 2xx to the restart PATCH that brings new ICE credentials shows that the session restarts ICE. Anything else — the refusals
405/422/501, and equally a 5xx or another 4xx — is no evidence of support: whether restarts are
supported is graded once (WHIP-4.3-1 / WHEPL-4.4-1, a SHOULD), the status the refusal should have had
once where its rule is (WHIP-4.3.1-5 for a trickle-only session), and the cases that judge a restart's
200 are not applicable. A server that answers 500 has not restarted anything, so "the restart's 200"
is never judged when no 200 came.
"""

from __future__ import annotations

import time

import pytest

from whip_whep_conformance.harness.judgments import http_fields, sdpfrag_syntax
from whip_whep_conformance.protocol import headers, profiles, sdp, sdpfrag
from whip_whep_conformance.webrtc.consent import ConsentCheck
from whip_whep_conformance.webrtc.ice_restart import ice_connection
from whip_whep_conformance.harness import rules
from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
REFUSALS = (405, 422, 501)  # the statuses the revisions name for "this kind of PATCH is not supported"
FRAMES = 30  # a second of video after the restart
RETIRED_WITHIN_S = 3.0  # after the client's new ICE session is up: the server's nomination and switch-over


async def _live_session(case, protocol: str, watch: bool = False):
    """A session to restart and a player watching the media it carries: (peer, POST response, player).
    A WHIP session gets a player only when the case `watch`es the media (it is marked `viewer`):
    the other WHIP restart cases need no WHEP endpoint, and run in a WHIP-only run (player None)."""
    if protocol == "whip":
        urls, pc, posted = await case.publish_media("vp8")
        if not watch:
            return pc, posted, None
    else:
        urls = await case.live_stream()  # a WHEP-only run plays what is live at its endpoint
    the_player, played = await case.start_player(urls)
    await the_player.wait_frames("video", 5, case.target.timeout_s)
    if protocol == "whip":
        return pc, posted, the_player
    return the_player.pc, played, the_player


def restart_taken(exchange) -> bool:
    """Whether the session took the restart: a 2xx that answers it, with the new credentials or at
    least a body meant as the restart's fragment (how well formed it is, the cases judge).

    A 5xx says the server failed, a 4xx that it refused; neither says it can restart ICE. Nor does an
    empty 2xx without credentials (janus-whep-server in VideoRoom mode takes the restart PATCH for a
    trickle and answers 204): a client cannot restart with it, so nothing was restarted."""
    ufrag, pwd = exchange.answer.credentials() if exchange.answer else (None, None)
    return 200 <= exchange.status < 300 and (bool(ufrag and pwd) or bool(exchange.response.content.strip()))


def _status(exchange) -> str:
    """The restart PATCH's status, saying so when a 2xx brought no credentials."""
    return f"{exchange.status} without a body or new ICE credentials" if 200 <= exchange.status < 300 else str(exchange.status)


def _not_taken(case, exchange) -> None:
    """End a case that needs a restart the session did not take (not applicable), naming who grades it."""
    if not restart_taken(exchange):
        kind = "refused" if exchange.status in REFUSALS else "failed"
        case.not_applicable(f"the session did not take the ICE restart (PATCH {kind}: {_status(exchange)}); whether "
                            "restarts are supported, and the status a refusal must have, are graded by "
                            "test_restart_is_supported and test_trickle_only_session_refuses_restart_with_422")


async def _restart(case, protocol: str, watch: bool = False):
    """Restart the session's ICE; a restart not taken (no 2xx) makes the case not applicable.
    Returns (peer, POST response, player, restart exchange)."""
    pc, posted, the_player = await _live_session(case, protocol, watch)
    exchange = await case.restart_ice(pc, posted.location)
    _not_taken(case, exchange)
    return pc, posted, the_player, exchange


async def _trickle_own_candidates(case, pc, posted):
    """One trickle PATCH of the session's own candidates, with the entity-tag of its 201."""
    return await case.signalling.patch(posted.location, str(sdpfrag.for_description(pc.localDescription.sdp)),
                                       if_match=posted.etag or "*")


@pytest.mark.requirement("WHIP-4.3.1-5", "WHEPL-4.4.1-3", "WHEP01-4.4-7")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_trickle_only_session_refuses_restart_with_422(case, protocol):
    """A session that takes trickle PATCHes (204) but not restarts refuses the restart PATCH with 422 (draft-murillo-whep-01: 405)."""
    pc, posted, _ = await _live_session(case, protocol)
    trickle = await _trickle_own_candidates(case, pc, posted)
    if not 200 <= trickle.status_code < 300:
        case.not_applicable(f"the session does not take trickle PATCHes either ({trickle.status_code}): no kind to tell apart")
    exchange = await case.restart_ice(pc, posted.location)
    if restart_taken(exchange):
        case.not_applicable(f"the session supports ICE restart ({exchange.status}): nothing to refuse")
    if 200 <= exchange.status < 300:
        # Taken for a trickle: the one defect is that new credentials were not read as a restart
        # request, graded once there (WHIP-4.3.3-4 / WHEPL-4.4.3-4), not again as a wrong refusal.
        case.not_applicable(f"the restart PATCH got {_status(exchange)}: taken for a trickle, which "
                            "test_new_credentials_are_a_restart_request grades")
    profile = case.target.whip_profile if protocol == "whip" else case.target.whep_profile
    wanted = 405 if profile in (profiles.MURILLO_01, profiles.WHIP_06) else 422  # the drafts: "405 Not Implemented"
    # A restart not taken by a session that takes trickle is this rule's case whatever the status: a
    # 5xx is not the refusal the rule names (RFC 9725 §4.3.1: "MUST return a 422"), and this is the one
    # place it is graded.
    failed = " (a server failure, not the refusal)" if exchange.status >= 500 and exchange.status not in REFUSALS else ""
    case.expect(exchange.status == wanted, *rules.ids("restart-refused-status", protocol),
                message=f"trickle is taken ({trickle.status_code}) but the restart PATCH got {_status(exchange)}{failed}, "
                        f"not the {wanted} {profile} wants")


@pytest.mark.requirement("WHIP-4.3-1", "WHEPL-4.4-1", "WHEP01-4.5-8")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_restart_is_supported(case, protocol):
    """A PATCH with new credentials and If-Match: * is taken as a restart (200), not refused."""
    pc, posted, _ = await _live_session(case, protocol)
    exchange = await case.restart_ice(pc, posted.location)
    # Support is what a client can use: a 2xx. A 5xx is the server failing the restart (the status it
    # should have answered is graded where that rule is: WHIP-4.3.1-5 / WHEPL-4.4.1-3 for a trickle-only
    # session), so it counts as no restart here, never as support.
    taken = restart_taken(exchange)
    why = "" if exchange.status in REFUSALS or taken else " (a failure, not a refusal: no evidence of support)"
    if protocol == "whep" and case.target.whep_profile == profiles.MURILLO_01:
        case.capability(taken, "WHEP01-4.5-8", f"a restart PATCH got {_status(exchange)}{why}")
    case.expect(taken, *rules.ids("trickle-supported", protocol),
                message=f"ICE restart is not supported: the restart PATCH got {_status(exchange)}{why}")


@pytest.mark.requirement("WHIP-4.3.3-5", "WHEPL-4.4.3-5", "WHEP01-4.4-19")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_restart_answer_holds_new_credentials(case, protocol):
    """The restart's 200 is typed trickle-ice-sdpfrag and holds ice-ufrag/ice-pwd unlike the answer's, and candidates."""
    _, posted, _, exchange = await _restart(case, protocol)
    first = sdp_syntax.parse(posted.body).media[0]
    ufrag, pwd = exchange.answer.credentials() if exchange.answer else (None, None)
    candidates = [c for m in exchange.answer.media for c in m.candidates] if exchange.answer else []
    problems = ([] if exchange.status == 200 else [f"status {exchange.status}"]) + \
        ([] if headers.media_type(exchange.response.headers.get("Content-Type")) == headers.SDPFRAG
         else [f"Content-Type {exchange.response.headers.get('Content-Type')}"]) + \
        ([] if exchange.answer else ["the body is not a trickle-ice-sdpfrag"]) + \
        ([] if ufrag and pwd and (ufrag, pwd) != (first.ice_ufrag, first.ice_pwd)
         else [f"credentials {ufrag!r}/{'…' if pwd else None} are missing or the answer's"]) + \
        ([] if candidates else ["no candidate"])
    case.expect(not problems, *rules.ids("restart-connects", protocol),
                message="the restart's 200: " + "; ".join(problems))


@pytest.mark.requirement("WHIP-D-13")
async def test_restart_answer_is_a_well_formed_sdpfrag(case):
    """The body of a WHIP restart's 200 parses as a trickle-ice-sdpfrag (RFC 8840 with RFC 8839's grammar)."""
    _, _, _, exchange = await _restart(case, "whip")
    if exchange.status != 200:
        case.not_applicable(f"the restart PATCH got {exchange.status}, not 200: no answer fragment to read")
    try:
        sdpfrag_syntax.parse(exchange.response.text)
        problem = None
    except sdpfrag.SdpFragError as exc:
        problem = str(exc)
    case.expect(problem is None, "WHIP-D-13", message=f"the restart's 200 body is not a trickle-ice-sdpfrag: {problem}")


@pytest.mark.requirement("WHIP-4.3.3-6", "WHEPL-4.4.3-6", "WHEP01-4.4-11")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_restart_gives_a_new_entity_tag(case, protocol):
    """The 200 carries a new strong ETag; afterwards a trickle PATCH with the old one gets 412, with the new one 204."""
    pc, posted, _, exchange = await _restart(case, protocol)
    new_tag = exchange.response.headers.get("ETag")
    ids = rules.ids("restart-new-entity-tag", protocol)
    case.expect(bool(new_tag) and http_fields.is_strong_entity_tag(new_tag) and new_tag != posted.etag, *ids,
                message=f"the restart's 200 has ETag {new_tag!r} (before: {posted.etag!r})")
    fragment = str(sdpfrag.for_description(pc.localDescription.sdp, exchange.sent_ufrag, exchange.sent_pwd, []))
    old = await case.signalling.patch(posted.location, fragment, if_match=posted.etag or '"none"')
    new = await case.signalling.patch(posted.location, fragment, if_match=new_tag)
    case.expect((old.status_code, new.status_code) == (412, 204), *ids,
                message=f"after the restart a trickle PATCH with the old ETag got {old.status_code} (412 expected), "
                        f"with the new one {new.status_code} (204 expected)")


@pytest.mark.requirement("WHIP-4.3.1-8", "WHIP-D-6", "WHEPL-4.4.1-5", "WHEPL-4.4.1-7", "WHEP01-4.4-9", "WHEP01-4.4-12")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_each_ice_session_has_its_own_strong_entity_tag(case, protocol):
    """A restart-capable session: its 201 had a strong ETag, and the restart's tag is strong and new."""
    _, posted, _, exchange = await _restart(case, protocol)
    first, after = posted.etag or "", exchange.response.headers.get("ETag") or ""
    case.expect(http_fields.is_strong_entity_tag(first), *rules.ids("restartable-session-strong-tag", protocol),
                message=f"a session that restarts ICE sent ETag {posted.etag!r} on its 201")
    case.expect(http_fields.is_strong_entity_tag(after) and after != first, *rules.ids("ice-session-own-tag", protocol),
                message=f"entity-tags {first!r} (first ICE session) and {after!r} (after the restart)")


@pytest.mark.requirement("WHIP-4.3.3-9", "WHEPL-4.4.3-9")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_restart_answer_repeats_ice_lite_and_options(case, protocol):
    """The restart's 200 says a=ice-lite exactly when the answer did, with the answer's a=ice-options."""
    _, posted, _, exchange = await _restart(case, protocol)
    if exchange.answer is None:
        case.not_applicable(f"no restart answer to judge ({exchange.status})")
    answer = sdp_syntax.parse(posted.body)
    seen = (exchange.answer.ice_lite, sorted(exchange.answer.ice_options))
    wanted = (answer.ice_lite, sorted(answer.ice_options))
    case.expect(seen == wanted, *rules.ids("restart-repeats-ice-lite", protocol),
                message=f"the restart's 200 has ice-lite={seen[0]}, ice-options={seen[1]}; the answer had "
                        f"ice-lite={wanted[0]}, ice-options={wanted[1]}")


@pytest.mark.requirement("WHIP-4.3.3-5", "WHEPL-4.4.3-5", "WHEP01-4.4-19", "WHIP-4.3.3-1", "WHEPL-4.4.3-1")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.viewer
async def test_media_continues_across_restart(case, protocol):
    """Restart ICE mid-stream: checks on the new credentials succeed, and the player keeps decoding, same codec and SSRC."""
    _, _, the_player, exchange = await _restart(case, protocol, watch=True)
    video = the_player.streams["video"]
    before = (set(video.payload_types), set(video.ssrcs))
    connected_ids = rules.ids("restart-connects", protocol)
    case.expect(exchange.connected, *connected_ids,
                message=f"the restart was answered {exchange.status}, but no connectivity check on its new "
                        f"credentials and candidates succeeded in {case.target.timeout_s:g} s: the session did not restart ICE")
    decoded = await the_player.wait_frames("video", FRAMES, case.target.timeout_s)
    case.record.figures["media_gap_ms"] = _longest_gap_ms(video.measurement.arrivals_s)
    case.expect(decoded and (set(video.payload_types), set(video.ssrcs)) == before,
                *rules.ids("media-continues-across-restart", protocol),
                message=f"after the restart the player decoded {video.frames} frames in all; payload types/SSRCs "
                        f"{before} before, {(set(video.payload_types), set(video.ssrcs))} after")


@pytest.mark.requirement("WHIP-4.3.3-8", "WHEPL-4.4.3-8")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_restart_retires_the_old_candidates(case, protocol):
    """Restart ICE: once the new ICE session is up, the server uses only the newly exchanged candidates.

    What shows it from outside is the server's side of the old pair: its old ICE session is gone (the
    old credentials are answered nowhere), and its old address, unless the 200 listed it again or the
    new session runs over it (one shared port, a peer-reflexive pair), answers no check at all. A server
    whose old agent or sockets live on could still be sending to the client's old candidates."""
    pc, posted, _ = await _live_session(case, protocol)
    old = ConsentCheck(pc)
    if await old.answered() is not True:
        case.not_applicable("the server does not answer consent checks on the session's pair while it runs")
    exchange = await case.restart_ice(pc, posted.location)
    _not_taken(case, exchange)
    if not exchange.connected or exchange.answer is None:
        case.not_applicable(f"the restart (answered {exchange.status}) did not bring up a new ICE session; "
                            "the restart cases grade that")
    address = f"{old.server_address[0]}:{old.server_address[1]}"
    new = ConsentCheck(pc)
    listed = {sdp.candidate_address(c) for m in exchange.answer.media for c in m.candidates}
    checks = {f"the old credentials, at the old address {address}": old}
    if old.server_address not in listed and new.server_address != old.server_address:
        checks[f"the new credentials at the old address {address}, which the restart's 200 did not list "
               f"(it listed {', '.join(f'{h}:{p}' for h, p in sorted(listed)) or 'none'})"] = new.aimed_at(old.server_address)
    # One after the other, the old credentials first: until they are refused the server has not yet moved
    # to the new session (its switch-over follows the client's by a moment), and the new credentials
    # would be refused at the old address for that reason alone.
    still = [what for what, check in checks.items() if await check.wait_withdrawn(RETIRED_WITHIN_S) is None]
    case.expect(not still, *rules.ids("old-candidates-released", protocol),
                message=f"for {RETIRED_WITHIN_S:g} s after the restart's new ICE session came up, the server still "
                        f"answered consent checks with {'; and with '.join(still)}")


def _longest_gap_ms(arrivals: list[float]) -> int:
    """The longest time without a decoded frame (ms), over the whole watch, restart included."""
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    return round(max(gaps, default=0) * 1000)


@pytest.mark.requirement("WHIP-4.3.3-5", "WHEPL-4.4.3-5", "WHEP01-4.4-19")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.viewer
async def test_restart_recovers_a_broken_path(case, protocol):
    """Cut the peer's current network path (its socket goes silent), restart ICE: media resumes at the player."""
    pc, posted, the_player = await _live_session(case, protocol, watch=True)
    cut_at = _cut_current_path(pc)
    exchange = await case.restart_ice(pc, posted.location)
    _not_taken(case, exchange)
    video = the_player.streams["video"]
    frames_at_cut = video.frames
    resumed = exchange.connected and await the_player.wait_for(
        "video", lambda s: s.frames >= frames_at_cut + FRAMES, case.target.timeout_s)
    arrivals = [t for t in video.measurement.arrivals_s if t >= cut_at]
    case.record.figures["recovery_ms"] = round((arrivals[0] - cut_at) * 1000) if arrivals else -1
    case.expect(bool(resumed), *rules.ids("restart-connects", protocol),
                message=f"with the old path cut, the restart (answered {exchange.status}, new ICE session "
                        f"{'up' if exchange.connected else 'never up'}) brought {video.frames - frames_at_cut} frames "
                        f"in {case.target.timeout_s:g} s")


def _cut_current_path(pc) -> float:
    """Make the nominated pair's local socket drop everything, both ways, as a lost network would."""
    for pair in ice_connection(pc)._nominated.values():
        protocol = pair.protocol
        protocol.datagram_received = lambda data, addr: None
        protocol.transport.sendto = lambda data, addr=None: None
    return time.monotonic()


@pytest.mark.requirement("WHIP-4.3.3-10", "WHEPL-4.4.3-10", "WHEPL-4.4.3-11")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_failed_restart_keeps_the_session(case, protocol):
    """A restart PATCH with an illegal 2-character ufrag gets a 4xx/5xx; the old ETag still trickles (204), media goes on.

    Media is watched at a player when the run has a WHEP endpoint; a WHIP-only run shows the current
    ICE session carrying on by the server still answering consent checks on it (RFC 7675)."""
    pc, posted, the_player = await _live_session(case, protocol, watch=_can_watch(case))
    consent = ConsentCheck(pc) if the_player is None else None
    if consent is not None and await consent.answered() is not True:
        consent = None  # the control: only a server that answered before the restart can be shown to go on
    before = await _trickle_own_candidates(case, pc, posted)
    if not 200 <= before.status_code < 300:
        case.not_applicable(f"the session takes no trickle PATCH ({before.status_code}): the entity-tag cannot be shown to survive")
    refused = await case.signalling.patch(posted.location, str(sdpfrag.unusable_restart(pc.localDescription.sdp)), if_match="*")
    ids = rules.ids("failed-restart-refused", protocol)
    case.expect(refused.status_code >= 400, *ids, message=f"a restart with ice-ufrag 'ab' got {refused.status_code}")
    trickle = await _trickle_own_candidates(case, pc, posted)
    if the_player is not None:
        decoded = await the_player.wait_frames("video", FRAMES, case.target.timeout_s)
        carried_on = f"the player decoded {'on' if decoded else 'nothing more'}"
    elif consent is not None:
        decoded = await consent.answered() is True
        carried_on = (f"the current ICE session {'still answers' if decoded else 'no longer answers'} consent checks "
                      "(no WHEP endpoint: media not watched)")
    else:
        decoded, carried_on = True, "no WHEP endpoint, and no consent answered before: media and ICE not watched"
    case.expect(trickle.status_code == 204 and decoded, *rules.ids("failed-restart-keeps-session", protocol),
                message=f"after the refused restart a trickle PATCH with the old ETag got {trickle.status_code}; {carried_on}")


def _can_watch(case) -> bool:
    """Whether the run has a WHEP endpoint to watch the media at."""
    return bool(case.target.embedded or case.target.live_inputs or case.target.whep_endpoint)
