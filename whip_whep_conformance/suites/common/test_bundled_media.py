"""Media multiplexed over one BUNDLE transport — RFC 9725 §4.4.1, draft-ietf-wish-whep-03 §4.5.1,
draft-murillo-whep-01 §4.5: audio and video travel together over a single ICE/DTLS transport."""

import pytest
from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
AUDIO_FRAMES = 25  # half a second of Opus
VIDEO_FRAMES = 15


@pytest.mark.requirement("WHIP-4.4.1-2", "WHEPL-4.5.1-2", "WHEP01-4.5-4")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.viewer
async def test_audio_and_video_share_the_bundle_transport(case, protocol):
    """Publish Opus and VP8, play them: the publisher (WHIP) or player (WHEP) has one transport for
    both m-sections, and both audio and video arrive at the player."""
    if protocol == "whip":
        urls, publisher_pc, _ = await case.publish_media("vp8")
    else:
        urls = await case.live_stream()  # a WHEP-only run: what is live at its endpoint
    the_player, _ = await case.start_player(urls)
    pc = publisher_pc if protocol == "whip" else the_player.pc
    transports = {id(t.receiver.transport) for t in pc.getTransceivers() if t.receiver.transport is not None}
    audio = await the_player.wait_frames("audio", AUDIO_FRAMES, case.target.timeout_s)
    video = await the_player.wait_frames("video", VIDEO_FRAMES, case.target.timeout_s)
    ids = rules.ids("one-bundle-transport", protocol)
    streams = the_player.streams
    case.expect(len(transports) == 1 and audio and video, *ids,
                message=f"the {protocol.upper()} peer used {len(transports)} transport(s); the player decoded "
                        f"{streams['audio'].frames} audio and {streams['video'].frames} video frames "
                        f"in {case.target.timeout_s:g} s each")
