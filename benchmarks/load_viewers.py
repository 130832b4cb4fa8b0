"""Load generator: how many counting viewers one generator core holds at ~1 Mbit/s (run on purpose;
prints figures, asserts nothing).

Method: the reference server in its own process; one publisher (this process) sending VP8 640x480@30
encoded beforehand at ~1 Mbit/s (benchmarks/fanout.py's loop, ~104 packets/s), so its rate holds however
busy the machine is; ONE generator process (an execnet popen gateway, exactly what `whip-whep-conformance
load` starts) holding N cheap viewers. Per step the viewers are topped up to N, then an `--window` s
window: the generator's own CPU time (getrusage, every thread) over the window, the packets its viewers
counted, their loss, and the packets the publisher sent (its outbound-rtp stats). CPU per received packet
gives viewers per core at the publisher's rate: 1 / (CPU per packet x packets the publisher sends a second). `--unprotect-all` unprotects every packet (aiortc's
own path up to SRTP) instead of only each video frame's first, for comparison.

    flock /tmp/heavy.lock .venv/bin/python benchmarks/load_viewers.py --steps 50 100 200 --window 8
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fanout import LOOP_S, encode_loop, publish, sent_packets  # noqa: E402  the fan-out benchmark's pre-encoded 1 Mbit/s publisher

from whip_whep_conformance.harness.embedded import EmbeddedServer  # noqa: E402
from whip_whep_conformance.load.generators import Generators  # noqa: E402
from whip_whep_conformance.protocol import profiles  # noqa: E402
from whip_whep_conformance.webrtc import peer  # noqa: E402


async def run(steps: list[int], window: float, unprotect_all: bool, rate: float) -> None:
    frames = encode_loop(LOOP_S, 1_000_000)
    print(f"publisher: VP8 640x480@30 encoded beforehand, {sum(map(len, frames)) * 8 / LOOP_S / 1e6:.2f} Mbit/s; "
          f"viewers unprotect {'every packet' if unprotect_all else 'only the first packet of each video frame'}", flush=True)
    server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[], ice_servers=[])
    server.start()
    peer.restrict_host_addresses(["127.0.0.1"])
    generators = Generators([f"popen//python={sys.executable}"])
    try:
        pc, urls = await publish(server, frames)
        await asyncio.to_thread(generators.open, {"ice_hosts": ["127.0.0.1"], "timeout_s": 30, "unprotect_all": unprotect_all})
        total = 0
        print(f"{'viewers':>7} {'connected':>9} {'gen CPU':>8} {'packets/s':>10} {'per viewer':>10} {'us/packet':>9} "
              f"{'loss max':>8} {'published':>9}  viewers/core at the published rate", flush=True)
        for n in steps:
            share = [(i, 1, urls["webRTCPlayback"]["url"], False) for i in range(total, n)]
            await generators.ask([("add", {"viewers": share, "rate": rate})], 600)
            total = n
            await generators.ask_all(("window",), 60)
            sent_before, started = (await sent_packets(pc))[0], time.monotonic()
            await asyncio.sleep(window)  # the measurement window
            report = (await generators.ask_all(("report",), 60))[0]
            published = ((await sent_packets(pc))[0] - sent_before) / (time.monotonic() - started)
            alive = [v for v in report["viewers"] if v["state"] == "connected"]
            received = sum(v["received"] for v in alive) / report["window_s"]
            per_viewer = received / max(1, len(alive))
            loss = max((1 - v["received"] / v["expected"] if v["expected"] else 1.0) for v in alive) if alive else 1.0
            us_per_packet = report["cpu"] / received * 1e6 if received else float("nan")
            per_core = 1e6 / (us_per_packet * published) if received else float("nan")
            print(f"{n:7d} {len(alive):9d} {report['cpu']:7.0%} {received:10.0f} {per_viewer:10.1f} {us_per_packet:9.1f} "
                  f"{loss:8.2%} {published:9.1f}  {per_core:.0f}", flush=True)
        await generators.ask_all(("stop",), 120)
        await pc.close()
    finally:
        generators.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=25.0, help="viewer POSTs per second")
    parser.add_argument("--unprotect-all", action="store_true", help="unprotect every packet (the cost without the header-only path)")
    args = parser.parse_args()
    asyncio.run(run(sorted(args.steps), args.window, args.unprotect_all, args.rate))


if __name__ == "__main__":
    main()
