"""The relay's per-packet per-viewer send, in isolation (run on purpose; prints figures, asserts nothing).

Why: fanout.py's server CPU per viewer includes every per-viewer timer and moves ±30% with whatever
else runs on the machine; this measures just what the relay does for each packet and each viewer,
both ways in one process, one after another, on the same connected pair.

Method: two aiortc peers connected over loopback (a sendonly video sender as the relay's viewer-facing
side, a recvonly viewer whose receiver drops what arrives). The relay's `Egress` for the sender; a
1154-byte VP8-sized RTP packet. Timed with time.process_time() over `--packets` sends per round, best of
`--rounds`: `wire` (the per-viewer patch of the shared template), aiortc's chain (`await
RTCDtlsTransport._send_rtp`: protect, then three aioice coroutines to the socket), the relay's
`Egress.send_now` (protect and sendto on the nominated pair), and the floor (pylibsrtp protect +
socket.sendto only).

    .venv/bin/python benchmarks/send_path.py --packets 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from aiortc import RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.reference_server.relay import Egress, abs_send_time  # noqa: E402
from whip_whep_conformance.reference_server.sessions import Session  # noqa: E402
from whip_whep_conformance.webrtc import peer  # noqa: E402


class _Silent(MediaStreamTrack):
    """A video track that never yields a frame (the relay's viewer-facing senders have one too)."""

    kind = "video"

    async def recv(self):  # pragma: no cover - never resolves
        await asyncio.Event().wait()


async def run(packets: int, rounds: int) -> dict[str, float]:
    peer.restrict_host_addresses(["127.0.0.1"])
    relay_side, viewer = peer.new_peer_connection([]), peer.new_peer_connection([])
    transceiver = relay_side.addTransceiver(_Silent(), direction="sendonly")
    viewer.addTransceiver("video", direction="recvonly")
    await relay_side.setRemoteDescription(RTCSessionDescription(await peer.local_offer(viewer), "offer"))
    await relay_side.setLocalDescription(await relay_side.createAnswer())
    await viewer.setRemoteDescription(relay_side.localDescription)
    if await peer.wait_connected(relay_side, 20) != "connected":
        raise RuntimeError("the pair did not connect")
    viewer.getReceivers()[0]._handle_rtp_packet = _drop  # the viewer's own cost is not what is measured
    egress = Egress(Session("bench", "whep", "bench", relay_side), transceiver, keep_ssrc=False)
    packet = RtpPacket(payload_type=96, sequence_number=1, timestamp=1, ssrc=1, payload=bytes(1154 - 12 - 8))
    dtls = transceiver.sender.transport
    pair = dtls.transport._connection._nominated[1]
    sock, address = pair.protocol.transport._sock, pair.remote_addr
    figures: dict[str, list[float]] = {"wire": [], "aiortc chain": [], "Egress.send_now": [], "floor": []}
    for _ in range(rounds):
        templates: dict = {}
        start = time.process_time()
        for _ in range(packets):
            data = egress.wire(packet, 96, abs_send_time(), templates)
        figures["wire"].append(time.process_time() - start)
        start = time.process_time()
        for _ in range(packets):
            await dtls._send_rtp(data)
        figures["aiortc chain"].append(time.process_time() - start)
        await asyncio.sleep(0.05)  # let the viewer drain its socket between rounds (not a synchronisation)
        start = time.process_time()
        for _ in range(packets):
            egress.send_now(data)
        figures["Egress.send_now"].append(time.process_time() - start)
        await asyncio.sleep(0.05)
        start = time.process_time()
        for _ in range(packets):
            sock.sendto(dtls._tx_srtp.protect(data), address)
        figures["floor"].append(time.process_time() - start)
        await asyncio.sleep(0.05)
    await relay_side.close()
    await viewer.close()
    return {name: min(times) / packets * 1e6 for name, times in figures.items()}


async def _drop(packet, arrival_time_ms: int) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packets", type=int, default=20000, help="sends per round and way")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(run(args.packets, args.rounds))
    print(f"µs of CPU per packet per viewer (best of {args.rounds} rounds of {args.packets}):")
    for name, micros in figures.items():
        print(f"  {name:16} {micros:6.2f}")


if __name__ == "__main__":
    main()
