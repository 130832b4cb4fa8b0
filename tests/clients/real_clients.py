"""Independently written clients graded by `whip-whep-conformance clients`: name -> the command a user
passes as --whip-client / --whep-client, and how the run has to be placed for it.

    python -m tests.clients.real_clients ffmpeg          # prints the command line for that client

- ffmpeg: FFmpeg 8's WHIP muxer (PyAV 18.1's FFmpeg; tests/clients/ffmpeg_whip_client.py behaves like
  `ffmpeg ... -f whip URL`: publishes until SIGINT, then closes the muxer, which sends DELETE). Loopback ICE
  works, so the `clients` run needs nothing else.
- simple-whip-client: Meetecho's C client (GStreamer 1.22 webrtcbin + libnice), built by
  tests/clients/simple_whip_client.py from ../shared/peers. libnice never uses loopback for ICE, so the whole
  `clients` run has to happen in a network namespace with the interop lab's veth pair and the embedded
  server's ICE host on nseth0 (10.77.0.1, `clients --server-ice-host=10.77.0.1`): `namespace = True` below.
- medooze-*, cloudflare-*, eyevinn-*: browser libraries in headless Chromium, each on a page of its own
  origin (tests/clients/browser_client.py: it ends the session the library's way when signalled).
  Chromium gathers loopback candidates (--allow-loopback-in-peer-connection), so no namespace.
- werift-whip, werift-whep: werift 0.24.4 (TypeScript WebRTC for Node) publishing or playing through
  tests/clients/werift_client.py (the glue tests/clients/node/werift_glue.mjs, npm packages from the peers
  cache). werift skips loopback for ICE too: namespace = True.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.clients import node_stack

HERE = Path(__file__).resolve().parent
BROWSER_LIBRARIES = ("medooze", "cloudflare", "eyevinn")  # tests/clients/browser_client.py LIBRARIES
WERIFT = node_stack.PACKAGES["werift"]


def _node_version() -> str:
    """The Node that runs werift here (werift 0.24 runs on 18 or newer), for the label; "?" without one."""
    try:
        return node_stack.node_version() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


NODE = _node_version()
WERIFT_NOTE = ("werift has no WHIP/WHEP layer: the HTTP side (POST, Location, DELETE; no redirects, retries, "
               "Link, PATCH or counter-offers) is the project's thin glue (tests/clients/node/glue.mjs), so only "
               "the offer, ICE, DTLS, media and consent verdicts say something about werift itself")


@dataclass(frozen=True)
class RealClient:
    """One client: its protocol, how to make its command, and whether it must run in a namespace."""

    name: str
    protocol: str  # "whip" | "whep"
    label: str  # name and version, for reports
    namespace: bool  # libnice-based: the `clients` run goes into `unshare -n` with the veth pair
    note: str = ""  # what the recorded verdicts do not show (written into expected/<name>.json)

    def command(self) -> str:
        """The --whip-client/--whep-client command template ({url}, {token} filled by the harness); `exec`
        so the client itself, not a shell, gets the harness's SIGINT and its exit code is the client's."""
        if self.name == "ffmpeg":
            return f"exec {shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'ffmpeg_whip_client.py'))} {{url}} {{token}}"
        if self.name == "simple-whip-client":
            from tests.clients import simple_whip_client as swc
            binary = swc.build()  # cached in the peers cache after the first build
            # `-t ''` would send "Authorization: Bearer " (it tests token != NULL): -t only with a token
            return (f"T={{token}}; exec {shlex.quote(str(binary))} -u {{url}} ${{T:+-t \"$T\"}} -V {shlex.quote(swc.VIDEO_PIPE)} "
                    f"-A {shlex.quote(swc.AUDIO_PIPE)} -H minimal -o -l 5")
        library, _, protocol = self.name.rpartition("-")
        if library in BROWSER_LIBRARIES:
            from tests.clients.npm_browser_clients import browser_clients
            browser_clients()  # npm install + bundles, cached in the peers cache after the first build
            return (f"exec {shlex.quote(sys.executable)} -m tests.clients.browser_client {library} {protocol} "
                    "{url} {token}")
        if self.name in ("werift-whip", "werift-whep"):
            modules = node_stack.node_clients()  # npm install on the host, cached: the namespace has no network
            return (f"exec {shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'werift_client.py'))} "
                    f"--modules {shlex.quote(str(modules))} {self.protocol} {{url}} {{token}}")
        raise KeyError(self.name)


CLIENTS: dict[str, RealClient] = {c.name: c for c in (
    RealClient("ffmpeg", "whip", "FFmpeg 8 WHIP muxer (PyAV 18.1)", namespace=False),
    RealClient("simple-whip-client", "whip", "Meetecho simple-whip-client b9b3fac (GStreamer 1.22)", namespace=True),
    RealClient("medooze-whip", "whip", "medooze whip-whep 1.2.0 whip.js (Debian Chromium)", namespace=False),
    RealClient("medooze-whep", "whep", "medooze whip-whep 1.2.0 whep.js (Debian Chromium)", namespace=False),
    RealClient("cloudflare-whip", "whip", "Cloudflare Stream example WHIPClient.js, workers-sdk 884e418 (Debian Chromium)",
               namespace=False),
    RealClient("cloudflare-whep", "whep", "Cloudflare Stream example WHEPClient.js, workers-sdk 884e418 (Debian Chromium)",
               namespace=False),
    RealClient("eyevinn-whip", "whip", "@eyevinn/whip-web-client 1.1.7 (Debian Chromium)", namespace=False,
               note="Its trickle path never runs here: ingest() trickles only when the endpoint's own OPTIONS answer "
                    "lists PATCH in Access-Control-Allow-Methods, which the endpoint has no reason to (PATCH is the "
                    "session's method, RFC 9110 §10.2.1) and a page on another origin cannot read (no CORS-exposed "
                    "header). On that path (tests/clients/test_eyevinn.py, trickle-advertised) it PATCHes one candidate "
                    "at a time with the tag in an `ETag:` request header, not If-Match (428, and it stops trickling), "
                    "and writes component 0 for RTP (makeSDPTransformCandidate: 'rtp' ? 0 : 1; RFC 8839 numbers "
                    "components from 1). No ICE restart. After a refused POST destroy() never returns: it waits for "
                    "a session URL (getResourceUrl) that never comes, so the page's stop times out."),
    RealClient("eyevinn-whep", "whep", "@eyevinn/webrtc-player 0.13.0 (Debian Chromium)", namespace=False,
               note="destroy() sends no DELETE; the page stops with unload(), as the library's demo does. authKey is "
                    "sent as the whole Authorization value, so the page passes 'Bearer <token>'. It never trickles "
                    "(candidates go in the offer after gathering or 2 s) and never PATCHes. A Location that does not "
                    "start with '/' is used as is, so a relative one like 'play/x' resolves against the page, not the "
                    "endpoint (no scenario gives a WHEP player such a Location yet). On a failed connection it POSTs "
                    "a new offer without DELETEing the old session."),
    *(RealClient(f"werift-{protocol}", protocol, f"werift {WERIFT} {role} (Node {NODE}; glue werift_glue.mjs)",
                 namespace=True, note=WERIFT_NOTE) for protocol, role in (("whip", "publisher"), ("whep", "player"))),
)}


if __name__ == "__main__":
    print(CLIENTS[sys.argv[1]].command())
