"""FFmpeg's own WHIP client (the `whip` muxer in PyAV's FFmpeg) publishing H.264 + Opus, in its own
process: PyAV holds the GIL while FFmpeg blocks on the network, which would stall an event loop.

    python tests/clients/ffmpeg_publisher.py WHIP_URL SECONDS [CERT_FILE KEY_FILE]

Frames are produced at their real-time pace (a live source), each stamped like the suite's own
publisher. Prints "published <frames>" and exits 0, or "error <reason>" and exits 1; closing the
muxer sends FFmpeg's DELETE.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from whip_whep_conformance.webrtc import stamp  # noqa: E402

FPS, WIDTH, HEIGHT, RATE = 30, 320, 240, 48000


def picture(index: int) -> av.VideoFrame:
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    stripe = bytes(((x + 2 * index) * 2) % 256 for x in range(WIDTH))
    band = stamp.stamped_rows(stamp.Stamp(index, stamp.clock_ms()), WIDTH)
    frame.planes[0].update(stripe * (HEIGHT - stamp.band_height(WIDTH)) + band)
    frame.planes[1].update(bytes([128]) * (WIDTH // 2 * HEIGHT // 2))
    frame.planes[2].update(bytes([128]) * (WIDTH // 2 * HEIGHT // 2))
    frame.pts, frame.time_base = index, Fraction(1, FPS)
    return frame


def tone(index: int, samples: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
    frame.planes[0].update(bytes(samples * 4))  # silence is enough for Opus to packetize
    frame.pts, frame.sample_rate, frame.time_base = index * samples, RATE, Fraction(1, RATE)
    return frame


def main(url: str, seconds: float, cert: str | None, key: str | None) -> int:
    options = {"handshake_timeout": "5000"}
    if cert and key:
        options.update(cert_file=cert, key_file=key)
    try:
        out = av.open(url, mode="w", format="whip", options=options)
        video = out.add_stream("libx264", rate=FPS, options={
            "profile": "baseline", "tune": "zerolatency", "preset": "ultrafast", "bf": "0", "g": "30"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("libopus", rate=RATE, layout="stereo")
        samples = RATE // 50
        start, frames = time.monotonic(), 0
        audio_index = 0
        while time.monotonic() - start < seconds:
            for packet in video.encode(picture(frames)):
                out.mux(packet)
            frames += 1
            while audio_index * samples / RATE < frames / FPS:
                for packet in audio.encode(tone(audio_index, samples)):
                    out.mux(packet)
                audio_index += 1
            time.sleep(max(0.0, start + frames / FPS - time.monotonic()))  # a live source's pace
        out.close()
    except Exception as exc:  # FFmpeg reports through av.error.*; the caller reads the reason
        print(f"error {exc}", flush=True)
        return 1
    print(f"published {frames}", flush=True)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[0], float(args[1]), *(args[2:4] if len(args) >= 4 else (None, None))))
