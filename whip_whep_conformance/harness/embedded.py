"""The embedded reference server: a subprocess per profile pair (aioice host addresses are process-wide)."""

from __future__ import annotations

import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time

from whip_whep_conformance.protocol.profiles import ProfilePair
from whip_whep_conformance.harness.target import Target

READY = "reference_server listening on "
# Advertised (Link rel="ice-server") so the Link checks run, never contacted by anyone: .invalid (RFC 6761).
LINKED_TURN = "turn:conformance:secret-credential@turn.example.invalid:3478?transport=udp"


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the suite dies (kill -9, crash), so none is left behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServerStartError(RuntimeError):
    pass


# Server offers expire quickly here, so the check that an unanswered offer's session ends runs in the default run.
OFFER_TIMEOUT_S = 3


class EmbeddedServer:
    """Starts `python -m reference_server` on loopback and stops it, with deadlines both ways."""

    def __init__(self, pair: ProfilePair, *, token: bool, faults: list[str], ice_servers: list[str],
                 extra_args: list[str] | None = None, start_timeout_s: float = 30.0, redirect: bool = False,
                 linked_turn: bool = True, ice_hosts: list[str] | None = None) -> None:
        self.pair = pair
        self.token = secrets.token_hex(16) if token else None
        self.api_token = secrets.token_hex(16)
        self.faults = faults
        self.ice_servers = ice_servers
        self.extra_args = (extra_args or []) + (["--redirect"] if redirect else [])
        self.start_timeout_s = start_timeout_s
        # LINKED_TURN names a host that must never be looked up: a client under test would try to
        # (client conformance starts the server without it; its scenarios link loopback servers)
        self.linked_turn = linked_turn
        self.ice_hosts = ice_hosts or ["127.0.0.1"]  # the server's host candidates
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._stderr = tempfile.TemporaryFile(mode="w+")

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "whip_whep_conformance.reference_server", "--host", "127.0.0.1", "--port", "0",
               *(a for host in self.ice_hosts for a in ("--ice-host", host)), "--api-token", self.api_token,
               *(["--link-ice-server", LINKED_TURN] if self.linked_turn else []),
               "--offer-timeout", str(OFFER_TIMEOUT_S),
               "--whip-profile", self.pair.whip, "--whep-profile", self.pair.whep]
        if self.token:
            cmd += ["--token", self.token]
        for url in self.ice_servers:
            cmd += ["--ice-server", url]
        for fault in self.faults:
            cmd += ["--fault", fault]
        return cmd + self.extra_args

    def start(self) -> Target:
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._stderr, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_die_with_parent,
        )
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_timeout_s
        line = ""
        while time.monotonic() < deadline:
            if selector.select(timeout=max(0.0, deadline - time.monotonic())):
                line = self.proc.stdout.readline()
                if line.startswith(READY) or not line:
                    break
        if not line.startswith(READY):
            exited = self.proc.poll()
            self.stop()
            self._stderr.seek(0)
            shown = " ".join(self.command()).replace(self.api_token, "<api-token>")
            if self.token:
                shown = shown.replace(self.token, "<token>")
            what = (f"exited at start (code {exited})" if exited is not None
                    else f"did not start within {self.start_timeout_s:.0f} s")
            raise ServerStartError(f"the reference server {what}: {shown}\n{self._stderr.read()[-2000:]}")
        self.base_url = line[len(READY):].strip()
        return Target(
            whip_profile=self.pair.whip,
            whep_profile=self.pair.whep,
            live_inputs=f"{self.base_url}/client/v4/accounts/conformance/stream/live_inputs",
            token=self.token,
            api_token=self.api_token,
            ice_servers=self.ice_servers,
            embedded=True,
            label=self.pair.id,
        )

    def stop(self, timeout_s: float = 10.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
