"""A load generator: one process, one event loop, holding the viewers the master gives it.

It runs inside an execnet gateway (a local `popen` worker, or a process on another machine through an
`ssh=` or `socket=` gateway) and answers the master's commands over its channel, with plain data:

- ("add", {...}): set up viewers (paced by its share of --max-rate), answer their outcomes;
- ("window",): start a measurement window (loss counts, latency samples, this process's CPU time);
- ("report",): every viewer's figures over the window, and the CPU this process used;
- ("stop",): DELETE every session, close every peer, answer the final counts.

When the master goes away (its channel closes) the generator deletes its sessions all the same.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import threading
import time

import httpx

from whip_whep_conformance.load.pacing import TokenBucket
from whip_whep_conformance.load.viewer import DecodingViewer, Viewer
from whip_whep_conformance.webrtc import peer

def source(local: bool) -> str:
    """What a master sends through execnet to start a generator in the gateway's process."""
    return f"from whip_whep_conformance.load.generator import serve; serve(channel, local={local!r})"
STOP_TIMEOUT_S = 20.0


def cpu_seconds() -> float:
    """This process's CPU time (every thread), user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Generator:
    def __init__(self) -> None:
        self.viewers: list[Viewer] = []
        self.http = httpx.AsyncClient(timeout=10.0)
        self.token: str | None = None
        self.timeout_s = 10.0
        self.ice_servers: list[str] = []
        self._window = (time.monotonic(), cpu_seconds())
        self.stopped = False

    async def handle(self, command: tuple) -> dict:
        what = command[0]
        if what == "configure":
            settings = command[1]
            self.token, self.timeout_s = settings.get("token"), float(settings.get("timeout_s", 10.0))
            self.ice_servers = list(settings.get("ice_servers") or [])
            await self.http.aclose()
            self.http = httpx.AsyncClient(timeout=self.timeout_s, verify=settings.get("verify", True))
            peer.restrict_host_addresses(settings.get("ice_hosts") or None)
            Viewer.unprotect_all = bool(settings.get("unprotect_all"))
            return {"pid": os.getpid(), "host": socket.gethostname(), "cores": os.cpu_count()}
        if what == "add":
            return {"added": await self.add(command[1])}
        if what == "window":
            for viewer in self.viewers:
                viewer.window()
            self._window = (time.monotonic(), cpu_seconds())
            return {}
        if what == "report":
            started, cpu = self._window
            wall = max(time.monotonic() - started, 1e-6)
            return {"viewers": [v.record() for v in self.viewers], "cpu": (cpu_seconds() - cpu) / wall,
                    "window_s": wall}
        if what == "stop":
            return await self.stop()
        raise ValueError(f"unknown command {what!r}")

    async def add(self, spec: dict) -> list[dict]:
        """Start the viewers `spec` names, at most `rate` POSTs a second; their set-up outcomes."""
        bucket = TokenBucket(float(spec["rate"]))
        fresh: list[Viewer] = []
        tasks = []
        for index, step, url, decoding in spec["viewers"]:
            await bucket.take()
            kind = DecodingViewer if decoding else Viewer
            viewer = kind(index, step, url, self.token, self.ice_servers)
            fresh.append(viewer)
            tasks.append(asyncio.ensure_future(viewer.start(self.http, self.timeout_s)))
        self.viewers += fresh
        done = await asyncio.gather(*tasks, return_exceptions=True)
        for viewer, outcome in zip(fresh, done):
            if isinstance(outcome, BaseException):
                viewer.state, viewer.error = "failed", f"{type(outcome).__name__}: {outcome}"
        return [v.record() for v in fresh]

    async def stop(self) -> dict:
        """DELETE every session and close every peer, each within a deadline."""
        if self.stopped:
            return {"viewers": [], "undeleted": []}
        self.stopped = True

        async def one(viewer: Viewer) -> bool:
            try:
                return await asyncio.wait_for(viewer.stop(self.http), STOP_TIMEOUT_S)
            except (asyncio.TimeoutError, Exception):
                return False

        deleted = await asyncio.gather(*(one(v) for v in self.viewers))
        await self.http.aclose()
        return {"viewers": [v.record() for v in self.viewers],
                "undeleted": [v.session_url for v, ok in zip(self.viewers, deleted) if not ok and v.session_url]}


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(channel, local: bool = False) -> None:
    """The gateway's entry point: commands in, replies out, until "stop" or the channel closes.

    `local`: a process the master started (popen): it leaves the terminal's process group, so a Ctrl-C
    reaches only the master, which stops it cleanly, and it dies with the master. A process on another
    machine (ssh, a socket server) is left as it is: its channel closing ends the generator."""
    if local:
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        _die_with_parent()
    asyncio.run(_serve(channel))


async def _serve(channel) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()

    def read() -> None:  # a daemon thread: a blocked receive never keeps the process alive
        while True:
            try:
                item = channel.receive()
            except Exception:
                item = None
            loop.call_soon_threadsafe(commands.put_nowait, item)
            if item is None or item[0] == "stop":
                return

    threading.Thread(target=read, daemon=True).start()
    generator = Generator()
    try:
        while True:
            command = await commands.get()
            if command is None:
                return
            try:
                reply = await generator.handle(tuple(command))
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            channel.send(reply)
            if command[0] == "stop":
                return
    finally:
        await generator.stop()
