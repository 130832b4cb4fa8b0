"""How long an FFmpeg WHIP publisher holds on the reference server: FFmpeg 8's muxer answers only the
first ICE consent check, so its consent expires ~30 s in (RFC 7675); the ingest must go on while its
media arrives (whip_whep_conformance/reference_server/consent.py), and a viewer must keep decoding to the end.

    .venv/bin/python benchmarks/ffmpeg_hold.py --seconds 600 [--pair standard|cloudflare]

Prints what the viewer decoded from its first frame to FFmpeg's close, the longest gap in it, frames
lost, and the teardown (FFmpeg's DELETE status, sessions left). Exit 0 when the hold reached
`--seconds` minus the start-up (`--start-allowance`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.harness.embedded import EmbeddedServer  # noqa: E402
from tests.clients.conftest import PAIRS  # noqa: E402
from tests.clients.ffmpeg_session import p256_certificate, publish_and_watch  # noqa: E402
from whip_whep_conformance.webrtc import peer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long FFmpeg publishes (default 600)")
    parser.add_argument("--pair", choices=list(PAIRS), default="standard")
    parser.add_argument("--start-allowance", type=float, default=6.0, metavar="S",
                        help="start-up (FFmpeg, ICE, DTLS, first keyframe) not counted in the hold (default 6)")
    args = parser.parse_args()
    peer.restrict_host_addresses(["127.0.0.1"])
    server = EmbeddedServer(PAIRS[args.pair], token=False, faults=[], ice_servers=[])
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            seen = asyncio.run(publish_and_watch(server, args.seconds, p256_certificate(Path(folder))))
    finally:
        server.stop()
    report = {k: seen.get(k) for k in ("hold_s", "published_s", "frames", "audio_frames", "longest_gap_ms",
                                        "loss_pct", "codecs", "requests", "sessions_left")}
    report.update(pair=args.pair, ffmpeg_exit=seen.get("ffmpeg", (None,))[0])
    print(json.dumps(report, indent=1))
    held = (seen.get("hold_s") or 0) >= args.seconds - args.start_allowance
    return 0 if held and report["ffmpeg_exit"] == 0 and seen.get("sessions_left") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
