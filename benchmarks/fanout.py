"""Fan-out: how many WHEP viewers one reference server process serves (run on purpose; prints figures,
asserts nothing).

Method: the reference server runs in its own process. One publisher (this process) sends VP8 video
only, 640x480 at 30 fps and ~1 Mbit/s, encoded once beforehand (10 s, looped), so the rate holds
however busy the viewers make the machine. Viewers are cheap aiortc peers (count RTP after SRTP, never
decode) spread over `--viewer-processes` processes of their own, so the figures are the server's.
For each step N the viewers are topped up to N, all connected, then measured over `--window`
seconds: packets each viewer got against what the publisher sent (loss), and the relay-added delay
per packet — the viewer's arrival time minus the abs-send-time the relay stamps when the packet
reaches it (same machine, same wall clock; 6.18 fixed point, mod 64 s). Server CPU comes from
/proc/PID/stat over the same window, summed over the server's processes (with `--relay-workers=N`, the
API process and its N workers; a worker stamps abs-send-time afresh, so the delay is the worker's
alone). `--server-cpus` and `--viewer-cpus` pin the two sides to CPUs of their own (sched_setaffinity,
every thread, as taskset -a), so the viewers' cost stays off the server's cores. A step passes when every viewer got >= 99% of the packets and
the delay p95 <= 100 ms.

    .venv/bin/python benchmarks/fanout.py --steps 25 50 100 --window 8 --viewer-processes 2
    .venv/bin/python benchmarks/fanout.py --relay-workers 2 --server-cpus 1 --viewer-cpus 0 --steps 50 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path

import av
import httpx
from aiortc.mediastreams import MediaStreamTrack

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.reference_server.relay import abs_send_time  # noqa: E402  the relay's own clock for the stamp

SDP = {"Content-Type": "application/sdp"}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_pids(pid: int) -> list[int]:
    """The server's process and its children (the relay workers of --relay-workers), from /proc."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [pid, *children]


def pin(pids: list[int], cpus: set[int] | None) -> None:
    """Keep these processes (every thread) on `cpus`, as taskset -a would; None leaves them be."""
    if cpus is None:
        return
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.sched_setaffinity(int(task.name), cpus)


ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def abs_send_time_of(packet: bytes, ext_id: int) -> int | None:
    """The abs-send-time in an RTP packet's one-byte header extensions (RFC 8285), read in place."""
    if not packet[0] & 0x10:
        return None
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[offset:offset + 2] != b"\xbe\xde":
        return None
    end = offset + 4 + 4 * int.from_bytes(packet[offset + 2:offset + 4], "big")
    offset += 4
    while offset < end:
        if packet[offset] == 0:  # padding
            offset += 1
            continue
        element, size = packet[offset] >> 4, (packet[offset] & 0x0F) + 1
        if element == ext_id and size == 3:
            return int.from_bytes(packet[offset + 1:offset + 4], "big")
        offset += 1 + size
    return None


def _counter(state: dict, ext_id: int):
    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        state["packets"] += 1
        sent = abs_send_time_of(data, ext_id)
        if sent is not None:
            state["delays"].append(((abs_send_time() - sent) & 0x00FFFFFF) / (1 << 18) * 1000)

    return handle_rtp_data


# --- viewer processes ---------------------------------------------------------------------------

def viewer_process(url: str, commands, results, cpus: set[int] | None = None) -> None:
    """Hosts viewers; commands: ("add", n) | ("reset",) | ("report",) | ("stop",)."""
    pin([os.getpid()], cpus)
    asyncio.run(_viewer_loop(url, commands, results))


async def _viewer_loop(url: str, commands, results) -> None:
    from aiortc import RTCSessionDescription

    from whip_whep_conformance.webrtc import peer

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
                    posted = await http.post(url, content=await peer.local_offer(pc), headers=SDP)
                    await pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
                    ext_id = int(posted.text.split(f" {ABS_SEND_TIME}")[0].rsplit("a=extmap:", 1)[1].split("/")[0])
                    # counted right after SRTP, before aiortc parses or routes the packet: cheap viewers
                    pc.getTransceivers()[0].receiver.transport._handle_rtp_data = _counter(state, ext_id)
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

FPS = 30
LOOP_S = 10  # seconds of video encoded once and sent in a loop
GRAIN_SHIFT = 2  # grain amplitude 64: libvpx then lands near 1 Mbit/s at 640x480
GOP = FPS  # a keyframe every second: a joining viewer's relay needs one, and the loop restarts on one


def encode_loop(seconds: float, bitrate: int, width: int = 640, height: int = 480) -> list[bytes]:
    """VP8 frames encoded once, before any viewer, at ~`bitrate` (libvpx, realtime): sending them
    costs the publisher no encoding, so its rate holds however busy the machine gets."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.bit_rate, codec.gop_size, codec.time_base = bitrate, GOP, Fraction(1, FPS)
    codec.options = {"deadline": "realtime", "cpu-used": "4", "lag-in-frames": "0",
                     "minrate": str(bitrate), "maxrate": str(bitrate)}
    frames = int(seconds * FPS)
    # grain sliding two pixels a frame: motion, and detail enough for libvpx to spend the bitrate
    texture = bytes(96 + (b >> GRAIN_SHIFT) for b in random.Random(1).randbytes(width * height + 2 * frames))
    chroma = bytes([128]) * (width // 2 * height // 2)
    encoded = []
    for index in range(frames):
        frame = av.VideoFrame(width, height, "yuv420p")
        frame.planes[0].update(texture[2 * index:2 * index + width * height])
        frame.planes[1].update(chroma)
        frame.planes[2].update(chroma)
        frame.pts, frame.time_base = index, Fraction(1, FPS)
        encoded += [bytes(packet) for packet in codec.encode(frame)]
    return encoded + [bytes(packet) for packet in codec.encode(None)]


class PreEncodedVideoTrack(MediaStreamTrack):
    """Hands aiortc's sender encoded VP8 frames (av.Packet) at 30 fps, looping; aiortc packs them
    into RTP without encoding (RTCRtpSender takes packets as well as frames)."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self.frames = frames
        self.index = 0
        self.started: float | None = None

    async def recv(self) -> av.Packet:
        if self.started is None:
            self.started = time.monotonic()
        due = self.started + self.index / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))  # a source's pacing, not synchronisation
        packet = av.Packet(self.frames[self.index % len(self.frames)])
        packet.pts, packet.time_base = self.index * (90000 // FPS), Fraction(1, 90000)
        self.index += 1
        return packet


async def publish(server, frames: list[bytes]) -> tuple[object, object]:
    from aiortc import RTCSessionDescription
    from aiortc.rtcrtpsender import RTCRtpSender

    from whip_whep_conformance.webrtc import peer

    http = httpx.AsyncClient(timeout=30)
    created = await http.post(f"{server.base_url}/client/v4/accounts/bench/stream/live_inputs",
                              headers={"Authorization": f"Bearer {server.api_token}"})
    urls = created.json()["result"]
    pc = peer.new_peer_connection([])
    video = pc.addTransceiver(PreEncodedVideoTrack(frames), direction="sendonly")
    video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"])
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


async def run(steps: list[int], window: float, processes: int, bitrate: int, relay_workers: int = 1,
              server_cpus: set[int] | None = None, viewer_cpus: set[int] | None = None) -> None:
    from whip_whep_conformance.harness.embedded import EmbeddedServer
    from whip_whep_conformance.webrtc import peer
    from whip_whep_conformance.protocol import profiles

    frames = encode_loop(LOOP_S, bitrate)
    print(f"publisher: {len(frames)} VP8 640x480 frames encoded beforehand, "
          f"{sum(map(len, frames)) * 8 / LOOP_S / 1e6:.2f} Mbit/s, sent in a loop at {FPS} fps", flush=True)
    server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[], ice_servers=[],
                            extra_args=[f"--relay-workers={relay_workers}"], start_timeout_s=90)
    server.start()
    pids = server_pids(server.proc.pid)
    pin(pids, server_cpus)
    pin([os.getpid()], viewer_cpus)  # the publisher sits with the viewers, off the server's cores
    print(f"server: {relay_workers} relay worker(s), processes {pids}, CPUs {sorted(server_cpus) if server_cpus else 'any'}; "
          f"viewers and publisher on CPUs {sorted(viewer_cpus) if viewer_cpus else 'any'}", flush=True)
    peer.restrict_host_addresses(["127.0.0.1"])
    context = get_context("spawn")
    workers = []
    try:
        pc, urls = await publish(server, frames)
        loop = asyncio.get_running_loop()
        for _ in range(processes):
            commands, results = context.Queue(), context.Queue()
            process = context.Process(target=viewer_process, args=(urls["webRTCPlayback"]["url"], commands, results, viewer_cpus))
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
            sent_before, start = await sent_packets(pc), time.monotonic()
            cpu_before = [cpu_seconds(p) for p in pids]
            await asyncio.sleep(window)  # the measurement window
            elapsed = time.monotonic() - start
            each = [(cpu_seconds(p) - b) / elapsed for p, b in zip(pids, cpu_before)]  # summed over the server's processes
            cpu = sum(each)
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
                  f"   (publisher: {sent / window:.0f} packets/s, {sent_bytes * 8 / window / 1e6:.2f} Mbit/s"
                  + (f"; CPU per process {' '.join(f'{c * 100:.0f}%' for c in each)}" if len(each) > 1 else "") + ")",
                  flush=True)
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
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="the publisher's VP8 bitrate, bit/s")
    parser.add_argument("--relay-workers", type=int, default=1, help="the server's --relay-workers (default 1)")
    parser.add_argument("--server-cpus", type=_cpus, help="CPUs the server's processes are pinned to, e.g. 1 or 0-1")
    parser.add_argument("--viewer-cpus", type=_cpus, help="CPUs the viewer processes and the publisher are pinned to")
    args = parser.parse_args()
    asyncio.run(run(sorted(args.steps), args.window, args.viewer_processes, args.bitrate, args.relay_workers,
                    args.server_cpus, args.viewer_cpus))


def _cpus(text: str) -> set[int]:
    """A CPU list as taskset takes it: 1, 0-1, 0,2."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


if __name__ == "__main__":
    main()
