"""FFmpeg 8's WHIP muxer (PyAV's FFmpeg) as a command-line client, for `clients --whip-client=...`: it does
what `ffmpeg -re -i SRC -c:v libx264 -c:a libopus -f whip URL` does — publishes a live H.264 + Opus source
until Ctrl+C (SIGINT), then closes the muxer, which sends FFmpeg's DELETE. Debian's ffmpeg 5.1 has no WHIP
muxer, so PyAV's bundled FFmpeg is the one FFmpeg 8 on this machine.

    python tests/clients/ffmpeg_whip_client.py URL [TOKEN] [--cert-file F --key-file F]

Without a certificate FFmpeg uses its own (P-224), as a user running it would. Prints its FFmpeg and PyAV
versions first (the harness reads "version N" from the output).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.clients.ffmpeg_publisher import FPS, HEIGHT, RATE, WIDTH, picture, tone  # noqa: E402


def ffmpeg_version() -> str:
    """FFmpeg's version string without the 'n' of its release tags ("n8.0" -> "8.0")."""
    return str(av.ffmpeg_version_info).lstrip("nN")


class _Interrupted:
    """Set by SIGINT/SIGTERM: the publishing loop ends and the muxer is closed (FFmpeg's DELETE)."""

    def __init__(self) -> None:
        self.signal: str | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._set)

    def _set(self, signum: int, _frame: object) -> None:
        self.signal = signal.Signals(signum).name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("token", nargs="?", default="", help="Bearer token (FFmpeg's -authorization); empty: none")
    parser.add_argument("--cert-file")
    parser.add_argument("--key-file")
    parser.add_argument("--handshake-timeout-ms", default="5000")
    args = parser.parse_args()
    print(f"FFmpeg version {ffmpeg_version()} (PyAV version {av.__version__}) whip muxer", flush=True)
    stop = _Interrupted()
    options = {"handshake_timeout": args.handshake_timeout_ms}
    if args.token:
        options["authorization"] = args.token
    if args.cert_file and args.key_file:
        options.update(cert_file=args.cert_file, key_file=args.key_file)
    frames = 0
    try:
        out = av.open(args.url, mode="w", format="whip", options=options)
        video = out.add_stream("libx264", rate=FPS, options={
            "profile": "baseline", "tune": "zerolatency", "preset": "ultrafast", "bf": "0", "g": "30"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("libopus", rate=RATE, layout="stereo")
        samples, audio_index, start = RATE // 50, 0, time.monotonic()
        while stop.signal is None:
            for packet in video.encode(picture(frames)):
                out.mux(packet)
            frames += 1
            while audio_index * samples / RATE < frames / FPS:
                for packet in audio.encode(tone(audio_index, samples)):
                    out.mux(packet)
                audio_index += 1
            time.sleep(max(0.0, start + frames / FPS - time.monotonic()))  # a live source's pace
        out.close()  # FFmpeg's whip_deinit: DELETE on the session URL
    except Exception as exc:  # FFmpeg reports through av.error.*; the harness keeps the output
        print(f"error after {frames} frames: {exc}", flush=True)
        return 1
    print(f"published {frames} frames; stopped by {stop.signal}, muxer closed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
