"""Glass-to-glass latency and time to first frame through the reference server, per codec
(run on purpose; prints figures, asserts nothing).

Method: start the reference server as its own process; for each codec, publish stamped video
(320x240 at 30 fps, whip_whep_conformance/webrtc/stamp.py) + Opus over WHIP from this process; then, one trial at a
time, a WHEP viewer POSTs, decodes `--frames` pictures and reads each one's stamp. Time to first
frame is from the viewer's POST to its first decoded picture; latency is decode time minus the
stamped capture time (CLOCK_MONOTONIC, the same clock for both). Prints per codec the median and
p95 of the trials' TTFF, and the p50/p95/max of every frame's latency over all trials.

Joining together (`--together N`, issue 24): each trial is N viewers POSTing at once instead of one.
Each joiner makes its offer first, then all POST at one instant (N separate viewers each have their
offer ready when they click; made inside the timed window, ten offers would delay the first POSTs
behind the other nine offers' work in this one process). TTFF is per viewer, printed with its
POST-to-answer and POST-to-connected (ICE + DTLS) times. The measuring process holds its own cyclic
garbage collector off during a trial and collects between trials (a full collection here paused it
40-70 ms in mid-join: the instrument's pause, not the server's). `--viewer-processes P` spreads the
joiners over P processes, so their set-up and decoding are not one event loop's queue.
`--fault no-gop-cache` starts the server without its group-of-pictures cache, so joiners wait for a
requested keyframe, as before the cache. `--publisher-process` publishes from a process of its own,
as a real publisher is elsewhere: its encoder then answers a keyframe request without waiting behind
ten viewers' handshakes in this process.

    .venv/bin/python benchmarks/latency.py --trials 10 --frames 90
    .venv/bin/python benchmarks/latency.py --together 10 --trials 5 --frames 30 --publisher-process [--fault no-gop-cache]
    .venv/bin/python benchmarks/latency.py --together 10 --trials 10 --frames 30 --publisher-process --viewer-processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from multiprocessing import get_context
from multiprocessing.connection import Connection
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
from whip_whep_conformance.harness.measurement import quantile  # noqa: E402

SDP = {"Content-Type": "application/sdp"}


CONNECTED_MS: list[float] = []  # per viewer: POST to its ICE+DTLS connection, the floor under its TTFF
ANSWERED_MS: list[float] = []  # per joiner: POST to the answer's arrival
FRAMES_AT_MARKER = [True]  # viewers decode a frame at its marker bit, as browsers do (--aiortc-frames: at the next frame)


async def trial(http: httpx.AsyncClient, play_url: str, frames: int, timeout_s: float,
                start: asyncio.Future[None] | None = None, offered=None) -> tuple[float, list[int]]:
    """One viewer: offer, POST, decode `frames` stamped pictures. With `start`, the offer is made first,
    `offered()` is called, and the POST waits for `start` (joining together)."""
    viewer = player.Player([], frames_at_marker=FRAMES_AT_MARKER[0])
    posted: httpx.Response | None = None
    try:
        offer = await peer.local_offer(viewer.pc)
        if start is not None:
            offered()
            await start
        viewer.started = time.monotonic()
        viewer.pc.on("connectionstatechange", lambda: viewer.pc.connectionState == "connected" and CONNECTED_MS.append(
            (time.monotonic() - viewer.started) * 1000))
        posted = await http.post(play_url, content=offer, headers=SDP)
        if not posted.is_success:
            raise RuntimeError(f"the POST was answered {posted.status_code}: {posted.text[:200]}")
        ANSWERED_MS.append((time.monotonic() - viewer.started) * 1000)
        await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
        ok = await viewer.wait_for("video", lambda s: len(s.measurement.latencies_ms) >= frames, timeout_s)
        video = viewer.streams["video"]
        if not ok or video.first_frame_s is None:
            raise RuntimeError(f"the viewer read {len(video.measurement.latencies_ms)} stamps in {timeout_s} s")
        return video.first_frame_s * 1000, list(video.measurement.latencies_ms)
    finally:
        await viewer.close()
        if posted is not None and posted.headers.get("Location"):
            await http.delete(str(httpx.URL(play_url).join(posted.headers["Location"])))


async def joiners(http: httpx.AsyncClient, play_url: str, viewers: int, frames: int, timeout_s: float, ready) -> list:
    """`viewers` trials whose offers are made first; `await ready()` once all are, then all POST at once.
    Returns the trials' results; the collector is held off from the first offer to the last frame."""
    loop = asyncio.get_running_loop()
    start: asyncio.Future[None] = loop.create_future()
    offers_made = asyncio.Event()
    made = 0

    def offered() -> None:
        nonlocal made
        made += 1
        if made == viewers:
            offers_made.set()

    gc.collect()
    gc.disable()
    try:
        running = [asyncio.ensure_future(trial(http, play_url, frames, timeout_s, start, offered)) for _ in range(viewers)]
        try:
            await asyncio.wait_for(offers_made.wait(), timeout_s)
            await ready()
            start.set_result(None)
            return await asyncio.gather(*running)
        finally:  # one failed, or the round never started: the others end too (closing their peers)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
    finally:
        gc.enable()


async def together(http: httpx.AsyncClient, play_url: str, viewers: int, frames: int,
                   timeout_s: float) -> tuple[list[float], list[int]]:
    """`viewers` trials POSTing at once: each viewer's TTFF, and every frame's latency."""
    async def now() -> None:
        return None

    results = await joiners(http, play_url, viewers, frames, timeout_s, now)
    return [ttff for ttff, _ in results], [latency for _, latencies in results for latency in latencies]


def viewer_process(play_url: str, viewers: int, frames: int, timeout_s: float, trials: int, control: Connection,
                   frames_at_marker: bool) -> None:
    """Run `trials` rounds of `viewers` joiners in this process: report "ready" when a round's offers are
    made, POST on "go", then send the round's (TTFFs, latencies, answered, connected)."""
    FRAMES_AT_MARKER[0] = frames_at_marker

    async def rounds() -> None:
        peer.restrict_host_addresses(["127.0.0.1"])
        loop = asyncio.get_running_loop()

        async def ready() -> None:
            control.send("ready")
            if await loop.run_in_executor(None, control.recv) != "go":
                raise RuntimeError("told to stop")

        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(trials):
                results = await joiners(http, play_url, viewers, frames, timeout_s, ready)
                control.send(([t for t, _ in results], [x for _, lat in results for x in lat], ANSWERED_MS[:], CONNECTED_MS[:]))
                ANSWERED_MS.clear()
                CONNECTED_MS.clear()

    asyncio.run(rounds())


class ViewerProcesses:
    """`processes` viewer processes sharing each round's joiners; every round starts at one instant."""

    def __init__(self, play_url: str, viewers: int, processes: int, frames: int, timeout_s: float, trials: int) -> None:
        context = get_context("spawn")
        shares = [viewers // processes + (1 if i < viewers % processes else 0) for i in range(processes)]
        self.pipes, self.processes = [], []
        for share in shares:
            ours, theirs = context.Pipe()
            process = context.Process(daemon=True, target=viewer_process, args=(play_url, share, frames, timeout_s, trials, theirs,
                                                                          FRAMES_AT_MARKER[0]))
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    async def round(self) -> tuple[list[float], list[int]]:
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            if await loop.run_in_executor(None, pipe.recv) != "ready":
                raise RuntimeError("a viewer process did not get ready")
        for pipe in self.pipes:
            pipe.send("go")
        ttffs, latencies = [], []
        for pipe in self.pipes:
            their_ttffs, their_latencies, answered, connected = await loop.run_in_executor(None, pipe.recv)
            ttffs += their_ttffs
            latencies += their_latencies
            ANSWERED_MS.extend(answered)
            CONNECTED_MS.extend(connected)
        return ttffs, latencies

    def join(self) -> None:
        """Stop and reap every viewer process (also after a failed round: none is left waiting for "go")."""
        for pipe in self.pipes:
            try:
                pipe.send("stop")
            except OSError:
                pass
            pipe.close()
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()


phases: dict[str, tuple[list[float], list[float]]] = {}  # per codec: every viewer's answered and connected ms


def publisher_process(codec: str, whip_url: str, control: Connection) -> None:
    """Publish `codec` to `whip_url` until told to stop; report the publisher's connection state first."""
    async def publish() -> None:
        peer.restrict_host_addresses(["127.0.0.1"])
        pub = player.publisher(codec)
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(whip_url, content=await peer.local_offer(pub), headers=SDP)
            await pub.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
            control.send(await peer.wait_connected(pub, 20))
            await asyncio.get_running_loop().run_in_executor(None, control.recv)
        await pub.close()

    asyncio.run(publish())


async def publish(http: httpx.AsyncClient, codec: str, whip_url: str, own_process: bool):
    """A connected publisher; returns how to stop it."""
    if own_process:
        ours, theirs = get_context("spawn").Pipe()
        process = get_context("spawn").Process(target=publisher_process, args=(codec, whip_url, theirs))
        process.start()
        state = await asyncio.get_running_loop().run_in_executor(None, ours.recv)

        async def stop() -> None:
            ours.send("stop")
            await asyncio.get_running_loop().run_in_executor(None, process.join, 10)
    else:
        pub = player.publisher(codec)
        answer = await http.post(whip_url, content=await peer.local_offer(pub), headers=SDP)
        await pub.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        state = await peer.wait_connected(pub, 20)
        stop = pub.close
    if state != "connected":
        raise RuntimeError(f"the {codec} publisher did not connect")
    return stop


async def run(codecs: list[str], trials: int, frames: int, viewers: int = 1,
              faults: list[str] | None = None, publisher_own_process: bool = False,
              relay_workers: int = 1, viewer_processes: int = 1) -> dict[str, tuple[list[float], list[int]]]:
    server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=faults or [], ice_servers=[],
                            extra_args=[f"--relay-workers={relay_workers}"] if relay_workers > 1 else None)
    server.start()
    peer.restrict_host_addresses(["127.0.0.1"])
    results: dict[str, tuple[list[float], list[int]]] = {}
    phases.clear()
    phases.update({codec: ([], []) for codec in codecs})
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            for codec in codecs:
                created = await http.post(f"{server.base_url}/client/v4/accounts/bench/stream/live_inputs",
                                          headers={"Authorization": f"Bearer {server.api_token}"})
                urls = created.json()["result"]
                stop_publisher = await publish(http, codec, urls["webRTC"]["url"], publisher_own_process)
                ttffs, latencies = [], []
                spread = (ViewerProcesses(urls["webRTCPlayback"]["url"], viewers, viewer_processes, frames, 30, trials)
                          if viewer_processes > 1 else None)
                try:
                    for index in range(trials):
                        if spread is not None:
                            trial_ttffs, frame_latencies = await spread.round()
                        elif viewers > 1:
                            trial_ttffs, frame_latencies = await together(http, urls["webRTCPlayback"]["url"], viewers, frames, 30)
                        else:
                            ttff, frame_latencies = await trial(http, urls["webRTCPlayback"]["url"], frames, 30)
                            trial_ttffs = [ttff]
                        ttffs += trial_ttffs
                        latencies += frame_latencies
                        connected, CONNECTED_MS[:] = sorted(CONNECTED_MS), []
                        answered, ANSWERED_MS[:] = sorted(ANSWERED_MS), []
                        phases[codec][0].extend(answered)
                        phases[codec][1].extend(connected)
                        print(f"{codec} trial {index + 1}: first frame {', '.join(f'{t:.0f}' for t in sorted(trial_ttffs))} ms "
                              f"(answered {', '.join(f'{t:.0f}' for t in answered)} ms; "
                              f"connected {', '.join(f'{t:.0f}' for t in connected)} ms), "
                              f"latency p95 {quantile(frame_latencies, 0.95):.0f} ms over {len(frame_latencies)} frames", flush=True)
                finally:
                    if spread is not None:
                        spread.join()
                results[codec] = (ttffs, latencies)
                await stop_publisher()
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codecs", nargs="+", default=["vp9", "vp8", "h264"], choices=sorted(player.VIDEO_CODECS))
    parser.add_argument("--trials", type=int, default=10, help="viewers per codec, one after another")
    parser.add_argument("--frames", type=int, default=90, help="stamped pictures each viewer decodes")
    parser.add_argument("--together", type=int, default=1, metavar="N",
                        help="viewers that POST at once in each trial (joining together)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="start the server with this fault (e.g. no-gop-cache); repeatable")
    parser.add_argument("--publisher-process", action="store_true", help="publish from a process of its own")
    parser.add_argument("--aiortc-frames", action="store_true",
                        help="viewers complete a frame as aiortc does, when the next frame's first packet comes "
                             "(default: at the frame's marker bit, as browsers do; webrtc/marker_frames.py)")
    parser.add_argument("--viewer-processes", type=int, default=1, metavar="P",
                        help="spread each round's joiners over P processes (with --together)")
    parser.add_argument("--relay-workers", type=int, default=1, metavar="N",
                        help="start the server with --relay-workers=N: joiners' set-up (peer connection, DTLS) on N processes")
    args = parser.parse_args()
    if not 1 <= args.viewer_processes <= args.together:
        parser.error(f"--viewer-processes must be from 1 to --together ({args.together}): every process takes a joiner")
    FRAMES_AT_MARKER[0] = not args.aiortc_frames
    results = asyncio.run(run(args.codecs, args.trials, args.frames, args.together, args.fault, args.publisher_process,
                              args.relay_workers, args.viewer_processes))
    joined = f"{args.trials} trials x {args.together} viewers joining together" if args.together > 1 else f"{args.trials} viewers"
    print(f"\n{'codec':6} {'TTFF median':>12} {'TTFF p95':>9} {'answer p50/p95':>15} {'connected p50/p95':>18} "
          f"{'latency p50':>12} {'p95':>5} {'max':>5}  (ms; {joined} x {args.frames} frames; faults: "
          f"{', '.join(args.fault) or 'none'}; relay workers: {args.relay_workers}; viewer processes: {args.viewer_processes}; "
          f"frames {'as aiortc' if args.aiortc_frames else 'at marker'})")
    for codec, (ttffs, latencies) in results.items():
        answered, connected = phases[codec]
        print(f"{codec:6} {statistics.median(ttffs):12.0f} {quantile(ttffs, 0.95):9.0f} "
              f"{quantile(answered, 0.5):7.0f} /{quantile(answered, 0.95):6.0f} {quantile(connected, 0.5):9.0f} /{quantile(connected, 0.95):7.0f} "
              f"{quantile(latencies, 0.5):12.0f} {quantile(latencies, 0.95):5.0f} {max(latencies):5.0f}")


if __name__ == "__main__":
    main()
