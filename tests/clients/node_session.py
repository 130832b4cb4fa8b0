"""One Node client session (werift or @roamhq/wrtc) against the reference server, in a private network namespace.

werift and libwebrtc never gather loopback ICE candidates, so the client, the reference server and
the aiortc peer on the other side run in a fresh namespace (`unshare -n`) with the interop lab's veth
pair (tests/interop/lab.py: `nseth0`/`nseth1`, 10.77.0.1; named without `veth`, which ICE stacks skip).
The server gathers on 10.77.0.1 as well as loopback; HTTP stays on 127.0.0.1. Nothing in the namespace
has a route anywhere else, and every peer has an empty ICE server list: no packet can leave the machine.

The host side (`run`) installs the clients (cached), re-executes this module inside the namespace and
returns what the inside side measured; the test judges it. Scenarios:
  werift-publish  werift publishes VP8+Opus RTP (from `rtp_media.RtpSource`); an aiortc player decodes it.
  wrtc-publish    @roamhq/wrtc publishes its own encoding of synthetic frames; an aiortc player decodes it.
  werift-play     an aiortc publisher sends VP8+Opus; werift plays it and forwards the RTP it receives
                  to `rtp_media.RtpSink`, which decodes it.
Teardown is measured so it cannot pass vacuously: the server's session count is read before the
client is told to stop (publishing: our viewer has left, so 1; playing: 2), then the client DELETEs
its session (status noted) and the count must drop by exactly its session; our own peer leaves last.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness.embedded import EmbeddedServer
from tests.clients import node_stack
from tests.clients.conftest import wait_sessions
from tests.clients.rtp_media import RtpSink, RtpSource
from tests.interop import lab
from tests.plain_shell import new_live_input
from tests.processes import run_in_new_network_namespace
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player
from whip_whep_conformance.protocol import profiles, sdp

SCENARIOS = ("werift-publish", "wrtc-publish", "werift-play")
ICE_ADDR = lab.SUITE_ADDR  # 10.77.0.1, which lab._network puts on its veth pair
FRAMES, AUDIO_FRAMES = 30, 25  # a second of video, half a second of audio
MEDIA_DEADLINE_S = 20
STEP_DEADLINE_S = 15
TEARDOWN_S = 15  # how long the server may take to drop a deleted session


# ---------------------------------------------------------------- host side

def run(scenario: str, whip: str, whep: str, out_dir: Path, timeout_s: float = 120, faults: tuple[str, ...] = (),
        media_deadline_s: float = MEDIA_DEADLINE_S, teardown_s: float = TEARDOWN_S) -> dict:
    """Install the Node clients (cached), run `scenario` in a fresh namespace, return its measurements.

    `faults`: reference-server faults (whip_whep_conformance/reference_server/faults.py), to prove the tests' checks fail;
    shorter deadlines keep those runs short."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    modules = node_stack.node_clients()
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / "session.json"
    result_file.unlink(missing_ok=True)
    plan = out_dir / "plan.json"
    plan.write_text(json.dumps({"scenario": scenario, "whip": whip, "whep": whep, "modules": str(modules),
                                "result": str(result_file), "faults": list(faults),
                                "media_deadline_s": media_deadline_s, "teardown_s": teardown_s}))
    log = out_dir / "session.log"
    code = run_in_new_network_namespace([sys.executable, "-m", "tests.clients.node_session", str(plan)],
                                        node_stack.REPO, log, timeout_s)
    if code is None:
        return {"error": f"the session exceeded {timeout_s:.0f} s; see {log}"}
    if not result_file.exists():
        return {"error": f"the session left no result (exit {code}); see {log}: "
                         f"{log.read_text(errors='replace')[-1500:]}"}
    return json.loads(result_file.read_text())


# ---------------------------------------------------------------- inside the namespace

class Glue:
    """A Node glue script as a child process: its JSON-line events, and "stop" by closing its stdin."""

    def __init__(self, script: str, config: dict, echo: bool = False) -> None:
        self.script, self.config = script, config
        self.echo = echo  # each line also to our stdout, as it comes (werift_client: the harness keeps it)
        self.events: list[dict] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._changed = asyncio.Event()
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "node", str(node_stack.GLUE / self.script), json.dumps(self.config),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        async for line in self.proc.stdout:
            text = line.decode(errors="replace").strip()
            if self.echo:
                print(text, flush=True)
            try:
                self.events.append(json.loads(text))
            except json.JSONDecodeError:
                self.events.append({"event": "output", "text": text[:500]})
            self._changed.set()
        self.events.append({"event": "exit"})
        self._changed.set()

    def find(self, name: str, **fields) -> dict | None:
        return next((e for e in self.events if e.get("event") == name
                     and all(e.get(k) == v for k, v in fields.items())), None)

    async def expect(self, name: str, timeout_s: float = STEP_DEADLINE_S, **fields) -> dict:
        """The first event `name` (with `fields`); raises with everything the glue said when it does not come."""
        deadline = time.monotonic() + timeout_s
        while (found := self.find(name, **fields)) is None:
            if self.find("exit") or self.find("error"):
                raise RuntimeError(f"{self.script} ended before '{name}': {self.events[-6:]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise RuntimeError(f"{self.script}: no '{name}' {fields or ''} within {timeout_s:g} s: "
                                   f"{self.events[-6:]}") from None
        return found

    async def stop(self) -> dict:
        """Close stdin (the glue DELETEs and exits); the DELETE's event, or {} when none came."""
        assert self.proc and self.proc.stdin
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), STEP_DEADLINE_S)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader:
            await self._reader
        return self.find("deleted") or {}


async def _sessions(server, count: int, timeout_s: float) -> int:
    return await asyncio.to_thread(wait_sessions, server, count, timeout_s)


async def _post(http, url: str, token: str | None, sdp: str) -> tuple[str, str]:
    """Our own peer's WHIP/WHEP POST; (answer, session URL)."""
    headers = {"Content-Type": "application/sdp", **({"Authorization": f"Bearer {token}"} if token else {})}
    response = await http.post(url, content=sdp, headers=headers)
    if response.status_code != 201:
        raise RuntimeError(f"our peer's POST {url} answered {response.status_code}: {response.text[:300]}")
    return response.text, str(response.url.join(response.headers["Location"]))


async def _delete(http, session: str, token: str | None) -> int:
    return (await http.delete(session, headers={"Authorization": f"Bearer {token}"} if token else {})).status_code


async def _publisher_scenario(plan: dict, server, urls, http, result: dict) -> None:
    """werift-publish / wrtc-publish: the client publishes, an aiortc player decodes."""
    werift = plan["scenario"] == "werift-publish"
    glue = Glue("werift_glue.mjs" if werift else "wrtc_glue.mjs",
                {"modules": plan["modules"], "mode": "publish", "url": urls.whip_url, "token": server.token,
                 "max_s": 90})
    source = viewer = None
    try:
        await glue.start()
        if werift:
            ports = await glue.expect("rtp-in")
            source = RtpSource(ports["video"], ports["audio"])
            await source.start()
        result["publisher_codec"] = (await glue.expect("negotiated"))["video"]
        await glue.expect("state", state="connected")
        result["connected_s"] = round(time.monotonic() - result["t0"], 2)
        viewer = player.Player([])
        answer, viewer_session = await _post(http, urls.whep_url, server.token, await peer.local_offer(viewer.pc))
        await viewer.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        result["video_decoded"] = await viewer.wait_frames("video", FRAMES, plan["media_deadline_s"])
        result["audio_decoded"] = await viewer.wait_frames("audio", AUDIO_FRAMES, plan["media_deadline_s"])
        result["media_s"] = round(time.monotonic() - result["t0"], 2)
        video = viewer.streams["video"]
        result.update(frames=video.frames, audio_frames=viewer.streams["audio"].frames, keyframes=video.keyframes,
                      viewer_codecs=sorted({viewer.codec_name(pt) or str(pt) for pt in video.payload_types}))
        result["viewer_delete"] = await _delete(http, viewer_session, server.token)
        await viewer.close()
        result["sessions_before_client_delete"] = await _sessions(server, 1, plan["teardown_s"])
        result["client_delete"] = (await glue.stop()).get("status")
        result["sessions_after"] = await _sessions(server, 0, plan["teardown_s"])
    finally:
        result["client_events"] = glue.events[-12:]
        if source:
            await source.stop()
        if viewer:
            await viewer.close()
        if glue.proc and glue.proc.returncode is None:
            glue.proc.kill()


async def _viewer_scenario(plan: dict, server, urls, http, result: dict) -> None:
    """werift-play: an aiortc publisher sends VP8+Opus, werift plays, its RTP is decoded here."""
    publisher = player.publisher("vp8", [])
    sink = RtpSink()
    await sink.start()
    glue = Glue("werift_glue.mjs", {"modules": plan["modules"], "mode": "play", "url": urls.whep_url,
                                    "token": server.token, "forward": sink.ports, "max_s": 90})
    try:
        answer, publisher_session = await _post(http, urls.whip_url, server.token, await peer.local_offer(publisher))
        await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        result["publisher_codec"] = _answer_video_codec(answer)
        await glue.start()
        result["client_negotiated"] = (await glue.expect("negotiated"))["video"]
        await glue.expect("state", state="connected")
        result["connected_s"] = round(time.monotonic() - result["t0"], 2)
        result["client_first_rtp"] = (await glue.expect("first-rtp", kind="video", timeout_s=plan["media_deadline_s"]))
        result["video_decoded"] = await sink.wait_frames("video", FRAMES, plan["media_deadline_s"])
        result["audio_decoded"] = await sink.wait_frames("audio", AUDIO_FRAMES, plan["media_deadline_s"])
        result["media_s"] = round(time.monotonic() - result["t0"], 2)
        video, audio = sink.seen["video"], sink.seen["audio"]
        result.update(frames=video.frames, audio_frames=audio.frames, keyframes=video.keyframes,
                      decode_errors=video.errors, packets=video.packets)
        result["sessions_before_client_delete"] = await _sessions(server, 2, plan["teardown_s"])
        result["client_delete"] = (await glue.stop()).get("status")
        result["client_counts"] = glue.find("received")
        result["sessions_after_client"] = await _sessions(server, 1, plan["teardown_s"])
        result["publisher_delete"] = await _delete(http, publisher_session, server.token)
        await publisher.close()
        result["sessions_after"] = await _sessions(server, 0, plan["teardown_s"])
    finally:
        result["client_events"] = glue.events[-12:]
        sink.close()
        await publisher.close()
        if glue.proc and glue.proc.returncode is None:
            glue.proc.kill()


def _answer_video_codec(answer: str) -> str | None:
    for media in sdp.SessionDescription.parse(answer).media:
        if media.kind == "video" and media.codecs:
            return f"video/{media.codecs[0].name}"
    return None


async def _inside(plan: dict, result: dict) -> None:
    lab._network()
    peer.restrict_host_addresses([ICE_ADDR])
    server = EmbeddedServer(profiles.ProfilePair(plan["whip"], plan["whep"]), token=True, faults=plan["faults"],
                            ice_servers=[], extra_args=["--ice-host", ICE_ADDR])
    server.start()
    try:
        urls = await asyncio.to_thread(new_live_input, server)
        result["t0"] = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as http:
            if plan["scenario"] == "werift-play":
                await _viewer_scenario(plan, server, urls, http, result)
            else:
                await _publisher_scenario(plan, server, urls, http, result)
    finally:
        server.stop()


def main(plan_file: str) -> int:
    plan = json.loads(Path(plan_file).read_text())
    result: dict = {"scenario": plan["scenario"], "media_deadline_s": plan["media_deadline_s"]}
    started = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(_inside(plan, result), 90))
    except Exception as exc:  # noqa: BLE001 - reported to the host side, where the test fails with it
        result["error"] = f"{type(exc).__name__}: {exc}"
    result.pop("t0", None)
    result["session_s"] = round(time.monotonic() - started, 1)
    Path(plan["result"]).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
