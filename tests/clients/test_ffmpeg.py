"""FFmpeg 8's WHIP muxer — an independently written WHIP client (PyAV 18.1's build, GnuTLS DTLS) —
publishes H.264 + Opus to the reference server in both profile pairs; an aiortc WHEP viewer decodes
both; FFmpeg's DELETE on close (read on the wire, through a recording proxy) is answered 2xx and the
server is left holding no session.

FFmpeg 8 answers only the first of the server's ICE consent checks (RFC 7675), so its consent expires
about 30 s in: the hold test publishes for HOLD_S (three times that) and the viewer must decode to the
end (whip_whep_conformance/reference_server/consent.py: expiry stops the server's sending, the ingest lives while its media
arrives). A third FFmpeg, killed 45 s in, shows that a publisher gone after its consent expired is
still ended. The three run at once, on one event loop in a thread, so together they cost one hold.
Wall time (measured, 2 cores under load): 104 s for the holds and the vanishing publisher, 12 s for
the two default-certificate tests.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import pytest

from whip_whep_conformance.harness.embedded import EmbeddedServer
from tests.clients.conftest import PAIRS
from tests.clients.ffmpeg_session import (FIRST_FRAMES_WITHIN_S, p256_certificate, publish_and_watch, publish_then_vanish,
                                         rsa_certificate)
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.protocol import profiles

FFMPEG = "FFmpeg 8 WHIP muxer (PyAV 18.1)"
HOLD_S = 96.0  # the viewer must decode ≥ 90 s of it (three consent timeouts, RFC 7675 §5.1), start-up aside
SHORT_S = 4.0
VANISH_AFTER_S = 45.0  # past FFmpeg's consent expiry (~33 s after its one answered check)
MEDIA_TIMEOUT_S = 15.0  # the server's --media-timeout default: a publisher silent this long is ended anyway
LONGEST_GAP_MS = 3000.0  # a viewer that stopped decoding (a session ended and nothing else) shows a gap to the end


def _problems(seen: dict, pair_id: str) -> list[str]:
    """What the issue asks of every client test: media decoded, the publisher's codec, teardown."""
    if seen.get("viewer_post") != 201:
        return [f"arranging the viewer failed: its WHEP POST got {seen.get('viewer_post')} (201 expected)"]
    problems = []
    code, output = seen["ffmpeg"]
    if code != 0:
        problems.append(f"FFmpeg's WHIP muxer failed (exit {code}): {output}")
    if not (seen["video"] and seen["audio"]):
        problems.append(f"the viewer decoded {seen['frames']} video and {seen['audio_frames']} audio frames "
                        f"(30 and 25 expected within {FIRST_FRAMES_WITHIN_S:g} s)")
    if seen["codecs"] != ["audio/opus", "video/H264"]:
        problems.append(f"the viewer received {seen['codecs']}, FFmpeg sent H.264 + Opus")
    deletes = [status for method, status in seen["requests"] if method == "DELETE"]
    if not deletes or not all(200 <= s < 300 for s in deletes):
        problems.append(f"FFmpeg's DELETE on close was answered {deletes or 'never (none sent)'}, 2xx expected "
                        f"(RFC 9725 §4.2); its requests: {seen['requests']}")
    if seen["sessions_left"] != 0:
        problems.append(f"after FFmpeg's DELETE the server still held {seen['sessions_left']} sessions (0 expected)")
    return [f"{pair_id}: {p}" for p in problems]


def _measure(measured: dict, seen: dict) -> None:
    video = [c.split("/", 1)[1] for c in seen.get("codecs", []) if c.startswith("video/")]
    measured.update(codec="+".join(video) or None, frames=seen.get("frames"), audio_frames=seen.get("audio_frames"),
                    hold_s=seen.get("hold_s"))


async def _cancel_runs() -> None:
    """Cancel the publications still running (their own clean-up kills FFmpeg and closes the viewer)."""
    runs = [t for t in asyncio.all_tasks()
            if t.get_coro().__name__ in (publish_and_watch.__name__, publish_then_vanish.__name__)]
    for task in runs:
        task.cancel()
    if runs:
        await asyncio.wait(runs, timeout=20)


@pytest.fixture(scope="module")
def holds(tmp_path_factory) -> dict[str, Future]:
    """Both pairs' HOLD_S publications and the vanishing publisher, started together on one event loop
    in a thread; each test waits for its own result (the others are done by then or soon after)."""
    peer.restrict_host_addresses(["127.0.0.1"])
    certificate = p256_certificate(tmp_path_factory.mktemp("ffmpeg-cert"))
    servers = {name: EmbeddedServer(pair, token=False, faults=[], ice_servers=[]) for name, pair in PAIRS.items()}
    servers["vanish"] = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[])
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ffmpeg-holds", daemon=True)
    try:
        for server in servers.values():
            server.start()
        thread.start()
        runs = {name: asyncio.run_coroutine_threadsafe(publish_and_watch(servers[name], HOLD_S, certificate), loop)
                for name in PAIRS}
        runs["vanish"] = asyncio.run_coroutine_threadsafe(
            publish_then_vanish(servers["vanish"], VANISH_AFTER_S, certificate, MEDIA_TIMEOUT_S + 10), loop)
        yield runs
    finally:
        if thread.is_alive():  # a hold still running (its test failed early) is cancelled, its FFmpeg killed
            asyncio.run_coroutine_threadsafe(_cancel_runs(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        for server in servers.values():
            server.stop()
        peer.restrict_host_addresses(None)


@pytest.mark.client(FFMPEG, role="publish")
def test_ffmpeg_publishes_for_90_s_past_consent_expiry(holds, pair, measured):
    """FFmpeg (P-256 certificate by cert_file/key_file) publishes for 96 s; the viewer decodes H.264 and
    Opus for ≥ 90 s of it, from its first frame to FFmpeg's close without a gap, and FFmpeg's DELETE ends it."""
    name = next(n for n, p in PAIRS.items() if p == pair)
    seen = holds[name].result(timeout=HOLD_S + 120)
    _measure(measured, seen)
    problems = _problems(seen, pair.id)
    if seen.get("viewer_post") == 201 and not (seen["hold_s"] >= 90 and (seen["longest_gap_ms"] or 0) < LONGEST_GAP_MS):
        problems.append(f"{pair.id}: the viewer decoded from its first frame for {seen['hold_s']} s of FFmpeg's "
                        f"{seen['published_s']} s (≥ 90 s expected), longest gap {seen['longest_gap_ms']} ms: "
                        "the ingest ended early (FFmpeg answers one consent check only)")
    assert not problems, "; ".join(problems) + f"\n{seen}"


@pytest.mark.client(FFMPEG, role="publish")
def test_ffmpeg_with_its_default_certificate(make_server, pair, measured):
    """FFmpeg as users run it, without cert_file/key_file: its own certificate is on P-224 (GnuTLS's
    default ECDSA size in FFmpeg 8), which the server's DTLS accepts (whip_whep_conformance/reference_server/openssl_groups.py:
    OpenSSL 3.5 with P-224 among its groups; OpenSSL 4 cannot)."""
    seen = asyncio.run(publish_and_watch(make_server(pair, token=False), SHORT_S, None))
    _measure(measured, seen)
    problems = _problems(seen, pair.id)
    assert not problems, "; ".join(problems) + f"\n{seen}"


@pytest.mark.client(FFMPEG, role="publish")
def test_ffmpeg_with_an_rsa_certificate(make_server, pair, measured, tmp_path):
    """FFmpeg 8 offers a=setup:passive (it is the DTLS server), so with an RSA certificate the server's DTLS
    client must offer ECDHE-RSA suites (whip_whep_conformance/reference_server/dtls.py): with aiortc's ECDHE-ECDSA-only list it failed."""
    seen = asyncio.run(publish_and_watch(make_server(pair, token=False), SHORT_S, rsa_certificate(tmp_path)))
    _measure(measured, seen)
    problems = _problems(seen, pair.id)
    assert not problems, "; ".join(problems) + f"\n{seen}"


def test_ffmpeg_vanishing_after_consent_expiry_is_ended(holds):
    """FFmpeg killed 45 s in (no DELETE, no DTLS close), after its consent expired: the server still ends
    its session, and its viewer's, within the media timeout and a margin — keeping an ingest past consent
    expiry does not keep a publisher that is gone (standard pair; the server's behaviour, not FFmpeg's)."""
    seen = holds["vanish"].result(timeout=VANISH_AFTER_S + MEDIA_TIMEOUT_S + 120)
    print(f"FFmpeg vanished: no session left {seen.get('ended_after_s')} s after the kill")  # the figure, with -rA
    assert seen.get("viewer_post") == 201 and seen["video"] and seen["decoding_at_kill"], (
        f"arranging failed: the viewer did not decode FFmpeg's video up to the kill: {seen}")
    assert seen["sessions_left"] == 0, (
        f"{seen['ended_after_s']} s after FFmpeg vanished (its consent expired before) the server still held "
        f"{seen['sessions_left']} sessions (0 expected within --media-timeout {MEDIA_TIMEOUT_S:g} s + 10 s): {seen}")
