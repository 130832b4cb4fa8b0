"""The master's side of the generators: execnet gateways, one channel each, asked in parallel.

execnet is the engine under pytest-xdist: a gateway spec names where a generator runs — `popen` (a local
process; the default is one per core, each with its own event loop), `ssh=user@host//python=/path/bin/python`,
or `socket=HOST:PORT` (a machine running execnet's socket server). The same package must be importable
by that Python (install whip-whep-conformance there).
"""

from __future__ import annotations

import asyncio
import os
import sys

import execnet

from whip_whep_conformance.load.generator import source


class GeneratorError(RuntimeError):
    """A generator could not be started or did not answer in time."""


def default_specs() -> list[str]:
    """One local worker process per core."""
    return [f"popen//python={sys.executable}"] * max(1, os.cpu_count() or 1)


class Generators:
    def __init__(self, specs: list[str]) -> None:
        self.specs = specs
        self.group = execnet.Group()
        self.channels: list = []
        self.info: list[dict] = []

    def open(self, settings: dict, timeout_s: float = 60.0) -> list[dict]:
        for spec in self.specs:
            try:
                gateway = self.group.makegateway(spec)
                self.channels.append(gateway.remote_exec(source(local=spec.split("//")[0] == "popen")))
            except Exception as exc:  # execnet raises its own and OSError by spec
                raise GeneratorError(f"generator {spec!r} could not be started: {type(exc).__name__}: {exc}") from None
        for channel in self.channels:
            channel.send(("configure", settings))
        self.info = [self._receive(channel, spec, timeout_s) for channel, spec in zip(self.channels, self.specs)]
        return self.info

    def __len__(self) -> int:
        return len(self.channels)

    def _receive(self, channel, spec: str, timeout_s: float) -> dict:
        try:
            reply = channel.receive(timeout_s)
        except channel.TimeoutError:
            raise GeneratorError(f"generator {spec!r} did not answer within {timeout_s:g} s") from None
        except (EOFError, channel.RemoteError) as exc:
            raise GeneratorError(f"generator {spec!r} ended: {exc}") from None
        if isinstance(reply, dict) and "error" in reply:
            raise GeneratorError(f"generator {spec!r}: {reply['error']}")
        return reply

    async def ask(self, commands: list[tuple], timeout_s: float) -> list[dict]:
        """Send each generator its command (one per generator, in order) and wait for every reply."""
        loop = asyncio.get_running_loop()
        for channel, command in zip(self.channels, commands):
            channel.send(command)
        return list(await asyncio.gather(*(loop.run_in_executor(None, self._receive, channel, spec, timeout_s)
                                           for channel, spec in zip(self.channels, self.specs))))

    async def ask_all(self, command: tuple, timeout_s: float) -> list[dict]:
        return await self.ask([command] * len(self.channels), timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """End every gateway (a generator still holding sessions deletes them as its channel closes)."""
        self.group.terminate(timeout=timeout_s)
