"""The client under test as a process: a shell command with {url} and {token} filled in, started in
its own process group and told to stop the way a user would (SIGINT, then SIGTERM, then SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import time
from dataclasses import dataclass

VERSION = re.compile(r"\bversion[: ]+v?(\d+(?:\.\d+)+[\w.+-]*)", re.IGNORECASE)


@dataclass
class Stopped:
    """How the client ended."""

    exit_code: int | None  # None: it never started
    how: str  # "exited by itself" | "SIGINT" | "SIGTERM" | "SIGKILL"
    after_s: float  # from the stop request (or the start, when it exited by itself) to its exit
    output: str  # stdout and stderr, interleaved, the last 20 kB


def fill(command: str, url: str, token: str | None) -> str:
    """The command with {url} and {token} replaced, shell-quoted where they need it (the suite's URLs and
    tokens need none); without a token {token} is replaced by nothing, not by '' (a client given `-t ''`
    would send "Bearer "). The command also gets them as WHIP_WHEP_URL and WHIP_WHEP_TOKEN (ClientProcess)."""
    return command.replace("{url}", shlex.quote(url)).replace("{token}", shlex.quote(token) if token else "")


class ClientProcess:
    """One run of the client command."""

    def __init__(self, command: str, env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self._output = bytearray()
        self._reader: asyncio.Task | None = None
        self.started_at = 0.0

    async def start(self) -> None:
        self.started_at = time.monotonic()
        self.proc = await asyncio.create_subprocess_shell(
            self.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True, env={**os.environ, **(self.env or {})})
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(65536):
            self._output += chunk
            del self._output[:-20000]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def output(self) -> str:
        return self._output.decode("utf-8", "replace")

    def version(self) -> str | None:
        """The version the client printed, where it printed one."""
        found = VERSION.search(self.output)
        return found.group(1) if found else None

    async def wait_exit(self, timeout_s: float) -> bool:
        if self.proc is None:
            return True
        try:
            await asyncio.wait_for(self.proc.wait(), timeout_s)
            return True
        except asyncio.TimeoutError:
            return False

    def kill_group(self) -> None:
        """SIGKILL to the client's process group, whatever is left of it (synchronous: usable in finally)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    async def stop(self, grace_s: float) -> Stopped:
        """SIGINT to the process group; SIGTERM after `grace_s`; SIGKILL after another `grace_s`."""
        if self.proc is None:
            return Stopped(None, "never started", 0.0, "")
        t0 = time.monotonic()
        how = "exited by itself"
        for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM"), (signal.SIGKILL, "SIGKILL")):
            if self.proc.returncode is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            how = name
            if await self.wait_exit(grace_s if sig != signal.SIGKILL else 10):
                break
        self.kill_group()  # what the client left behind in its group (a child it started) goes too
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except asyncio.TimeoutError:
                self._reader.cancel()
        after = time.monotonic() - (t0 if how != "exited by itself" else self.started_at)
        return Stopped(self.proc.returncode, how, round(after, 2), self.output)
