"""The Node WebRTC clients (werift, @roamhq/wrtc) from npm at pinned versions, installed once into the
peers cache with tests/interop/peers.py's pattern (key = hash of the manifest; built in a temporary
folder, renamed into place when complete). The glue scripts stay in the repo (`node/`) and load the
packages from the cache with `createRequire`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.interop import peers

REPO = peers.REPO
GLUE = Path(__file__).resolve().parent / "node"
# werift 0.25 needs Node 22; 0.24.4 runs on Debian 12's Node 18. @roamhq/wrtc's libwebrtc comes
# prebuilt as an optional dependency (@roamhq/wrtc-linux-x64): no compiler, no install scripts.
PACKAGES = {"werift": "0.24.4", "@roamhq/wrtc": "0.10.0"}
CHECK = ("const r = require('module').createRequire(process.argv[1] + '/package.json');"
         "r('werift'); new (r('@roamhq/wrtc').RTCPeerConnection)({iceServers: []}).close();")


def node_clients() -> Path:
    """A folder whose node_modules holds werift and @roamhq/wrtc (with its native binary)."""
    manifest = {"name": "whip-whep-node-clients", "private": True, "dependencies": PACKAGES}
    key = peers._digest(json.dumps(manifest, sort_keys=True).encode(), CHECK.encode())

    def build(work: Path, log: Path) -> None:
        if not shutil.which("npm") or not shutil.which("node"):
            peers.apt_install(["nodejs", "npm"], log)
        (work / "package.json").write_text(json.dumps(manifest, indent=1))
        peers._run(["npm", "install", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts"], log, cwd=work)
        peers._run(["node", "-e", CHECK, str(work)], log)  # the prebuilt binary loads on this machine

    return peers._atomic_build("node-clients", key, build)


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
