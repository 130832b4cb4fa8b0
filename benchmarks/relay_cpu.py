"""Server CPU per WHEP viewer on the forwarding path (run on purpose; prints figures, asserts nothing).

Method: start the reference server as its own process; publish VP8 + Opus from this process with
an aiortc peer (320x240 at 30 fps); attach N cheap viewers (aiortc peers that count RTP after SRTP
and never decode). Sample the server process's CPU time (utime + stime from /proc/PID/stat) over
a window with 0 viewers and with N, and report (cpu_N - cpu_0) / N per second of wall time, plus
the packets each viewer received against what the first one received.

    .venv/bin/python benchmarks/relay_cpu.py --viewers 10 20 --window 10 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
from aiortc import RTCSessionDescription

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.harness.embedded import EmbeddedServer  # noqa: E402
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player
from whip_whep_conformance.protocol import profiles  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class CountingViewer:
    """A WHEP viewer that counts RTP packets and decodes nothing."""

    def __init__(self) -> None:
        self.pc = peer.viewer([])
        self.packets = 0
        for transceiver in self.pc.getTransceivers():
            transceiver.receiver._handle_rtp_packet = self._count

    async def _count(self, packet, arrival_time_ms: int) -> None:
        self.packets += 1


async def window(pid: int, seconds: float) -> float:
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)  # a measurement window, not synchronisation
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


async def run(viewer_counts: list[int], seconds: float) -> dict[int, tuple[float, int, int]]:
    server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[], ice_servers=[])
    server.start()
    peer.restrict_host_addresses(["127.0.0.1"])
    results: dict[int, tuple[float, int, int]] = {}
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            created = await http.post(f"{server.base_url}/client/v4/accounts/bench/stream/live_inputs",
                                      headers={"Authorization": f"Bearer {server.api_token}"})
            urls = created.json()["result"]
            pub = player.publisher("vp8")
            answer = await http.post(urls["webRTC"]["url"], content=await peer.local_offer(pub),
                                     headers={"Content-Type": "application/sdp"})
            await pub.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
            assert await peer.wait_connected(pub, 20) == "connected"
            baseline = await window(server.proc.pid, seconds)
            viewers: list[CountingViewer] = []
            for n in sorted(viewer_counts):
                while len(viewers) < n:
                    v = CountingViewer()
                    posted = await http.post(urls["webRTCPlayback"]["url"], content=await peer.local_offer(v.pc),
                                             headers={"Content-Type": "application/sdp"})
                    await v.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
                    viewers.append(v)
                for v in viewers:
                    await peer.wait_connected(v.pc, 30)
                for v in viewers:
                    v.packets = 0
                loaded = await window(server.proc.pid, seconds)
                counts = [v.packets for v in viewers]
                results[n] = ((loaded - baseline) / n, min(counts), max(counts))
            for v in viewers:
                await v.pc.close()
            await pub.close()
    finally:
        server.stop()
    return results | {0: (baseline, 0, 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--window", type=float, default=10.0, help="seconds per measurement window")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    per_viewer: dict[int, list[float]] = {n: [] for n in args.viewers}
    baselines = []
    for run_index in range(args.runs):
        results = asyncio.run(run(args.viewers, args.window))
        baselines.append(results[0][0])
        for n in args.viewers:
            cpu, low, high = results[n]
            per_viewer[n].append(cpu)
            print(f"run {run_index + 1}: {n:3d} viewers: {cpu * 1000:6.2f} ms CPU/s per viewer; "
                  f"packets per viewer in {args.window:g} s: {low}..{high}", flush=True)
    print(f"server CPU with the publisher and no viewer: median {statistics.median(baselines) * 1000:.1f} ms/s")
    for n, values in per_viewer.items():
        print(f"{n:3d} viewers: median {statistics.median(values) * 1000:.2f} ms of server CPU per second per viewer "
              f"(runs: {', '.join(f'{v * 1000:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
