"""One FFmpeg WHIP publication watched end to end: FFmpeg (its own process, tests/clients/ffmpeg_publisher.py)
publishes through a recording proxy while an aiortc WHEP viewer plays. Shared by the client tests and
benchmarks/ffmpeg_hold.py."""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aiortc import RTCSessionDescription
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from whip_whep_conformance.harness.embedded import EmbeddedServer
from tests.clients.conftest import wait_sessions
from tests.clients.recording_proxy import RecordingProxy
from tests.plain_shell import new_live_input
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness.player import Player

HERE = Path(__file__).resolve().parent
FIRST_FRAMES_WITHIN_S = 20.0


def p256_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for FFmpeg's cert_file/key_file (the curve upstream FFmpeg now uses)."""
    return certificate(folder, ec.generate_private_key(ec.SECP256R1()))


def rsa_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed RSA-2048 certificate for FFmpeg's cert_file/key_file."""
    return certificate(folder, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def certificate(folder: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> tuple[Path, Path]:
    """A self-signed certificate on `key`, written as PEM files FFmpeg reads."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ffmpeg-whip")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def _start_viewer(viewer: Player, whep_url: str) -> int:
    """Offer `viewer` to the input's WHEP URL and take the answer: the POST's status (201 when playing)."""
    async with httpx.AsyncClient(timeout=10) as http:
        posted = await http.post(whep_url, content=await peer.local_offer(viewer.pc),
                                 headers={"Content-Type": "application/sdp"})
    if posted.status_code == 201:
        await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
    return posted.status_code


async def _start_ffmpeg(url: str, seconds: float, certificate: tuple[Path, Path] | None,
                        output: int) -> asyncio.subprocess.Process:
    """FFmpeg's WHIP muxer (ffmpeg_publisher.py) publishing to `url` for `seconds`; its output (stdout and
    stderr together) to `output` (subprocess.PIPE to read it, DEVNULL to drop it)."""
    stderr = subprocess.STDOUT if output == subprocess.PIPE else subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "ffmpeg_publisher.py"), url, str(seconds),
        *(str(p) for p in certificate or ()), stdout=output, stderr=stderr)


async def publish_and_watch(server: EmbeddedServer, seconds: float, certificate: tuple[Path, Path] | None) -> dict:
    """FFmpeg publishes for `seconds` through a recording proxy while an aiortc viewer plays: what each saw."""
    seen: dict = {}
    urls = await asyncio.to_thread(new_live_input, server)
    proxy = await RecordingProxy(server.base_url).start()
    viewer = Player([])
    process: asyncio.subprocess.Process | None = None
    try:
        seen["viewer_post"] = await _start_viewer(viewer, urls.whep_url)
        if seen["viewer_post"] != 201:
            return seen
        publish_url = proxy.base_url + httpx.URL(urls.whip_url).raw_path.decode()
        started = time.monotonic()
        process = await _start_ffmpeg(publish_url, seconds, certificate, output=subprocess.PIPE)
        seen["video"] = await viewer.wait_frames("video", 30, FIRST_FRAMES_WITHIN_S)
        seen["audio"] = await viewer.wait_frames("audio", 25, 5)
        seen["codecs"] = sorted({viewer.codec_name(pt) or "?" for kind in ("video", "audio")
                                 for pt in viewer.streams[kind].payload_types})
        try:
            output, _ = await asyncio.wait_for(process.communicate(), seconds + 30)
        except asyncio.TimeoutError:
            process.kill()
            output, _ = await process.communicate()
        ended = time.monotonic()
        seen["ffmpeg"] = (process.returncode, output.decode(errors="replace")[-600:])
        arrivals = viewer.streams["video"].measurement.arrivals_s
        seen["frames"] = viewer.streams["video"].frames
        seen["audio_frames"] = viewer.streams["audio"].frames
        seen["hold_s"] = round(arrivals[-1] - arrivals[0], 1) if arrivals else 0.0
        seen["published_s"] = round(ended - started, 1)
        # From the first decoded frame to FFmpeg's close: a session ended early leaves a gap to the end.
        seen["longest_gap_ms"] = round(viewer.longest_gap_ms(arrivals[0], ended - 1.0) or 0) if arrivals else None
        loss = viewer.loss_pct()
        seen["loss_pct"] = round(loss, 2) if loss is not None else None
        seen["requests"] = [(e.method, e.status) for e in proxy.exchanges]
    finally:
        if process is not None and process.returncode is None:  # cancelled: FFmpeg must not outlive the test
            process.kill()
            await process.wait()
        await viewer.close()
        await proxy.stop()
    seen["sessions_left"] = await asyncio.to_thread(wait_sessions, server, 0)
    return seen


async def publish_then_vanish(server: EmbeddedServer, vanish_after_s: float, certificate: tuple[Path, Path],
                              ended_within_s: float) -> dict:
    """FFmpeg publishes to a watched input and is killed (SIGKILL: no DELETE, no DTLS close) after
    `vanish_after_s`: how long until the server holds no session (its publisher and the viewer)."""
    seen: dict = {}
    urls = await asyncio.to_thread(new_live_input, server)
    viewer = Player([])
    process: asyncio.subprocess.Process | None = None
    try:
        seen["viewer_post"] = await _start_viewer(viewer, urls.whep_url)
        if seen["viewer_post"] != 201:
            return seen
        process = await _start_ffmpeg(urls.whip_url, vanish_after_s + 60, certificate, output=subprocess.DEVNULL)
        started = time.monotonic()
        seen["video"] = await viewer.wait_frames("video", 30, FIRST_FRAMES_WITHIN_S)
        await asyncio.sleep(max(0.0, started + vanish_after_s - time.monotonic()))  # the scenario's schedule
        seen["decoding_at_kill"] = await viewer.wait_frames("video", 5, 2)
        process.kill()
        await process.wait()
        killed = time.monotonic()
        seen["sessions_left"] = await asyncio.to_thread(wait_sessions, server, 0, ended_within_s)
        seen["ended_after_s"] = round(time.monotonic() - killed, 1)
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        await viewer.close()
    return seen
