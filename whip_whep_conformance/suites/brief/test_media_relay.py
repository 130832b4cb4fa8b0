"""Product brief, step 3 — what is published over WHIP is played, decoded, at WHEP viewers.

Each case publishes a moving picture and Opus from an aiortc peer and judges decoded frames at
aiortc players: a connection that carries nothing is a Fail, not a Pass.
"""

import time

import pytest

from whip_whep_conformance.harness.grading import ArrangeFailed
from whip_whep_conformance.webrtc.consent import ConsentCheck
from whip_whep_conformance.harness.player import VIDEO_CODECS

pytestmark = [pytest.mark.asyncio, pytest.mark.viewer]  # every case plays at WHEP viewers

CODECS = ["vp9", "vp8", "h264"]
FRAMES = 15  # half a second of video at 30 fps; audio frames are 20 ms


@pytest.mark.requirement("BRIEF-MEDIA-1")
@pytest.mark.parametrize("codec", CODECS)
async def test_publication_is_decoded_by_several_viewers(case, codec):
    """Publish video and Opus over WHIP, play it with three WHEP viewers: each decodes video and audio."""
    urls, _ = await case.start_publisher(codec)
    players = [(await case.start_player(urls))[0] for _ in range(3)]
    timeout = case.target.timeout_s
    for index, player in enumerate(players):
        for kind in ("video", "audio"):
            decoded = await player.wait_frames(kind, FRAMES, timeout)
            case.expect(decoded, "BRIEF-MEDIA-1",
                        message=f"viewer {index + 1} decoded {player.streams[kind].frames} {kind} frames in {timeout:g} s "
                                f"(wanted {FRAMES}); RTP seen: payload types {sorted(player.streams[kind].payload_types)}")
        case.record.figures.update(player.figures(f"viewer{index + 1}_"))


@pytest.mark.requirement("BRIEF-MEDIA-2")
@pytest.mark.parametrize("codec", CODECS)
async def test_viewer_receives_the_publisher_codec(case, codec):
    """Publish one video codec; a viewer that offered several receives that codec, unchanged."""
    urls, _ = await case.start_publisher(codec)
    player, _ = await case.start_player(urls)
    await player.wait_frames("video", 1, case.target.timeout_s)
    received = {str(player.codec_name(pt)).lower() for pt in player.streams["video"].payload_types}
    case.expect(received == {VIDEO_CODECS[codec].lower()}, "BRIEF-MEDIA-2",
                message=f"published {VIDEO_CODECS[codec]}, the viewer received {sorted(received) or 'nothing'}")


@pytest.mark.requirement("BRIEF-MEDIA-3")
@pytest.mark.parametrize("codec", CODECS)
async def test_late_joiner_decodes_promptly(case, codec):
    """Join a viewer to a live stream, then another once it has decoded a second of video: both decode."""
    urls, _ = await case.start_publisher(codec)
    first, _ = await case.start_player(urls)  # the publication's first keyframe is already gone
    decoded = await first.wait_for("video", lambda s: s.keyframes >= 1 and s.frames >= 30, case.target.timeout_s)
    case.expect(decoded, "BRIEF-MEDIA-3",
                message=f"a viewer joining a live stream decoded {first.streams['video'].frames} video frames in "
                        f"{case.target.timeout_s:g} s ({first.streams['video'].keyframes} keyframes arrived)")
    late, _ = await case.start_player(urls)
    decoded = await late.wait_for("video", lambda s: s.keyframes >= 1 and s.frames >= 1, case.target.timeout_s)
    case.expect(decoded, "BRIEF-MEDIA-3",
                message=f"a viewer joining mid-stream decoded no video frame in {case.target.timeout_s:g} s "
                        f"({late.streams['video'].keyframes} keyframes arrived)")
    case.record.figures.update(late.figures("late_joiner_"))


@pytest.mark.requirement("BRIEF-MEDIA-4")
async def test_viewer_leaving_does_not_disturb_another(case):
    """Two viewers decode; one DELETEs its session; the other keeps decoding video."""
    urls = await case.live_stream()
    staying, _ = await case.start_player(urls)
    leaving, leaving_posted = await case.start_player(urls)
    await staying.wait_frames("video", FRAMES, case.target.timeout_s)
    await case.signalling.delete(leaving_posted.location)
    kept = await staying.wait_frames("video", FRAMES, case.target.timeout_s)
    case.expect(kept, "BRIEF-MEDIA-4",
                message=f"after another viewer left, the remaining viewer decoded no {FRAMES} more frames "
                        f"(connection {staying.pc.connectionState})")


@pytest.mark.requirement("BRIEF-MEDIA-5")
async def test_keyframe_request_is_answered(case):
    """Video arrives on the SSRC the answer signals, and a PLI naming it is answered with a keyframe."""
    urls = await case.live_stream()
    player, _ = await case.start_player(urls)
    await player.wait_frames("video", 30, case.target.timeout_s)
    signalled, received = player.signalled_ssrcs("video"), sorted(player.streams["video"].ssrcs)
    case.expect(not signalled or set(received) <= set(signalled), "BRIEF-MEDIA-5",
                message=f"video arrives on SSRC {received}, the answer signals a=ssrc {signalled}: "
                        "the viewer's feedback (PLI, NACK) names an SSRC the server does not send")
    before = player.streams["video"].keyframes
    await player.request_keyframe()
    answered = await player.wait_for("video", lambda s: s.keyframes > before, case.target.timeout_s)
    case.expect(answered, "BRIEF-MEDIA-5",
                message=f"no keyframe within {case.target.timeout_s:g} s of a PLI for SSRC(s) "
                        f"{sorted(player.streams['video'].ssrcs)}")


@pytest.mark.requirement("BRIEF-MEDIA-6")
async def test_nack_is_answered_with_a_retransmission(case):
    """A decoding viewer NACKs its newest video packet: the server retransmits it (RTX, RFC 4588).

    As a viewer in steady state: the NACK follows the viewer's receiver report on the server's sender
    report (RFC 3550 §6.4), from which a sender learns the round-trip time that sizes its retransmission
    buffer. Janus keeps no buffer before that: its queue time starts at 0 and is set only when an RR
    changes the RTT (src/ice.c:3140-3155; nothing is stored while it is 0, 4918 and 5009), so a NACK sent
    with the first frames, before any report, asked for a packet nobody kept. A NACK is only a hint
    (RFC 4585 §3.2), so the viewer NACKs its newest packet again each NACK_INTERVAL_S, for up to
    NACK_WINDOW_S, until an RTX carrying one of the NACKed sequence numbers (its OSN, RFC 4588 §4)
    comes; the RTX must answer a NACK of ours, not the player's own NACKs of a lost packet."""
    urls = await case.live_stream()
    player, _ = await case.start_player(urls)
    if not await player.wait_frames("video", 15, case.target.timeout_s):
        # the control: a NACK can only be answered on a stream that flows (no media is BRIEF-MEDIA-1's Fail)
        raise ArrangeFailed(f"arranging a playing viewer failed: 15 video frames not decoded in "
                            f"{case.target.timeout_s:g} s (graded under BRIEF-MEDIA-1)")
    if not player.has_rtx("video"):
        case.not_applicable("the answer negotiated no RTX for video")
    await player.wait_for("video", lambda s: s.reported or s.receiver_reports >= REPORTS_WITHOUT_SR,
                          case.target.timeout_s)
    reported = player.streams["video"].reported
    asked: list[int] = []
    window = max(case.target.timeout_s, NACK_WINDOW_S)
    deadline = time.monotonic() + window
    answered = False
    while not answered and time.monotonic() < deadline:
        seq = await player.request_retransmission()
        if seq is not None:
            asked.append(seq)
        answered = await player.wait_for("video", lambda s: bool(s.repaired & set(asked)),
                                         min(NACK_INTERVAL_S, max(0.0, deadline - time.monotonic())))
    report = ("after the viewer's receiver report on the server's sender report" if reported else
              f"though the server sent no sender report before the viewer's {REPORTS_WITHOUT_SR} receiver reports")
    case.expect(answered, "BRIEF-MEDIA-6",
                message=f"no RTX packet within {window:g} s of {len(asked)} NACKs, {report}, for sequence "
                        f"numbers {asked[:8]}{' …' if len(asked) > 8 else ''} (RTX received for "
                        f"{sorted(player.streams['video'].repaired)[:8]})")


REPORTS_WITHOUT_SR = 2  # a server may send no SR: NACK anyway once the viewer has reported twice (about 2 s)
NACK_INTERVAL_S = 1.0  # the viewer's NACKs of its newest packet, about one RTCP interval apart
# How long the viewer keeps NACKing (or --timeout-s, if longer): a sender may need several of the viewer's
# reports before it keeps packets. Janus sizes its buffer only when an RR changes its RTT estimate from
# the last (src/ice.c:3140), which starts at 0: on a sub-millisecond link most reports measure 0 ms, and
# in the lab up to seven NACKs, a second apart, went unanswered before one was.
NACK_WINDOW_S = 20.0


SUSTAINED_S = 10.0  # how long one viewer is watched: longer than any other case watches (media that stops after a few seconds)
MAX_GAP_S = 1.0  # no decoded frame for longer than this is playback that stopped, not a freeze to report


@pytest.mark.requirement("BRIEF-MEDIA-7", "BRIEF-LOSS-1", "BRIEF-FREEZE-1")
async def test_playback_is_sustained(case):
    """Publish VP8 and watch one viewer for 10 s: decoded frames keep coming, never a gap over a second,
    and the server still answers the viewer's consent checks at the end; report frames lost and the
    longest freeze (a Fail only above --max-loss-pct / --max-freeze-ms).

    A gap is measured between decoded pictures, counting the end of the watch: a server that stops
    forwarding after five seconds leaves a five-second gap. Loss and freezes depend on the network
    between the suite and the target, so only the user can set their limits (as for latency)."""
    urls, _ = await case.start_publisher("vp8")
    player, _ = await case.start_player(urls)
    if not await player.wait_frames("video", 1, case.target.timeout_s):
        raise ArrangeFailed(f"arranging a playing viewer failed: no video frame decoded in {case.target.timeout_s:g} s "
                            "(graded under BRIEF-MEDIA-1)")
    started = time.monotonic()
    await player.wait_for("video", lambda _: time.monotonic() - started >= SUSTAINED_S, SUSTAINED_S)
    ended = time.monotonic()
    consent = await ConsentCheck(player.pc).answered()
    longest = player.longest_gap_ms(started, ended) or 0.0
    decoded = len([a for a in player.streams["video"].measurement.arrivals_s if started <= a <= ended])
    case.record.figures.update(player.figures())
    case.expect(longest <= MAX_GAP_S * 1000, "BRIEF-MEDIA-7",
                message=f"over {ended - started:.1f} s of playback the viewer decoded {decoded} video frames, and none "
                        f"for {longest / 1000:.1f} s (at most {MAX_GAP_S:g} s allowed); connection {player.pc.connectionState}")
    if consent is not True:  # graded once, under the spec's rule, by test_consent_is_answered_while_the_session_lives
        case.info("BRIEF-MEDIA-7", f"the server did not answer a consent check after {SUSTAINED_S:g} s of playback "
                                   "(graded in test_consent.py::test_consent_is_answered_while_the_session_lives)")
    grade_loss_and_freezes(case, player)


def grade_loss_and_freezes(case, player) -> None:
    """Frames lost (percent) and the longest freeze, against --max-loss-pct / --max-freeze-ms (Info without)."""
    loss = player.loss_pct()
    freezes = player.streams["video"].measurement.freezes()
    longest = max(freezes, default=0.0) if player.streams["video"].measurement.frames >= 4 else None
    case.within(None if loss is None else round(loss, 1), case.max_loss_pct, "BRIEF-LOSS-1",
                message=f"{player.streams['video'].measurement.frames_lost()} video frames lost "
                        f"({loss if loss is None else round(loss, 1)}% of those sent)")
    case.within(None if longest is None else round(longest), case.max_freeze_ms, "BRIEF-FREEZE-1",
                message=f"{len(freezes)} freezes, the longest {longest if longest is None else round(longest)} ms")
