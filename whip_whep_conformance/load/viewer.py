"""A load viewer: one WHEP session whose RTP is counted, sequence-checked and scanned for keyframes.

A cheap viewer pays for ICE, DTLS and the SRTP keys once, then reads each packet's clear RTP header
(RFC 3711 encrypts only the payload) as the datagram arrives: the counts, the sequence check and the
frame boundaries need nothing else, and no coroutine runs per packet. Only the first packet of each video frame (a new RTP timestamp) is unprotected, because
whether a frame is a keyframe is in its payload. aiortc never parses, routes or decodes the packets.
The other packets are counted without their authentication tag checked: on a load run the figures
are what matters, and a forged packet would have to reach a viewer's UDP port on the generator.

Until its first complete keyframe a cheap viewer asks for one as a real player does: an RTCP PLI
(RFC 4585 §6.3.1) for the video SSRC on the first frame that does not start a keyframe, then again at
most every KEYFRAME_REQUEST_S while frames keep coming without one (Tally.packet). Without it a viewer
waits for a keyframe somebody else asked for: a publisher that, like aiortc's, encodes keyframes only on
request (or a server's own periodic PLI, Janus's fir_freq) leaves it with no first frame for seconds.

A decoding viewer (the sample) is the suite's own player (harness.player.Player): it decodes every
frame and reads its stamp (webrtc.stamp) for glass-to-glass latency, counting RTP the same way.
"""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Callable
from urllib.parse import urljoin, urlsplit

import httpx
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness.player import Player
from whip_whep_conformance.protocol.sdp import SessionDescription
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.webrtc.media import is_keyframe

RING = 1024  # recent extended sequence numbers kept per SSRC to ignore duplicates
# libwebrtc asks for a keyframe as soon as it assembles a frame before any keyframe
# (RtpVideoStreamReceiver2::OnAssembledFrame, "request a key frame ASAP") and, while one is required,
# asks again every VideoReceiveStream2::kMaxWaitForKeyFrameMs = 200 ms; aiortc 1.16's RTCRtpReceiver
# sends a PLI on every frame its decoder fails to decode (no reference frame yet), unthrottled.
KEYFRAME_REQUEST_S = 0.2
SILENCE_S = 0.5  # a stream this long without a packet at a window's end has stopped (audio and video send every 20-40 ms)
LATENCIES_KEPT = 300  # stamps per decoding viewer and window sent to the master (evenly thinned)


def payload_of(data: bytes) -> bytes:
    """The payload of a clear RTP packet (RFC 3550 §5.1: CSRCs, extension and padding skipped)."""
    first = data[0]
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
    end = len(data) - (data[-1] if first & 0x20 else 0)
    return data[offset:end]


_HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence number, timestamp, SSRC (RFC 3550 §5.1)
AUDIO, VIDEO, RTX = 0, 1, 2  # what a payload type carries


class SsrcCount:
    """One SSRC's packets: extended sequence numbers (RFC 3550 A.1), the window's unique packets, and the
    keyframe being assembled."""

    __slots__ = ("highest", "base", "received", "ring", "last_ts", "key_ts", "key_first", "key_count", "mime", "video",
                 "first", "first_at", "last_at", "frame_first", "frame_count", "frame_marker", "key_last")

    def __init__(self, ext: int, mime: str) -> None:
        self.highest = ext - 1
        self.base = ext  # the window's first sequence number
        self.received = 0  # unique packets from `base` on
        self.ring = [-1] * RING
        self.last_ts = -1
        self.key_ts = -1
        self.key_first = 0
        self.key_count = 0
        self.mime = mime
        self.video = mime.startswith("video")
        self.first, self.first_at, self.last_at = ext, -1.0, -1.0  # for the rate a silence is counted at
        self.frame_first, self.frame_count, self.frame_marker = ext, 0, -1  # the frame being received
        self.key_last = -1  # the keyframe's marker packet


class Tally:
    """What one viewer received, from the RTP headers (and the payload of each video frame's first packet)."""

    def __init__(self) -> None:
        self.started = time.monotonic()  # the POST: time to first frame counts from here
        self.packets = 0  # every RTP packet, duplicates and retransmissions included (what the server sent)
        self.retransmissions = 0  # RTX packets (RFC 4588)
        self.keyframes = 0
        self.first_frame_s: float | None = None  # the first complete keyframe, seconds after the POST
        self.streams: dict[int, SsrcCount] = {}
        self.mimes: dict[int, str] = {}  # payload type -> "video/VP8", from the applied answer
        self.kinds: dict[int, int] = {}  # payload type -> AUDIO, VIDEO or RTX
        self.request_keyframe: Callable[[int], None] | None = None  # sends a PLI for a media SSRC
        self.keyframe_requests = 0  # PLIs asked for before the first frame
        self._requested_at = -KEYFRAME_REQUEST_S
        self.clock: Callable[[], float] = time.monotonic  # arrivals (a test gives its own)
        self.window_at = self.clock()

    def learn(self, answer: str) -> None:
        """The payload types of the answer: which are video, which are retransmissions."""
        for media in SessionDescription.parse(answer).media:
            for codec in media.codecs:
                if codec.name.lower() == "rtx":
                    self.kinds[codec.payload] = RTX
                else:
                    self.mimes[codec.payload] = f"{media.kind}/{codec.name}"
                    self.kinds[codec.payload] = VIDEO if media.kind == "video" else AUDIO

    def packet(self, data: bytes, unprotect: Callable[[bytes], bytes] | None = None) -> None:
        """Count one packet. `unprotect`: `data` is SRTP, and this unprotects it, which is done only for the
        first packet of a video frame (a new timestamp: its payload says whether it starts a keyframe);
        None: `data` is clear RTP."""
        self.packets += 1
        _, second, seq, ts, ssrc = _HEADER.unpack_from(data)
        kind = self.kinds.get(second & 0x7F, VIDEO)
        if kind == RTX:
            self.retransmissions += 1
            return
        stream = self.streams.get(ssrc)
        if stream is None:
            stream = self.streams[ssrc] = SsrcCount(seq + 0x10000, self.mimes.get(second & 0x7F, "video/?"))
            ext = seq + 0x10000
        else:
            delta = (seq - stream.highest) & 0xFFFF
            ext = stream.highest + delta if delta < 0x8000 else stream.highest + delta - 0x10000
        slot = ext % RING
        if stream.ring[slot] == ext:
            return  # a duplicate
        stream.ring[slot] = ext
        if ext > stream.highest:
            stream.highest = ext
        if ext >= stream.base:
            stream.received += 1
        stream.last_at = now = self.clock()
        if stream.first_at < 0:
            stream.first_at = now
        if not stream.video:
            return
        if ts != stream.last_ts:
            stream.last_ts, stream.frame_first, stream.frame_count, stream.frame_marker = ts, ext, 0, -1
            inspect = True
        else:  # a packet before the one inspected (reordered) may be the frame's start
            inspect = ext < stream.frame_first and ts != stream.key_ts
            if inspect:
                stream.frame_first = ext
        stream.frame_count += 1
        if second & 0x80:
            stream.frame_marker = ext
        if inspect:
            clear = data if unprotect is None else unprotect(data)
            if ts != stream.key_ts and is_keyframe(stream.mime, payload_of(clear)):
                self.keyframes += 1
                # the frame's packets seen before its first one count too
                stream.key_ts, stream.key_first, stream.key_count = ts, ext, stream.frame_count - 1
                stream.key_last = stream.frame_marker
            elif self.first_frame_s is None and self.request_keyframe is not None:
                self._ask_keyframe(ssrc)
        if ts == stream.key_ts:
            stream.key_count += 1
            if second & 0x80:
                stream.key_last = ext
            if self.first_frame_s is None and stream.key_last >= stream.key_first \
                    and stream.key_count == stream.key_last - stream.key_first + 1:
                self.first_frame_s = time.monotonic() - self.started  # every packet from its first to its marker

    def _ask_keyframe(self, ssrc: int) -> None:
        """A frame that cannot be decoded without a keyframe came first: ask for one, at most every
        KEYFRAME_REQUEST_S (only until the first frame: nothing of this runs after it)."""
        now = time.monotonic()
        if now - self._requested_at >= KEYFRAME_REQUEST_S:
            self._requested_at = now
            self.keyframe_requests += 1
            self.request_keyframe(ssrc)

    def window(self) -> None:
        """Start a measurement window: loss counts from the next packet of each SSRC."""
        self.window_at = self.clock()
        for stream in self.streams.values():
            stream.base, stream.received = stream.highest + 1, 0

    def loss(self) -> tuple[int, int]:
        """(expected, received) media packets since the window started, over every SSRC. A stream silent
        for more than SILENCE_S at the window's end is expected to have gone on at its own rate: a stream
        that stops is loss, not a perfect count of what came before."""
        now, expected = self.clock(), 0
        for s in self.streams.values():
            expected += max(0, s.highest - s.base + 1)
            silent = now - max(s.last_at, self.window_at)
            span = s.last_at - s.first_at
            if silent > SILENCE_S and span > 0:
                expected += int((s.highest - s.first) / span * silent)
        return expected, sum(s.received for s in self.streams.values())


class LazySrtp:
    """Stands in for a DTLS transport's inbound SRTP session once keys are up: counts each packet from its
    clear header and unprotects only those whose payload the tally needs. Returns b"" so aiortc's own
    RTP path (parse, route, jitter buffer) never runs."""

    def __init__(self, session, tally: Tally) -> None:
        self.session, self.tally = session, tally

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return self.session.unprotect_rtcp(data)

    def unprotect(self, data: bytes) -> bytes:
        self.tally.packet(data, self.session.unprotect)
        return b""


def _is_sdp(response: httpx.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower() == "application/sdp" and bool(response.text.strip())


class Viewer:
    """A cheap viewer: recvonly audio and video, as a WHEP player offers (webrtc.peer.viewer)."""

    decoding = False
    unprotect_all = False  # benchmarks/load_viewers.py --unprotect-all: aiortc's own path up to SRTP, for comparison

    def __init__(self, index: int, step: int, url: str, token: str | None, ice_servers: list[str]) -> None:
        self.index, self.step, self.url, self.token = index, step, url, token
        self.ice_servers = ice_servers
        self.tally = Tally()
        self.status: int | None = None  # the POST's status
        self.error = ""  # why no session came up (HTTP failure, answer refused, ICE/DTLS state)
        self.setup_ms: float | None = None  # POST -> its response
        self.state = "new"
        self.session_url: str | None = None
        self.pc = None
        self._sending: set[asyncio.Task] = set()  # PLIs on their way (a task is kept until it ends)

    def _peer(self):
        return peer.viewer(self.ice_servers)

    def _ask_keyframes(self) -> None:
        """Let the tally send PLIs through the video receiver (its RTCP SSRC, its DTLS transport's SRTP)."""
        receiver = next(t.receiver for t in self.pc.getTransceivers() if t.kind == "video")

        def request(media_ssrc: int) -> None:
            task = asyncio.get_running_loop().create_task(receiver._send_rtcp_pli(media_ssrc))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

        self.tally.request_keyframe = request

    def _count(self, transport) -> None:
        """Count every packet right after SRTP unprotect; aiortc's parsing and routing are skipped."""
        tally = self.tally
        self._ask_keyframes()

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            if data:
                tally.packet(data)

        transport._handle_rtp_data = handle_rtp_data

    def _connected(self, transport) -> None:
        """Keys are up: from now on RTP is counted as its datagram arrives (the UDP protocol's callback),
        before aioice's STUN parse, its queue and aiortc's receive task see it; RTCP and STUN go on as before."""
        if transport._rx_srtp is None or self.unprotect_all:
            return
        tally, unprotect = self.tally, transport._rx_srtp.unprotect
        transport._rx_srtp = LazySrtp(transport._rx_srtp, tally)  # for a datagram already queued
        connection = getattr(transport.transport, "_connection", None)
        for protocol in getattr(connection, "_protocols", []):
            original = protocol.datagram_received

            def datagram_received(data: bytes, addr, original=original) -> None:
                if len(data) >= 12 and 127 < data[0] < 192 and not 192 <= data[1] <= 208:  # RTP, not RTCP (RFC 5761 §4, RFC 7983)
                    try:
                        tally.packet(data, unprotect)
                    except Exception:  # pylibsrtp.Error: the frame's first packet failed authentication
                        pass
                    return
                original(data, addr)

            protocol.datagram_received = datagram_received

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def start(self, http: httpx.AsyncClient, timeout_s: float) -> None:
        """POST the offer, apply the answer (or answer a 406 counter-offer), wait for ICE and DTLS; the
        outcome is in status/state/error."""
        self.pc = self._peer()
        offer = await peer.local_offer(self.pc)
        transport = self.pc.getTransceivers()[0].receiver.transport
        self._count(transport)
        self.tally.started = started = time.monotonic()
        try:
            response = await http.post(self.url, content=offer.encode(),
                                       headers={"Content-Type": "application/sdp", **self._auth()})
        except httpx.HTTPError as exc:
            self.state, self.error = "unreachable", f"{type(exc).__name__}: {exc}"
            return
        self.status = response.status_code
        if response.headers.get("Location"):
            self.session_url = urljoin(str(response.url), response.headers["Location"])
        if response.status_code == 406 and _is_sdp(response) and self.session_url:
            transport = await self._answer_counter_offer(http, response.text)
        elif response.status_code == 201:
            try:
                self.tally.learn(response.text)
                await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
            except Exception as exc:  # aiortc's parser raises bare AssertionError/ValueError
                self.state, self.error = "failed", f"the answer could not be applied: {type(exc).__name__}: {exc}"
        else:
            self.state, self.error = "refused", f"{response.status_code} {response.reason_phrase}"
        self.setup_ms = (time.monotonic() - started) * 1000
        if transport is None or self.state in ("refused", "failed"):
            return
        self.state = await peer.wait_connected(self.pc, timeout_s)
        if self.state == "connected":
            self._connected(transport)
        else:
            self.error = f"ICE/DTLS {self.state} within {timeout_s:g} s"

    async def _answer_counter_offer(self, http: httpx.AsyncClient, server_offer: str):
        """draft-ietf-wish-whep-03 §4.2.2: the 406 carries the server's offer; a player answers it by PATCH
        to the Location, as the suite's player does (harness/case.py answer_server_offer). Set-up time then
        runs to the PATCH's response. Returns the new peer's DTLS transport, or None (state/error say why)."""
        await self.pc.close()
        self.pc = self._peer()
        try:
            self.tally.learn(server_offer)
            await self.pc.setRemoteDescription(RTCSessionDescription(server_offer, "offer"))
            transport = self.pc.getTransceivers()[0].receiver.transport
            self._count(transport)
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except Exception as exc:  # aiortc's parser and negotiation raise bare AssertionError/ValueError
            self.state, self.error = "failed", f"the 406 counter-offer could not be answered: {type(exc).__name__}: {exc}"
            return None
        try:
            patched = await http.patch(self.session_url, content=self.pc.localDescription.sdp.encode(),
                                       headers={"Content-Type": "application/sdp", **self._auth()})
        except httpx.HTTPError as exc:
            self.state, self.error = "unreachable", f"the answer's PATCH: {type(exc).__name__}: {exc}"
            return None
        if not 200 <= patched.status_code < 300:
            self.state = "refused"
            self.error = f"406 counter-offer, then the answer's PATCH got {patched.status_code} {patched.reason_phrase}"
            return None
        return transport

    def window(self) -> None:
        self.tally.window()

    def latencies(self) -> list[int]:
        return []

    def record(self) -> dict:
        """Plain figures for the master (execnet carries only builtin types)."""
        expected, received = self.tally.loss()
        return {
            "index": self.index, "step": self.step, "decoding": self.decoding, "status": self.status,
            "state": self.state, "error": self.error, "setup_ms": self.setup_ms,
            "ttff_ms": None if self.tally.first_frame_s is None else self.tally.first_frame_s * 1000,
            "expected": expected, "received": received, "packets": self.tally.packets,
            "retransmissions": self.tally.retransmissions, "keyframes": self.tally.keyframes,
            "keyframe_requests": self.tally.keyframe_requests,
            "session": urlsplit(self.session_url).path if self.session_url else None,  # as the server lists it
            "session_url": self.session_url,
            "latencies_ms": self.latencies(),
        }

    async def stop(self, http: httpx.AsyncClient) -> bool:
        """DELETE the session (the 201's Location) and close the peer; whether the DELETE was taken."""
        deleted = self.session_url is None
        if self.session_url is not None:
            try:
                deleted = (await http.delete(self.session_url, headers=self._auth())).status_code < 300
            except httpx.HTTPError:
                deleted = False
        if self.pc is not None:
            await self.pc.close()
        return deleted


class DecodingViewer(Viewer):
    """The sample: decodes every frame (the suite's player) and reads each stamp's capture time."""

    decoding = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.player: Player | None = None
        self._window_from = 0

    def _peer(self):
        self.player = Player(self.ice_servers)
        return self.player.pc

    def _count(self, transport) -> None:
        """Count as the cheap viewer does, then hand the packet on to aiortc (which decodes it)."""
        tally, original = self.tally, transport._handle_rtp_data

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            tally.packet(data)
            await original(data, arrival_time_ms=arrival_time_ms)

        transport._handle_rtp_data = handle_rtp_data

    def _connected(self, transport) -> None:
        pass

    def window(self) -> None:
        super().window()
        self._window_from = len(self._latencies_all())

    def _latencies_all(self) -> list[int]:
        return self.player.streams["video"].measurement.latencies_ms if self.player else []

    def latencies(self) -> list[int]:
        seen = self._latencies_all()[self._window_from:]
        stride = max(1, -(-len(seen) // LATENCIES_KEPT))
        return list(seen[::stride])

    async def stop(self, http: httpx.AsyncClient) -> bool:
        if self.player is not None:
            for task in self.player._tasks:
                task.cancel()
        return await super().stop(http)
