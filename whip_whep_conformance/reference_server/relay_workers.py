"""The relay worker processes (`--relay-workers=N`): started with the server, stopped with it.

Each worker is `python -m whip_whep_conformance.reference_server.relay_worker` with the server's own
options, on a loopback port of its own; it prints that port once it accepts requests. A worker never
outlives the server: it asks the kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG) and stops
when its stdin (a pipe from here) reaches end of file, which a SIGKILLed parent also causes. A worker
that dies while the server runs is logged as an error, naming its pid and exit status, and gets no
more sessions.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys

from aiohttp import web

from .app import make_app
from .config import ServerConfig
from .origin import OriginServer, WorkerLink, internal_app
from .worker_routing import WorkerRouting

log = logging.getLogger("reference_server.workers")

START_TIMEOUT_S = 60.0  # a worker imports aiortc and av: seconds on a busy machine
STOP_TIMEOUT_S = 10.0
READY = re.compile(r"relay worker \d+ listening on (http://127\.0\.0\.1:\d+)")


class WorkerPool:
    def __init__(self, server: OriginServer, argv: list[str], origin_url: str) -> None:
        self.server, self.argv, self.origin_url = server, argv, origin_url
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False
        self._watchers: set[asyncio.Task] = set()

    async def start(self, count: int) -> None:
        await asyncio.gather(*(self._start_one(index) for index in range(count)))

    async def _start_one(self, index: int) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "whip_whep_conformance.reference_server.relay_worker",
            "--origin", self.origin_url, "--index", str(index), "--", *self.argv,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self.processes[index] = process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(self.server.relay_secret.encode() + b"\n")  # its first line (relay_secret.py)
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise RuntimeError(f"relay worker {index} (pid {process.pid}) did not start within {START_TIMEOUT_S} s") from None
        ready = READY.search(line.decode(errors="replace"))
        if ready is None:
            raise RuntimeError(f"relay worker {index} (pid {process.pid}) failed to start: {line!r}; see its log above")
        link = WorkerLink(index, ready[1], process.pid)
        self.server.add_worker(link)
        watcher = asyncio.ensure_future(self._watch(link, process))
        self._watchers.add(watcher)
        log.info("relay worker %d: pid %d on %s", index, process.pid, link.url)

    async def _watch(self, link: WorkerLink, process: asyncio.subprocess.Process) -> None:
        status = await process.wait()
        link.alive = False
        if not self._stopping:
            await self.server.worker_died(link)
            viewers = sum(link.viewers.values())
            cause = f"signal {-status}" if status < 0 else f"exit status {status}"
            log.error("relay worker %d (pid %d) died (%s) while the server runs: its %d viewer session(s) are lost; "
                      "new viewers go to the other workers", link.index, link.pid, cause, viewers)

    async def stop(self) -> None:
        """SIGTERM to every worker (each closes its sessions), SIGKILL to any still running after STOP_TIMEOUT_S."""
        self._stopping = True
        for process in self.processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for index, process in self.processes.items():
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except asyncio.TimeoutError:
                log.error("relay worker %d (pid %d) did not stop within %s s; killing it", index, process.pid, STOP_TIMEOUT_S)
                process.kill()
                await process.wait()
        for watcher in self._watchers:
            watcher.cancel()


class RelayWorkers:
    """The API process's side of `--relay-workers`: the origin, its internal site, the routing, the workers."""

    def __init__(self, config: ServerConfig, argv: list[str]) -> None:
        self.config, self.argv = config, argv
        self.server = OriginServer(config)
        self.routing = WorkerRouting(self.server)
        self.internal = web.AppRunner(internal_app(self.server), handle_signals=False, access_log=None)
        self.pool: WorkerPool | None = None

    async def start(self) -> web.Application:
        """The API port's application, once every worker accepts requests."""
        app = make_app(self.config, self.server)
        self.routing.install(app)
        await self.internal.setup()
        site = web.TCPSite(self.internal, "127.0.0.1", 0)
        await site.start()
        self.pool = WorkerPool(self.server, self.argv, f"http://127.0.0.1:{self.internal.addresses[0][1]}")
        try:
            await self.pool.start(self.config.relay_workers)
        except BaseException:
            await self.stop()
            raise
        return app

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.stop()
        await self.routing.close()
        await self.internal.cleanup()
