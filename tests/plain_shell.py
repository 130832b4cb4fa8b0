"""Run the console script as a user would: a plain environment (only PATH and HOME), real servers
on loopback, ports picked here, every wait bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.harness.client import LiveInputsApi, LiveInputUrls

CLI = Path(sys.executable).parent / "whip-whep-conformance"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    doc: dict | None

    @property
    def output(self) -> str:
        return self.stdout[-4000:] + self.stderr[-2000:]

    def verdicts(self, name: str) -> dict[str, str]:
        """Verdict by parameter set (e.g. "whip") of the cases of one test function."""
        return {"-".join(c["params"].values()) or "-": c["verdict"] for c in (self.doc or {}).get("cases", [])
                if c["name"] == name}


def plain_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}


def run_cli(args: list[str], cwd: Path, timeout_s: float = 600) -> Run:
    """`whip-whep-conformance ARGS` in `cwd` (reports in cwd/reports unless --reports-dir says otherwise)."""
    proc = subprocess.run([str(CLI), *args], cwd=cwd, env=plain_env(), capture_output=True, text=True, timeout=timeout_s)
    reports = next((Path(a.split("=", 1)[1]) for a in args if a.startswith("--reports-dir=")), cwd / "reports")
    results = (reports if reports.is_absolute() else cwd / reports) / "results.json"
    return Run(proc.returncode, proc.stdout, proc.stderr, json.loads(results.read_text()) if results.exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, timeout_s: float = 20) -> None:
    """Until something accepts on 127.0.0.1:port (a server started by the test), or an error."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:g} s") from None
            time.sleep(0.05)  # polling another process's socket: there is no event to wait on


def new_live_input(server: EmbeddedServer) -> LiveInputUrls:
    """A publish/play pair minted by the reference server's live inputs API."""
    collection = f"{server.base_url}/client/v4/accounts/vendor/stream/live_inputs"
    response = httpx.post(collection, headers={"Authorization": f"Bearer {server.api_token}"}, timeout=10)
    return LiveInputsApi.urls(response, collection)


def stats(server: EmbeddedServer) -> dict:
    return httpx.get(f"{server.base_url}/client/v4/stats", headers={"Authorization": f"Bearer {server.api_token}"},
                     timeout=10).json()["result"]


@contextmanager
def vendor_server(*, token: bool = False, faults: list[str] | None = None,
                  extra_args: list[str] | None = None) -> Iterator[EmbeddedServer]:
    """The reference server started on its own, as a vendor's server is (standard profiles), stopped after."""
    server = EmbeddedServer(profiles.STANDARD, token=token, faults=faults or [], ice_servers=[], extra_args=extra_args)
    server.start()
    try:
        yield server
    finally:
        server.stop()
