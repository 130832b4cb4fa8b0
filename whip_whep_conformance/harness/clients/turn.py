"""The TURN server a `turn` scenario names in its 201's Link (RFC 9725 §4.6): coturn, started for the
scenario, and what it saw the client do.

coturn is a real, independent TURN server (Debian's `coturn` package): the suite does not write its own,
so what a client's TURN stack meets is what it meets in production. Its log (`-v`) is the observation:
each Allocate names its username and whether it was taken (`ALLOCATE processed, success`), and a
refused authentication says why (`credentials are incorrect`, `Cannot find credentials of user`).

The relay ports lie outside the machine's ephemeral range (ip_local_port_range), so no socket of the
client's own can sit in the range the reference server admits (its --ice-only-from): a session comes
up only through a relayed candidate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Both contain "=" (RFC 8288 quoted-string values; a parser that splits a parameter at every "=" cuts
# them short), and neither contains ":" (the reference server's --link-ice-server URL form is
# turn:USER:CREDENTIAL@HOST:PORT).
USERNAME = "whip=whep"
CREDENTIAL = "x7Rk=Lq2=="
REALM = "conformance"
# the suite's own WHEP publisher reaches the server through the same TURN server, as a user of its own,
# so what it does there is never taken for the client's
PUBLISHER_USERNAME, PUBLISHER_CREDENTIAL = "suite-publisher", "publisher-credential"
RELAY_PORTS = 100  # how many relay ports coturn may use

ALLOCATED = re.compile(r"user <([^>]*)>: incoming packet ALLOCATE processed, success")
WRONG_CREDENTIAL = re.compile(r"check_stun_auth: user (.*) credentials are incorrect")
UNKNOWN_USER = re.compile(r"check_stun_auth: Cannot find credentials of user <([^>]*)>")
# coturn refuses a username with characters it never stores (quotes among them) before any lookup
REFUSED_USERNAME = re.compile(r"check_stun_auth: wrong username: (.*)$")
RELAYED = re.compile(r"user <([^>]*)>: incoming packet (CREATE_PERMISSION|CHANNEL_BIND|SEND) processed, success")


class TurnUnavailable(RuntimeError):
    """The scenario's TURN server did not start: the suite's own failure, so the cases are Errors."""


class TurnNotInstalled(TurnUnavailable):
    """This machine cannot run a TURN server at all (no coturn; no room for relay ports): the cases skip."""


@dataclass(frozen=True)
class TurnAttempt:
    """One authentication coturn judged: the username the client sent and the outcome."""

    username: str
    outcome: str  # "allocated" | "wrong credential" | "unknown user" | "refused username" | "relayed"

    def __str__(self) -> str:
        return f"{self.outcome} as user <{self.username}>"


def attempts(log: str) -> list[TurnAttempt]:
    """What a coturn -v log says the clients did, in order."""
    found = []
    for line in log.splitlines():
        for pattern, outcome in ((ALLOCATED, "allocated"), (WRONG_CREDENTIAL, "wrong credential"),
                                 (UNKNOWN_USER, "unknown user"), (REFUSED_USERNAME, "refused username"),
                                 (RELAYED, "relayed")):
            if (match := pattern.search(line)) is not None:
                found.append(TurnAttempt(match.group(1).strip("<>"), outcome))
    return found


def relay_port_range(ranges_file: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> tuple[int, int]:
    """RELAY_PORTS ports above the ephemeral range (or below it, where there is no room above)."""
    low, high = (int(x) for x in ranges_file.read_text().split())
    if high + RELAY_PORTS < 65535:
        return high + 1, high + RELAY_PORTS
    if low - RELAY_PORTS > 1024:
        return low - RELAY_PORTS, low - 1
    raise TurnNotInstalled(f"the ephemeral port range {low}-{high} leaves no room for TURN relay ports")


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class TurnServer:
    """coturn on `host`, one long-term credential (USERNAME / CREDENTIAL), relaying from `host`."""

    def __init__(self, host: str, binary: str | None = None) -> None:
        self.host = host
        self.binary = binary or shutil.which("turnserver") or ""
        self.port = 0
        self.relay_ports = (0, 0)
        self._proc: asyncio.subprocess.Process | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._log = bytearray()
        self._reader: asyncio.Task | None = None

    @property
    def link_urls(self) -> list[str]:
        """The scenario's Links, as reference server --link-ice-server URLs: STUN, then TURN over UDP."""
        where = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return [f"stun:{where}", f"turn:{USERNAME}:{CREDENTIAL}@{where}?transport=udp"]

    @property
    def publisher_url(self) -> str:
        """The TURN URL (with the publisher's own credentials) the suite's WHEP publisher uses."""
        where = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return f"turn:{PUBLISHER_USERNAME}:{PUBLISHER_CREDENTIAL}@{where}?transport=udp"

    @property
    def relays(self) -> str:
        """The reference server's --ice-only-from value: this server's relay address and ports."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.relay_ports[0]}-{self.relay_ports[1]}"

    async def start(self, timeout_s: float = 15.0, tries: int = 2) -> "TurnServer":
        """coturn listening, or TurnUnavailable after `tries` starts of `timeout_s` each, each on a fresh
        port (the one picked may be taken between the pick and coturn's bind, on a busy machine)."""
        if not self.binary:
            raise TurnNotInstalled("coturn's turnserver is not installed (Debian: apt install coturn; or --turnserver=PATH)")
        for attempt in range(1, tries + 1):
            try:
                return await self._start_once(timeout_s)
            except TurnUnavailable:
                if attempt == tries:
                    raise
                self._proc, self._reader, self._log = None, None, bytearray()
        raise AssertionError("not reached")

    async def _start_once(self, timeout_s: float) -> "TurnServer":
        self.relay_ports = relay_port_range()
        self.port = _free_udp_port(self.host)
        self._folder = tempfile.TemporaryDirectory(prefix="whip-whep-turn-")
        folder = Path(self._folder.name)
        self._proc = await asyncio.create_subprocess_exec(
            self.binary, "-n", f"--listening-ip={self.host}", f"--listening-port={self.port}",
            f"--relay-ip={self.host}", f"--min-port={self.relay_ports[0]}", f"--max-port={self.relay_ports[1]}",
            "--lt-cred-mech", f"--user={USERNAME}:{CREDENTIAL}", f"--user={PUBLISHER_USERNAME}:{PUBLISHER_CREDENTIAL}",
            f"--realm={REALM}", "--fingerprint",
            "--no-tls", "--no-dtls", "--no-tcp-relay", "--no-cli", "--no-rfc5780", "--no-stun-backward-compatibility",
            "--allow-loopback-peers", "--log-file=stdout", "--simple-log", "-v",
            f"--userdb={folder / 'turndb'}", f"--pidfile={folder / 'turnserver.pid'}",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self._reader = asyncio.create_task(self._read())
        try:
            listening = await self._wait_listening(timeout_s)
        except BaseException:  # cancelled (or worse) while it started: nothing is left running
            await self.stop()
            raise
        if not listening:
            log = self.log[-2000:]
            await self.stop()
            raise TurnUnavailable(f"coturn did not start listening on {self.host}:{self.port} in {timeout_s:g} s: {log}")
        return self

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while chunk := await self._proc.stdout.read(65536):
            self._log += chunk

    async def _wait_listening(self, timeout_s: float) -> bool:
        """Until coturn answers a STUN Binding request on its port with a success of the same transaction
        (its log's wording varies by version; another program that took the port in the meantime would
        answer otherwise, or not at all)."""
        transaction = os.urandom(12)
        request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + transaction  # RFC 8489 Binding request, no attributes
        deadline = time.monotonic() + timeout_s
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.setblocking(False)
            probe.connect((self.host, self.port))
            while time.monotonic() < deadline and self._proc is not None and self._proc.returncode is None:
                try:
                    probe.send(request)
                    answer = await asyncio.wait_for(loop.sock_recv(probe, 2048), 0.2)
                except asyncio.TimeoutError:
                    continue
                except ConnectionRefusedError:  # not bound yet: ask again shortly
                    await asyncio.sleep(0.02)
                    continue
                if answer[:2] == b"\x01\x01" and answer[8:20] == transaction:  # Binding success response
                    return True
        return False

    @property
    def log(self) -> str:
        return self._log.decode("utf-8", "replace")

    def attempts(self) -> list[TurnAttempt]:
        """The client's: everything but the suite's publisher's."""
        return [a for a in attempts(self.log) if a.username != PUBLISHER_USERNAME]

    async def stop(self) -> None:
        """Ends coturn (SIGTERM, then SIGKILL after 5 s) and removes its folder, whatever fails on the way."""
        try:
            if self._proc is not None and self._proc.returncode is None:
                self._proc.terminate()
                try:
                    await asyncio.wait_for(self._proc.wait(), 5)
                except asyncio.TimeoutError:
                    self._proc.kill()
                    await self._proc.wait()
            if self._reader is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._reader, 5)
        finally:
            if self._folder is not None:
                self._folder.cleanup()
                self._folder = None
