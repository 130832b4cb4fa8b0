"""Meetecho's simple-whip-client (GStreamer 1.22 webrtcbin + libnice, trickle ICE by PATCH) publishes VP8 +
Opus to the reference server; an aiortc viewer decodes it; its DELETE on Ctrl+C ends the session.

It runs in a network namespace the test makes (libnice gathers no loopback candidates): see
tests/clients/simple_whip_client.py. Its DTLS certificate is RSA, so this also proves the server's DTLS
server role (`a=setup:passive` answers) with a client that cannot do anything else with aiortc.
Wall time: about 6 s per profile pair once built (the first build, Debian packages and `make`, about a minute).
"""

from __future__ import annotations

import pytest

from tests.clients import simple_whip_client as swc
from tests.clients.conftest import PAIRS
from tests.interop import lab, peers

CLIENT = f"Meetecho simple-whip-client {swc.VERSION} (GStreamer 1.22)"


@pytest.fixture(scope="module")
def whip_client() -> str:
    """The client binary (built once into the peers cache), or a skip saying why it cannot run here."""
    why_not = lab.namespace_support()
    if why_not:
        pytest.skip(why_not)
    try:
        return str(swc.build())
    except peers.PeerUnavailable as exc:
        pytest.skip(f"simple-whip-client could not be built: {exc}")


@pytest.mark.client(CLIENT, role="publish")
def test_simple_whip_client_publishes_to_a_viewer(whip_client, pair, measured, tmp_path):
    seen = swc.run(next(name for name, known in PAIRS.items() if known == pair), tmp_path)
    measured.update({"codec": "VP8", "frames": seen.video_frames, "trickle_patches": len(seen.patches),
                     "delete": seen.delete, "total_s": seen.timings.get("total_s")})
    assert not seen.error, f"the run inside the namespace failed: {seen.error}\n{seen.client_log[-1500:]}"
    assert seen.published and seen.answer_setup and set(seen.answer_setup) == {"passive"}, (
        f"RFC 9725 §4.4.4: the client's actpass offer should be answered passive and connect; answer a=setup "
        f"{seen.answer_setup}, connected {seen.published}:\n{seen.client_log[-1500:]}")
    assert seen.patches and all(status == 204 for status in seen.patches), (
        f"RFC 9725 §4.3.1: the client's trickle PATCHes should be answered 204, got {seen.patches}")
    assert (seen.video_frames >= 30, seen.audio_frames >= 25, seen.codecs) == (True, True, [swc.PUBLISHED_CODEC]), (
        f"a viewer should decode the client's VP8 and Opus: {seen.video_frames} video, {seen.audio_frames} audio "
        f"frames, codecs {seen.codecs}")
    assert (seen.delete is not None and 200 <= seen.delete < 300, seen.sessions_left) == (True, 0), (
        f"RFC 9725 §4.2: the client's DELETE on exit should be answered 2xx and leave no session; "
        f"DELETE {seen.delete}, sessions left {seen.sessions_left}")
