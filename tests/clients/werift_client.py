"""werift 0.24.4 as a command-line WHIP publisher or WHEP player, for `clients --whip-client=...` /
`--whep-client=...`: it runs until Ctrl+C (SIGINT) or SIGTERM, then DELETEs its session and exits with the
status of the werift process, as a user's werift program would.

    python tests/clients/werift_client.py --modules DIR whip|whep URL [TOKEN]

werift is a WebRTC stack with no WHIP/WHEP layer, capture or codecs of its own: the Node side is
tests/clients/node/werift_glue.mjs (create the offer, POST it with the token, set the answer, DELETE the
Location; werift does ICE, DTLS-SRTP, RTCP and the SDP). This process only feeds it media the way werift's
own examples do from FFmpeg or GStreamer: publishing, VP8 + Opus RTP from `rtp_media.RtpSource` on the two
UDP ports the glue names; playing, it decodes the RTP the glue forwards (`rtp_media.RtpSink`), so the run's
output says how many frames werift received. werift never gathers loopback candidates: the `clients` run
goes into a network namespace with the lab's veth pair (tests/clients/real_clients.py, namespace=True).

The glue gets the stop signal itself (same process group) and handles it; its stdin is closed as well, so a
signal sent to this process alone stops it too. Every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.clients import node_stack  # noqa: E402
from tests.clients.node_session import Glue  # noqa: E402
from tests.clients.rtp_media import RtpSink, RtpSource  # noqa: E402

MAX_S = 900  # the glue's own deadline: no run of the harness holds a client this long
STARTUP_S = 30  # node, werift's import and its UDP ports (a loaded 2-core machine)


def werift_version(modules: Path) -> str:
    return json.loads((modules / "node_modules" / "werift" / "package.json").read_text())["version"]


async def run(protocol: str, url: str, token: str | None, modules: Path) -> int:
    """One session until a stop signal (or the glue's own end); the glue's exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    config = {"modules": str(modules), "mode": "publish" if protocol == "whip" else "play", "url": url,
              "token": token or "", "max_s": MAX_S}
    sink = source = None
    if protocol == "whep":
        sink = RtpSink()
        await sink.start()
        config["forward"] = sink.ports
    glue = Glue("werift_glue.mjs", config, echo=True)
    await glue.start()
    assert glue.proc is not None
    try:
        if protocol == "whip":
            ports = await glue.expect("rtp-in", timeout_s=STARTUP_S)
            source = RtpSource(ports["video"], ports["audio"])
            await source.start()
        exited = asyncio.ensure_future(glue.proc.wait())
        told = asyncio.ensure_future(stop.wait())
        await asyncio.wait({exited, told}, timeout=MAX_S + 30, return_when=asyncio.FIRST_COMPLETED)
        told.cancel()
        await glue.stop()  # closes its stdin; waits (with a deadline) for its DELETE and exit
    except RuntimeError as exc:  # the glue ended (or said nothing) before it named its RTP ports
        print(f"werift_client: {exc}", flush=True)
        await glue.stop()
    finally:
        if source is not None:
            await source.stop()
            print(f"werift_client: fed werift {source.sent['video']} video and {source.sent['audio']} audio "
                  f"RTP packets", flush=True)
        if sink is not None:
            sink.close()
            print(f"werift_client: decoded {sink.seen['video'].frames} video and {sink.seen['audio'].frames} "
                  f"audio frames of what werift received", flush=True)
        if glue.proc.returncode is None:
            glue.proc.kill()
            await glue.proc.wait()
    code = glue.proc.returncode
    return 128 - code if code < 0 else code  # killed by a signal: the shell's 128 + N


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=Path, required=True, help="folder whose node_modules holds werift")
    parser.add_argument("protocol", choices=("whip", "whep"))
    parser.add_argument("url")
    parser.add_argument("token", nargs="?", default="", help="Bearer token; absent or empty: none")
    args = parser.parse_args()
    node = node_stack.node_version()
    print(f"werift version {werift_version(args.modules)} (Node {node}) {args.protocol} client", flush=True)
    return asyncio.run(run(args.protocol, args.url, args.token or None, args.modules))


if __name__ == "__main__":
    sys.exit(main())
