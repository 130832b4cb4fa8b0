"""The browser WHIP/WHEP libraries from npm, pinned, installed once into the peers cache.

`browser_clients()` returns a folder a test page can load them from:
- `whip-web-client.js`, `webrtc-player.js`: Eyevinn's libraries, bundled with esbuild into classic
  scripts that set `window.WHIPClient` / `window.WebRTCPlayer` (their npm builds import bare names,
  `events` and `sdp-transform`, which a browser cannot resolve);
- `whip.js`, `whep.js`: medooze's `whip-whep` as published (plain ES modules, imported as they are).

The cache entry is keyed by the manifest and the bundling entry points (tests/interop/peers.py: built
in a temporary folder, renamed into place when complete). Only the direct dependencies are pinned:
npm resolves the transitive ones (events, sdp-transform…) afresh when the key changes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.interop.peers import _atomic_build, _digest, _run, apt_install

PACKAGES = {
    "@eyevinn/whip-web-client": "1.1.7",
    "@eyevinn/webrtc-player": "0.13.0",
    "whip-whep": "1.2.0",
    "esbuild": "0.28.2",
}
# Bundle name -> the entry point esbuild bundles: each library's public class, as a page global.
BUNDLES = {
    "whip-web-client.js": 'import { WHIPClient } from "@eyevinn/whip-web-client";\nwindow.WHIPClient = WHIPClient;\n',
    "webrtc-player.js": 'import { WebRTCPlayer } from "@eyevinn/webrtc-player";\nwindow.WebRTCPlayer = WebRTCPlayer;\n',
}
# medooze's modules are served unmodified, straight from the package.
AS_PUBLISHED = {"whip.js": "whip-whep/whip.js", "whep.js": "whip-whep/whep.js"}


def browser_clients() -> Path:
    """The folder holding the four client scripts (built on first use: npm install + esbuild, ~20 s)."""
    manifest = {"name": "whip-whep-browser-clients", "private": True, "dependencies": PACKAGES}
    key = _digest(json.dumps(manifest, sort_keys=True).encode(), json.dumps(BUNDLES, sort_keys=True).encode(),
                  json.dumps(AS_PUBLISHED, sort_keys=True).encode())

    def build(work: Path, log: Path) -> None:
        if not shutil.which("npm") or not shutil.which("node"):
            apt_install(["nodejs", "npm"], log)  # Debian's Node 18 runs npm and esbuild
        (work / "package.json").write_text(json.dumps(manifest, indent=1))
        # --ignore-scripts: no package's install script runs; esbuild's binary comes as an npm optional
        # dependency (@esbuild/linux-x64), which needs no script.
        _run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts"], log, cwd=work, timeout_s=600)
        out = work / "dist"
        out.mkdir()
        for name, source in BUNDLES.items():
            entry = work / f"entry-{name}"
            entry.write_text(source)
            _run([str(work / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle", "--format=iife",
                  "--platform=browser", "--target=chrome100", f"--outfile={out / name}"], log, cwd=work)
        for name, source in AS_PUBLISHED.items():
            shutil.copyfile(work / "node_modules" / source, out / name)

    return _atomic_build("browser-clients", key, build) / "dist"
