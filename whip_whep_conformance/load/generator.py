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
DELETES_AT_ONCE = 20  # the final DELETEs, bounded (never a thousand at once; httpx's pool holds 100)


def boot_id() -> str:
    """This machine's boot id (a host name can repeat across machines and containers; this does not)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as file:
            return file.read().strip()
    except OSError:
        return f"host:{socket.gethostname()}"


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
        self.starting: set[asyncio.Task] = set()  # viewers' set-ups under way

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
            return {"pid": os.getpid(), "host": socket.gethostname(), "cores": os.cpu_count(), "boot_id": boot_id()}
        if what == "add":  # the join's CPU too: a generator saturated while setting viewers up measures itself
            started, cpu = time.monotonic(), cpu_seconds()
            added = await self.add(command[1])
            return {"added": added, "cpu": (cpu_seconds() - cpu) / max(time.monotonic() - started, 1e-6)}
        if what == "window":
            for viewer in self.viewers:
                viewer.window()
            self._window = (time.monotonic(), cpu_seconds())
            return {}
        if what == "report":
            started, cpu = self._window
            wall = max(time.monotonic() - started, 1e-6)
            return {"viewers": [self._now(v) for v in self.viewers], "cpu": (cpu_seconds() - cpu) / wall,
                    "window_s": wall}
        if what == "stop":
            return await self.stop()
        raise ValueError(f"unknown command {what!r}")

    @staticmethod
    def _now(viewer: Viewer) -> dict:
        """The viewer's record with its connection as it is now: one that connected and then dropped
        (ICE consent lost, DTLS closed) is "dropped", not "connected"."""
        record = viewer.record()
        if record["state"] == "connected" and viewer.pc is not None and viewer.pc.connectionState != "connected":
            record["state"], record["error"] = "dropped", f"connection {viewer.pc.connectionState} after it was up"
        return record

    async def add(self, spec: dict) -> list[dict]:
        """Start the viewers `spec` names, at most `rate` POSTs a second; their set-up outcomes.

        Cancelled (a "stop" came), it starts no more; the viewers already started are in `self.viewers`
        and their set-ups in `self.starting`, which `stop` lets finish (a POST cut short could leave a
        session whose URL nobody knows) before it deletes them."""
        bucket = TokenBucket(float(spec["rate"]))
        fresh: list[Viewer] = []
        started: list[asyncio.Task] = []
        for index, step, url, decoding in spec["viewers"]:
            await bucket.take()
            kind = DecodingViewer if decoding else Viewer
            viewer = kind(index, step, url, self.token, self.ice_servers)
            fresh.append(viewer)
            self.viewers.append(viewer)
            task = asyncio.ensure_future(self._start(viewer))
            self.starting.add(task)
            task.add_done_callback(self.starting.discard)
            started.append(task)
        if started:
            await asyncio.wait(started)  # not gather: a cancel of the add leaves the set-ups running
        return [v.record() for v in fresh]

    async def _start(self, viewer: Viewer) -> None:
        try:
            await viewer.start(self.http, self.timeout_s)
        except Exception as exc:
            viewer.state, viewer.error = "failed", f"{type(exc).__name__}: {exc}"

    async def stop(self) -> dict:
        """DELETE every session and close every peer, each within a deadline (set-ups still under way
        first finish, within theirs: POST, then ICE/DTLS)."""
        if self.stopped:
            return {"viewers": [], "undeleted": []}
        self.stopped = True
        if self.starting:
            _, late = await asyncio.wait(set(self.starting), timeout=2 * self.timeout_s + 5)
            for task in late:
                task.cancel()

        gate = asyncio.Semaphore(DELETES_AT_ONCE)

        async def one(viewer: Viewer) -> bool:
            async with gate:
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
    reaches only the master, which stops it cleanly, and it gets SIGTERM when the master dies, on which it
    deletes its sessions and ends. A process on another
    machine (ssh, a socket server) is left as it is: its channel closing ends the generator."""
    if local:
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        _die_with_parent()
    asyncio.run(_serve(channel))


async def _serve(channel) -> None:
    """Commands arrive as (id, command) and each reply carries its id. An "add" runs as a task, so a "stop"
    is taken as soon as it arrives: the add is cancelled (no more POSTs, no reply) and every session made so
    far is deleted."""
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()

    def read() -> None:  # a daemon thread: a blocked receive never keeps the process alive
        while True:
            try:
                item = channel.receive()
            except Exception:
                item = None
            loop.call_soon_threadsafe(commands.put_nowait, item)
            if item is None or item[1][0] == "stop":
                return

    threading.Thread(target=read, daemon=True).start()
    try:  # the parent-death signal (a local generator whose master died hard): delete the sessions, then end
        loop.add_signal_handler(signal.SIGTERM, commands.put_nowait, None)
    except (RuntimeError, ValueError):  # not the main thread: SIGTERM ends the process as before
        pass
    generator = Generator()
    adding: set[asyncio.Task] = set()

    async def answer(ident: int, command: tuple) -> None:
        try:
            reply = await generator.handle(command)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        channel.send({"id": ident, **reply})

    try:
        while True:
            item = await commands.get()
            if item is None:
                return
            ident, command = item[0], tuple(item[1])
            if command[0] == "add":
                task = loop.create_task(answer(ident, command))
                adding.add(task)
                task.add_done_callback(adding.discard)
                continue
            if command[0] == "stop":
                for task in list(adding):
                    task.cancel()
                await asyncio.gather(*adding, return_exceptions=True)
            await answer(ident, command)
            if command[0] == "stop":
                return
    finally:
        for task in list(adding):
            task.cancel()
        await generator.stop()
