"""Meetecho's simple-whip-client (C, GStreamer 1.22 webrtcbin + libnice) run against the reference server.

The client is built once from the pinned tarball into the peers cache (tests/interop/peers.py: key =
hash of the tarball and the package list; built in a temporary folder, renamed into place). libnice never
gathers loopback candidates and skips interfaces named `veth*`, so the run happens in a network namespace
made for it with the interop lab's veth pair (`nseth0` 10.77.0.1 ⇄ `nseth1`, tests/interop/lab.py): the
reference server, the client and an aiortc viewer all run inside, and nothing there has a route anywhere.

The host side (`run`) re-executes this module under `unshare -n`; the inside (`inside`) starts the server,
the client and the viewer, and writes what it saw to a JSON file the test reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whip_whep_conformance.harness.embedded import EmbeddedServer
from tests.interop import lab, peers
from tests.processes import run_in_new_network_namespace

TARBALL = "simple-whip-client-b9b3fac.tar.gz"
VERSION = "b9b3fac"
# Debian 12's GStreamer 1.22 (webrtcbin, dtls, srtp in -bad; vpx, rtpmanager in -good; opus, test sources
# in -base) and libnice's GStreamer elements; libsoup 3 and json-glib for its HTTP side.
BUILD_DEPS = [
    "libgstreamer1.0-dev", "libgstreamer-plugins-base1.0-dev", "libgstreamer-plugins-bad1.0-dev",
    "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-bad", "gstreamer1.0-nice",
    "libsoup-3.0-dev", "libjson-glib-dev", "pkg-config", "make", "gcc",
]
# The publisher's media: a live test pattern in VP8 and a tone in Opus, as in the client's README.
VIDEO_PIPE = ("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
              "videoconvert ! queue ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ssrc=2 ! queue ! "
              "application/x-rtp,media=video,encoding-name=VP8,payload=96")
AUDIO_PIPE = ("audiotestsrc is-live=true wave=red-noise ! audioconvert ! audioresample ! queue ! opusenc ! "
              "rtpopuspay pt=100 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=100")
ICE_ADDR = lab.JANUS_ADDR  # the server's and the viewer's host candidates: nseth0
PUBLISHED_CODEC = "video/VP8"
CONNECTED = "[WHIP] PeerConnection connected"  # the client's log line once ICE and DTLS are up


def build() -> Path:
    """The `whip-client` binary, built into the peers cache when absent (apt-installs its deps as root)."""
    tarball = peers.peers_dir() / TARBALL
    key = peers._digest(tarball.read_bytes(), " ".join(BUILD_DEPS).encode())

    def make(work: Path, log: Path) -> None:
        peers.apt_install(BUILD_DEPS, log)
        peers.extract(tarball, work)
        (top,) = [p for p in work.iterdir() if p.is_dir()]
        peers._run(["make"], log, cwd=top, timeout_s=300)
        (top / "whip-client").rename(work / "whip-client")

    return peers._atomic_build(f"simple-whip-client-{VERSION}", key, make) / "whip-client"


@dataclass
class ClientRun:
    """What one run inside the namespace saw: the client's HTTP exchanges, the viewer's media, teardown."""
    published: bool = False           # the client logged its PeerConnection connected (ICE + DTLS up)
    patches: list[int] = field(default_factory=list)   # statuses of the client's PATCH requests
    delete: int | None = None         # status of the client's DELETE on SIGINT
    answer_setup: list[str] = field(default_factory=list)  # a=setup values of the server's answer
    video_frames: int = 0
    audio_frames: int = 0
    codecs: list[str] = field(default_factory=list)   # the viewer's video codecs on the wire
    sessions_left: int | None = None
    client_exit: int | None = None
    timings: dict = field(default_factory=dict)
    error: str = ""
    client_log: str = ""              # the client's output, its tail


# ---------------------------------------------------------------- host side

def run(pair: str, out_dir: Path, timeout_s: float = 120) -> ClientRun:
    """Build the client (cached), then run server, client and viewer in a fresh network namespace."""
    binary = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / "result.json"
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "tests.clients.simple_whip_client", "--inside",
           "--pair", pair, "--binary", str(binary), "--out", str(result_file)]
    log = out_dir / "inside.log"
    code = run_in_new_network_namespace(cmd, peers.REPO, log, timeout_s)
    if code is None:
        return ClientRun(error=f"the namespace run exceeded {timeout_s:.0f} s; see {log}")
    if not result_file.exists():
        return ClientRun(error=f"no result (exit {code}); see {log}: {log.read_text()[-1500:]}")
    return ClientRun(**json.loads(result_file.read_text()))


# ---------------------------------------------------------------- inside the namespace

class _NamespaceServer(EmbeddedServer):
    """The embedded reference server, its host candidates on nseth0: libnice cannot reach loopback ones."""

    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("--ice-host") + 1] = ICE_ADDR
        return cmd


_STATUS = re.compile(r"^< HTTP/1\.[01] (\d{3})")
_REQUEST = re.compile(r"^> (POST|PATCH|DELETE|OPTIONS|GET) ")


def http_exchanges(log: str) -> list[tuple[str, int]]:
    """(method, status) pairs from libsoup's `-H minimal` log: a `> METHOD …` line, then `< HTTP/1.1 NNN`."""
    exchanges, method = [], None
    for line in log.splitlines():
        request = _REQUEST.match(line)
        if request:
            method = request.group(1)
            continue
        status = _STATUS.match(line)
        if status and method:
            exchanges.append((method, int(status.group(1))))
            method = None
    return exchanges


async def _inside(pair_name: str, binary: str, client_log: Path, result: ClientRun) -> None:
    import httpx
    from aiortc import RTCSessionDescription

    from tests.clients.conftest import PAIRS, wait_sessions
    from tests.plain_shell import new_live_input
    from whip_whep_conformance.webrtc import peer
    from whip_whep_conformance.harness.player import Player

    t0 = time.monotonic()
    server = _NamespaceServer(PAIRS[pair_name], token=True, faults=[], ice_servers=[])
    server.start()
    peer.restrict_host_addresses([ICE_ADDR])
    client = viewer = None
    try:
        urls = new_live_input(server)
        result.timings["server_s"] = round(time.monotonic() - t0, 2)
        t1 = time.monotonic()
        client = subprocess.Popen(
            [binary, "-u", urls.whip_url, "-t", server.token or "", "-V", VIDEO_PIPE, "-A", AUDIO_PIPE,
             "-H", "minimal", "-o", "-l", "5"],
            stdout=client_log.open("w"), stderr=subprocess.STDOUT)  # in the host's kill group, on a timeout
        result.published = await _wait(lambda: CONNECTED in _read(client_log) or client.poll() is not None, 20) \
            and client.poll() is None
        result.timings["publish_s"] = round(time.monotonic() - t1, 2)
        if not result.published:
            return
        viewer = Player([])
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {server.token}"}
            posted = await http.post(urls.whep_url, content=await peer.local_offer(viewer.pc), headers=headers)
            await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
        await viewer.wait_frames("video", 30, 20)
        await viewer.wait_frames("audio", 25, 5)
        result.video_frames = viewer.streams["video"].frames
        result.audio_frames = viewer.streams["audio"].frames
        result.codecs = sorted({viewer.codec_name(pt) or str(pt) for pt in viewer.streams["video"].payload_types})
        result.timings["media_s"] = round(time.monotonic() - t1, 2)
        await viewer.close()
        viewer = None
        client.send_signal(signal.SIGINT)  # the client's Ctrl+C: it sends DELETE, then exits
        result.client_exit = client.wait(timeout=15)
        result.sessions_left = wait_sessions(server, 0)
        result.timings["total_s"] = round(time.monotonic() - t0, 2)
    finally:
        if viewer is not None:
            await viewer.close()
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        server.stop()
        text = _read(client_log)
        exchanges = http_exchanges(text)
        result.patches = [status for method, status in exchanges if method == "PATCH"]
        result.delete = next((status for method, status in exchanges if method == "DELETE"), None)
        answer = text.split("Received SDP answer", 1)[1] if "Received SDP answer" in text else ""
        result.answer_setup = re.findall(r"^a=setup:(\w+)", answer, flags=re.MULTILINE)
        result.client_log = text[-3000:]


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


async def _wait(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)  # polling another process's state: there is no event to wait on
    return True


def inside(pair: str, binary: str, out: Path) -> int:
    result = ClientRun()
    try:
        lab._network()
        asyncio.run(_inside(pair, binary, out.parent / "client.log", result))
    except Exception as exc:  # noqa: BLE001 - reported to the host side, which fails the test with it
        result.error = f"{type(exc).__name__}: {exc}"
    out.write_text(json.dumps(asdict(result), indent=1))
    return 0 if not result.error else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pair", default="standard")
    parser.add_argument("--binary")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.inside:
        return inside(args.pair, args.binary, args.out)
    print(json.dumps(asdict(run(args.pair, Path("build/simple-whip-client"))), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
