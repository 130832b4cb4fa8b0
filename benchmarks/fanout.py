"""Fan-out: how many WHEP viewers one reference server process serves (run on purpose; prints figures,
asserts nothing).

Method: the reference server runs in its own process. One publisher (this process) sends VP8 video
only, 640x480 at 30 fps and ~1 Mbit/s. Viewers are cheap aiortc peers (count RTP after SRTP, never
decode) spread over `--viewer-processes` processes of their own, so the figures are the server's.
For each step N the viewers are topped up to N, all connected, then measured over `--window`
seconds: packets each viewer got against what the publisher sent (loss), and the relay-added delay
per packet — the viewer's arrival time minus the abs-send-time the relay stamps when the packet
reaches it (same machine, same wall clock; 6.18 fixed point, mod 64 s). Server CPU comes from
/proc/PID/stat over the same window. A step passes when every viewer got >= 99% of the packets and
the delay p95 <= 100 ms.

    .venv/bin/python benchmarks/fanout.py --steps 25 50 100 --window 8 --viewer-processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SDP = {"Content-Type": "application/sdp"}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def abs_now() -> int:
    return (int(time.time() * (1 << 18)) + (2208988800 << 18)) & 0x00FFFFFF


# --- viewer processes ---------------------------------------------------------------------------

def viewer_process(url: str, commands, results) -> None:
    """Hosts viewers; commands: ("add", n) | ("reset",) | ("report",) | ("stop",)."""
    asyncio.run(_viewer_loop(url, commands, results))


async def _viewer_loop(url: str, commands, results) -> None:
    from aiortc import RTCSessionDescription

    from whip_whep import peer

    peer.restrict_host_addresses(["127.0.0.1"])
    viewers: list[dict] = []
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            command = await loop.run_in_executor(None, commands.get)
            if command[0] == "add":
                fresh = []
                for _ in range(command[1]):
                    pc = peer.new_peer_connection([])
                    pc.addTransceiver("video", direction="recvonly")
                    state = {"pc": pc, "packets": 0, "delays": []}

                    async def count(packet, arrival_time_ms, state=state) -> None:
                        state["packets"] += 1
                        sent = packet.extensions.abs_send_time
                        if sent is not None:
                            state["delays"].append(((abs_now() - sent) & 0x00FFFFFF) / (1 << 18) * 1000)

                    pc.getTransceivers()[0].receiver._handle_rtp_packet = count
                    posted = await http.post(url, content=await peer.local_offer(pc), headers=SDP)
                    await pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
                    fresh.append(state)
                states = await asyncio.gather(*(peer.wait_connected(v["pc"], 60) for v in fresh))
                viewers += fresh
                results.put(("added", sum(s == "connected" for s in states)))
            elif command[0] == "reset":
                for v in viewers:
                    v["packets"], v["delays"] = 0, []
                results.put(("reset", len(viewers)))
            elif command[0] == "report":
                results.put(("report", [v["packets"] for v in viewers],
                             [d for v in viewers for d in v["delays"][::5]]))  # every 5th delay keeps the pipe small
            elif command[0] == "stop":
                for v in viewers:
                    await v["pc"].close()
                results.put(("stopped", len(viewers)))
                return


# --- the run ---------------------------------------------------------------------------------------

async def publish(server) -> tuple[object, object]:
    import aiortc.codecs.vpx as vpx
    from aiortc import RTCSessionDescription
    from aiortc.rtcrtpsender import RTCRtpSender

    from whip_whep import peer
    from whip_whep.media import PatternVideoTrack

    vpx.DEFAULT_BITRATE = 1_000_000  # ~1 Mbit/s (REMB is ignored below, so it stays there)
    http = httpx.AsyncClient(timeout=30)
    created = await http.post(f"{server.base_url}/client/v4/accounts/bench/stream/live_inputs",
                              headers={"Authorization": f"Bearer {server.api_token}"})
    urls = created.json()["result"]
    pc = peer.new_peer_connection([])
    video = pc.addTransceiver(PatternVideoTrack(640, 480), direction="sendonly")
    video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"])
    from whip_whep.player import _ignore_bandwidth_estimates
    _ignore_bandwidth_estimates(video.sender)
    answer = await http.post(urls["webRTC"]["url"], content=await peer.local_offer(pc), headers=SDP)
    await pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
    if await peer.wait_connected(pc, 20) != "connected":
        raise RuntimeError("the publisher did not connect")
    await http.aclose()
    return pc, urls


async def sent_packets(pc) -> tuple[int, int]:
    """Packets and bytes the publisher has sent."""
    stats = [s for s in (await pc.getStats()).values() if getattr(s, "type", "") == "outbound-rtp"]
    return sum(s.packetsSent for s in stats), sum(s.bytesSent for s in stats)


async def run(steps: list[int], window: float, processes: int) -> None:
    from fixtures.embedded import EmbeddedServer
    from whip_whep import peer, profiles

    server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[], ice_servers=[])
    server.start()
    peer.restrict_host_addresses(["127.0.0.1"])
    context = get_context("spawn")
    workers = []
    try:
        pc, urls = await publish(server)
        loop = asyncio.get_running_loop()
        for _ in range(processes):
            commands, results = context.Queue(), context.Queue()
            process = context.Process(target=viewer_process, args=(urls["webRTCPlayback"]["url"], commands, results))
            process.start()
            workers.append((process, commands, results))

        async def ask(command) -> list:
            for _, commands, _ in workers:
                commands.put(command)
            return [await loop.run_in_executor(None, results.get, True, 600) for _, _, results in workers]

        total = connected = 0
        print(f"{'viewers':>7} {'connected':>9} {'server CPU':>10} {'per viewer':>11} {'min got':>8} {'median got':>10} "
              f"{'delay p50':>9} {'p95':>6}  verdict", flush=True)
        for n in steps:
            per = [(n - total) // processes + (1 if i < (n - total) % processes else 0) for i in range(processes)]
            for (_, commands, _), count in zip(workers, per):
                commands.put(("add", count))
            added = [await loop.run_in_executor(None, results.get, True, 600) for _, _, results in workers]
            total = n
            connected += sum(a[1] for a in added)
            await ask(("reset",))
            sent_before, cpu_before, start = await sent_packets(pc), cpu_seconds(server.proc.pid), time.monotonic()
            await asyncio.sleep(window)  # the measurement window
            cpu = (cpu_seconds(server.proc.pid) - cpu_before) / (time.monotonic() - start)
            sent_after = await sent_packets(pc)
            sent, sent_bytes = sent_after[0] - sent_before[0], sent_after[1] - sent_before[1]
            reports = await ask(("report",))
            counts = [c for r in reports for c in r[1]]
            delays = sorted(d for r in reports for d in r[2])
            p50 = delays[len(delays) // 2] if delays else float("nan")
            p95 = delays[int(len(delays) * 0.95)] if delays else float("nan")
            ok = counts and min(counts) >= 0.99 * sent and p95 <= 100
            print(f"{n:7d} {connected:9d} {cpu * 100:9.0f}% {cpu / n * 1000:8.2f} ms/s {min(counts) / sent:8.1%} "
                  f"{statistics.median(counts) / sent:10.1%} {p50:7.1f}ms {p95:4.0f}ms  {'pass' if ok else 'FAIL'}"
                  f"   (publisher: {sent / window:.0f} packets/s, {sent_bytes * 8 / window / 1e6:.2f} Mbit/s)", flush=True)
        await ask(("stop",))
        await pc.close()
    finally:
        for process, _, _ in workers:
            process.join(30)
            if process.is_alive():
                process.kill()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 50, 100, 150, 200, 300])
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--viewer-processes", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(sorted(args.steps), args.window, args.viewer_processes))


if __name__ == "__main__":
    main()
