"""Product brief — "less than 1 second of latency": glass-to-glass latency and time to first frame.

The publisher stamps every picture with its number and capture time (whip_whep_conformance/webrtc/stamp.py); a WHEP
viewer reads the stamp of each decoded picture. Figures are Info unless the user sets a limit
(`--max-latency-ms`, `--max-ttff-ms`): what is fast enough depends on the network between the
suite and the target, which only the user knows.
"""

import pytest

from whip_whep_conformance.suites.brief.test_media_relay import grade_loss_and_freezes

pytestmark = [pytest.mark.asyncio, pytest.mark.viewer]  # every case plays at WHEP viewers

CODECS = ["vp9", "vp8", "h264"]
MEASURED_FRAMES = 60  # two seconds at 30 fps


@pytest.mark.requirement("BRIEF-LATENCY-1", "BRIEF-TTFF-1", "BRIEF-LOSS-1", "BRIEF-FREEZE-1", "BRIEF-MEDIA-1")
@pytest.mark.parametrize("codec", CODECS)
async def test_latency_and_time_to_first_frame(case, codec):
    """Publish stamped video; a viewer decodes two seconds of it: report TTFF, latency p50/p95/max, losses, freezes."""
    urls, _ = await case.start_publisher(codec)
    player, _ = await case.start_player(urls)
    video = player.streams["video"]
    decoded = await player.wait_for("video", lambda s: len(s.measurement.latencies_ms) >= MEASURED_FRAMES,
                                    case.target.timeout_s)
    figures = player.figures()
    case.record.figures.update(figures)
    case.expect(decoded, "BRIEF-MEDIA-1",
                message=f"the viewer read {len(video.measurement.latencies_ms)} stamped pictures in "
                        f"{case.target.timeout_s:g} s (wanted {MEASURED_FRAMES}; {video.frames} decoded, "
                        f"{video.measurement.unreadable} without a readable stamp)")
    case.within(figures.get("ttff_ms"), case.max_ttff_ms, "BRIEF-TTFF-1",
                message=f"first {codec} frame decoded {figures.get('ttff_ms')} ms after the viewer's POST")
    case.within(figures.get("latency_p95_ms"), case.max_latency_ms, "BRIEF-LATENCY-1",
                message=f"glass-to-glass latency p95 {figures.get('latency_p95_ms')} ms over "
                        f"{len(video.measurement.latencies_ms)} {codec} frames (p50 {figures.get('latency_p50_ms')} ms, "
                        f"max {figures.get('latency_max_ms')} ms)")
    grade_loss_and_freezes(case, player)
