"""The master's side of the generators: execnet gateways, one channel each, asked in parallel.

execnet is the engine under pytest-xdist: a gateway spec names where a generator runs — `popen` (a local
process; the default is one per core, each with its own event loop), `ssh=user@host//python=/path/bin/python`,
or `socket=HOST:PORT` (a machine running execnet's socket server). The same package must be importable
by that Python (install whip-whep-conformance there).
"""

from __future__ import annotations

import asyncio
import itertools
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
    """Every generator's channel, read by one callback each: a reply is matched to its command by id, so a
    reply that comes after its ask gave up (a late "add" answer) is dropped, never read as the next one's."""

    def __init__(self, specs: list[str]) -> None:
        self.specs = specs
        self.group = execnet.Group()
        self.channels: list = []
        self.info: list[dict] = []
        self._ids = itertools.count(1)
        self._waiting: list[dict[int, asyncio.Future]] = []  # per channel: command id -> its reply
        self._ended: list[str | None] = []  # per channel: why it closed

    def _start(self) -> None:
        for spec in self.specs:
            try:
                gateway = self.group.makegateway(spec)
                self.channels.append(gateway.remote_exec(source(local=spec.split("//")[0] == "popen")))
            except Exception as exc:  # execnet raises its own and OSError by spec
                raise GeneratorError(f"generator {spec!r} could not be started: {type(exc).__name__}: {exc}") from None

    async def open(self, settings: dict, timeout_s: float = 60.0) -> list[dict]:
        await asyncio.to_thread(self._start)
        loop = asyncio.get_running_loop()
        for number, channel in enumerate(self.channels):
            self._waiting.append({})
            self._ended.append(None)
            channel.setcallback(lambda item, number=number: self._hand_over(loop, number, item), endmarker=_ENDED)
        self.info = await self.ask_all(("configure", settings), timeout_s)
        return self.info

    def __len__(self) -> int:
        return len(self.channels)

    def _hand_over(self, loop: asyncio.AbstractEventLoop, number: int, item) -> None:
        """execnet's receiver thread: the item goes to the event loop (dropped once the loop is closed)."""
        try:
            loop.call_soon_threadsafe(self._arrived, number, item)
        except RuntimeError:
            pass

    def _arrived(self, number: int, item) -> None:
        """A reply (or the channel's end) from generator `number`, in the event loop's thread."""
        waiting = self._waiting[number]
        if item is _ENDED:
            self._ended[number] = "its channel closed"
            for future in waiting.values():
                if not future.done():
                    future.set_exception(GeneratorError(f"generator {self.specs[number]!r} ended: its channel closed"))
            waiting.clear()
            return
        future = waiting.pop(item.get("id"), None) if isinstance(item, dict) else None
        if future is not None and not future.done():  # otherwise a stale reply: its ask is over
            future.set_result(item)

    async def _one(self, number: int, command: tuple, timeout_s: float) -> dict:
        spec = self.specs[number]
        if self._ended[number]:
            raise GeneratorError(f"generator {spec!r} ended: {self._ended[number]}")
        ident = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[number][ident] = future
        try:
            self.channels[number].send((ident, command))
            reply = await asyncio.wait_for(future, timeout_s)
        except asyncio.TimeoutError:
            raise GeneratorError(f"generator {spec!r} did not answer {command[0]!r} within {timeout_s:g} s") from None
        except OSError as exc:  # execnet: the channel is closed
            raise GeneratorError(f"generator {spec!r} ended: {exc}") from None
        finally:
            self._waiting[number].pop(ident, None)
        if "error" in reply:
            raise GeneratorError(f"generator {spec!r}: {reply['error']}")
        return reply

    async def ask(self, commands: list[tuple], timeout_s: float) -> list[dict]:
        """Send each generator its command (one per generator, in order) and wait for every reply."""
        return list(await asyncio.gather(*(self._one(n, command, timeout_s) for n, command in enumerate(commands))))

    async def ask_each(self, command: tuple, timeout_s: float) -> list[dict | GeneratorError]:
        """`command` to every generator; each one's reply, or the GeneratorError it ended with (one that
        fails does not hide the others' replies)."""
        return list(await asyncio.gather(*(self._one(n, command, timeout_s) for n in range(len(self.channels))),
                                         return_exceptions=True))

    async def ask_all(self, command: tuple, timeout_s: float) -> list[dict]:
        return await self.ask([command] * len(self.channels), timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """End every gateway, also one whose remote_exec failed (a generator still holding sessions
        deletes them as its channel closes)."""
        self.group.terminate(timeout=timeout_s)


_ENDED = object()  # the endmarker a channel's callback gets when the channel closes
