"""RTP-level forwarding from one publisher to many viewers, without decoding (relay-notes.md).

Ingress hooks the publisher-facing receivers of aiortc after SRTP and routing; each packet is
kept in a shared history and rewritten per viewer (payload type, SSRC, sequence number, MID and
abs-send-time) before the viewer's DTLS transport protects and sends it. A joining viewer starts
from the video's current group of pictures (gop_cache.py) at once. Viewers' PLI/FIR become one
coalesced keyframe request upstream; their NACKs are answered from the history, with RTX
where negotiated. aiortc's own receiver still runs for its RTCP (receiver reports, NACK, REMB),
with its jitter buffer replaced so that nothing is decoded.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import logging
import random
import struct
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Literal

from aiortc import RTCRtpCodecParameters, RTCRtpParameters
from aioice.ice import StunProtocol
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    HeaderExtensions,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtpPacket,
    unwrap_rtx,
    wrap_rtx,
)

from .faults import ActiveFaults, Fault
from .codecs import carries
from .gop_cache import FRESH_S, GopCache
from .keyframes import starts_keyframe
from .sessions import Session

log = logging.getLogger("reference_server.relay")

HISTORY = 1024  # packets kept per stream for NACKs; libsrtp refuses indices further behind
FAULT_DELAY_S = 0.7  # what the media-delayed fault holds every packet back
FAULT_PAUSE_EVERY_S, FAULT_PAUSE_S = 3.0, 0.6  # the video-pauses fault's schedule
FAULT_MEDIA_FOR_S = 5.0  # how long the media-stops-after-5s fault forwards to a viewer
KEYFRAME_INTERVAL_S = 0.3  # at most one upstream keyframe request per interval
BURST_YIELD_EVERY = 32  # packets of a joiner's cached burst sent between two turns of the event loop


def abs_send_time() -> int:
    """Now, as the 24-bit 6.18 fixed-point seconds of the abs-send-time extension (NTP era)."""
    return (int(time.time() * (1 << 18)) + (2208988800 << 18)) & 0x00FFFFFF


class _NoFrames:
    """Stands in for aiortc's jitter buffer so the publisher's media is never decoded."""

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        return False, None


def same_codec(a: RTCRtpCodecParameters, b: RTCRtpCodecParameters) -> bool:
    """Whether `b` can carry packets of `a` unchanged (the server's own rule, codecs.carries)."""
    return carries(a, b)


class PacketHistory:
    """The last HISTORY packets of one publisher stream, shared by every viewer."""

    def __init__(self) -> None:
        self._slots: list[RtpPacket | None] = [None] * HISTORY

    def add(self, packet: RtpPacket) -> None:
        self._slots[packet.sequence_number % HISTORY] = packet

    def get(self, sequence_number: int) -> RtpPacket | None:
        packet = self._slots[sequence_number % HISTORY]
        return packet if packet is not None and packet.sequence_number == sequence_number else None


class SimulcastChoice:
    """Which of a publisher's simulcast streams (RFC 8853) the relay forwards: the first whose RTP
    arrives, and another when it falls silent for SWITCH_AFTER_S (a browser turns off an upper stream
    when its bandwidth estimate drops). Packets leave as one continuous stream, their sequence numbers
    and timestamps shifted across a switch, so viewers see a new keyframe, not a new stream."""

    SWITCH_AFTER_S = 0.5

    def __init__(self, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self.ssrc: int | None = None  # the stream forwarded now
        self.switches = 0
        self._seq_shift = self._ts_shift = 0
        self._last: tuple[int, int, float] | None = None  # (sequence number, timestamp, time) last forwarded

    def take(self, packet: RtpPacket) -> RtpPacket | None:
        """The packet as forwarded, or None for another stream's packet."""
        now = time.monotonic()
        if self.ssrc is None:
            self.ssrc = packet.ssrc
        elif packet.ssrc != self.ssrc:
            if self._last is None or now - self._last[2] < self.SWITCH_AFTER_S:
                return None
            last_seq, last_ts, last_at = self._last
            self.ssrc, self.switches = packet.ssrc, self.switches + 1
            self._seq_shift = (last_seq + 1 - packet.sequence_number) & 0xFFFF
            self._ts_shift = (last_ts + int((now - last_at) * self.clock_rate) - packet.timestamp) & 0xFFFFFFFF
        if self._seq_shift or self._ts_shift:
            shifted = RtpPacket(payload_type=packet.payload_type, marker=packet.marker,
                                sequence_number=(packet.sequence_number + self._seq_shift) & 0xFFFF,
                                timestamp=(packet.timestamp + self._ts_shift) & 0xFFFFFFFF,
                                ssrc=packet.ssrc, payload=packet.payload)
            shifted.extensions = packet.extensions
            packet = shifted
        self._last = (packet.sequence_number, packet.timestamp, now)
        return packet


@dataclass
class Ingress:
    """One stream the publisher sends (audio or video)."""

    kind: str
    receiver: RTCRtpReceiver
    codecs: dict[int, RTCRtpCodecParameters]
    history: PacketHistory = field(default_factory=PacketHistory)
    media_ssrc: int | None = None
    codec: RTCRtpCodecParameters | None = None  # what the publisher actually sends
    simulcast: SimulcastChoice | None = None  # several streams arrive (RFC 8853): the one forwarded
    payload_bytes: int = 0  # since first_packet_at, for the bitrate the WHEP layers event reports
    first_packet_at: float | None = None
    gop: GopCache | None = None  # video: what a joining viewer starts from (None: it waits for a keyframe)


_SEQUENCE = struct.Struct("!H")  # RTP header bytes 2-3 (RFC 3550 §5.1)
_SSRC = struct.Struct("!I")  # bytes 8-11

# Serialised packets shared by the viewers of one incoming packet, by (payload type, extension layout).
Templates = dict[tuple, bytes]


# The nack-needs-reports fault: NACKs are ignored until the viewer's second receiver report, as Janus 1.4.2 keeps
# no retransmission buffer until an RR gives it a round-trip time (src/ice.c:3140-3155, 4918, 5009).
NACK_AFTER_REPORTS = 2


class Egress:
    """One viewer-facing sender: the per-viewer rewrite of one stream."""

    def __init__(self, session: Session, transceiver: RTCRtpTransceiver, keep_ssrc: bool, wrong_codec: bool = False) -> None:
        self.session = session
        self.sender = transceiver.sender
        self.kind = transceiver.kind
        self.codecs = [c for c in transceiver._codecs if not is_rtx(c)]
        self.rtx = {int(c.parameters["apt"]): c.payloadType for c in transceiver._codecs if is_rtx(c)}
        self.mid = transceiver.mid
        self.extensions = HeaderExtensionsMap()
        self.extensions.configure(RTCRtpParameters(headerExtensions=transceiver._headerExtensions))
        # viewers with the same MID and extension IDs receive byte-identical packets but for seq and SSRC
        self.layout = (self.mid, tuple(sorted((e.uri, e.id) for e in transceiver._headerExtensions)))
        self.keep_ssrc = keep_ssrc
        self.wrong_codec = wrong_codec
        self.seq_offset: int | None = None
        self.rtx_seq = random.randint(0, 0xFFFF)
        self.receiver_reports = 0  # RTCP RRs the viewer sent about this stream (the nack-needs-reports fault)
        self.counted = str(self.mid)  # its key in the session's observed rtp_packets (sent per mid)
        session.observed.rtp_packets.setdefault(self.counted, 0)
        self._payload_types: dict[int, int | None] = {}
        self._first_sent: float | None = None
        self.started = False  # media flows to it (Relay._start): from the cached group, or live
        self.from_cache = False  # it started from the cached group, so its join needs no keyframe request
        # while its burst of the cached group goes out: the live packets after it, in order
        self.backlog: collections.deque[bytes] | None = None
        self.burst: frozenset[int] = frozenset()  # the publisher's sequence numbers the burst carries
        self._pair = None  # the ICE pair send_now last looked at, and its remote address (None: not for send_now)
        self._address: tuple[str, int] | None = None

    def payload_type(self, codec: RTCRtpCodecParameters) -> int | None:
        if codec.payloadType not in self._payload_types:
            match = next((c for c in self.codecs if same_codec(codec, c) != self.wrong_codec), None)
            self._payload_types[codec.payloadType] = match.payloadType if match else None
        return self._payload_types[codec.payloadType]

    @property
    def ready(self) -> bool:
        transport = self.sender.transport
        return transport is not None and transport.state == "connected"

    def _sequence_number(self, packet: RtpPacket) -> int:
        if self.seq_offset is None:
            self.seq_offset = (random.randint(0, 0xFFFF) - packet.sequence_number) & 0xFFFF
        return (packet.sequence_number + self.seq_offset) & 0xFFFF

    def _ssrc(self, packet: RtpPacket) -> int:
        return packet.ssrc if self.keep_ssrc else self.sender._ssrc

    def rewrite(self, packet: RtpPacket, payload_type: int, abs_send_time: int) -> RtpPacket:
        """The packet as this viewer receives it, as an object (retransmissions wrap it in RTX)."""
        out = RtpPacket(
            payload_type=payload_type,
            marker=packet.marker,
            sequence_number=self._sequence_number(packet),
            timestamp=packet.timestamp,
            ssrc=self._ssrc(packet),
            payload=packet.payload,
        )
        out.extensions = HeaderExtensions()
        out.extensions.mid = self.mid
        out.extensions.abs_send_time = abs_send_time
        out.extensions.audio_level = packet.extensions.audio_level
        return out

    def wire(self, packet: RtpPacket, payload_type: int, abs_send_time: int, templates: Templates) -> bytes:
        """The packet as this viewer receives it, as bytes: serialised once for every viewer with the
        same layout, then patched (sequence number, SSRC). The hot loop: see benchmarks/RESULTS.md."""
        key = (payload_type, self.layout)
        template = templates.get(key)
        if template is None:
            template = templates[key] = self.rewrite(packet, payload_type, abs_send_time).serialize(self.extensions)
        data = bytearray(template)
        _SEQUENCE.pack_into(data, 2, self._sequence_number(packet))
        _SSRC.pack_into(data, 8, self._ssrc(packet))
        return bytes(data)  # pylibsrtp protects bytes only

    def sending_for(self) -> float:
        """Seconds since this egress first sent a packet (0 before that)."""
        now = time.monotonic()
        if self._first_sent is None:
            self._first_sent = now
        return now - self._first_sent

    def send_now(self, data: bytes) -> bool:
        """Protect `data` and send it on the viewer's nominated ICE pair at once: what aiortc's
        `_send_rtp` and aioice's `send`/`sendto`/`send_data` do, without their four coroutines per packet
        per viewer (the hot path, benchmarks/RESULTS.md). False where that chain must run: no nominated
        pair, a TURN relay's pair (its own protocol), or a step someone replaced (consent.py's `sendto` at
        expiry, lost_path.py's `send_data`)."""
        dtls = self.sender.transport
        if dtls is None or dtls._state is not DtlsState.CONNECTED:
            return False
        connection = dtls.transport._connection
        pair = connection._nominated.get(1)
        if pair is not self._pair:  # nominated, or changed by an ICE restart: look at it once
            self._pair = pair
            self._address = pair.remote_addr if pair is not None and type(pair.protocol) is StunProtocol else None
        # aiortc's chain wherever somebody replaced a step of it, at any time: consent.py wraps the
        # connection's sendto once consent expires, lost_path.py the protocol's send_data (a path that
        # must fall silent); checked per packet (two dict lookups), not once per pair
        if self._address is None or "sendto" in connection.__dict__ or "send_data" in vars(pair.protocol):
            return False
        udp = pair.protocol.transport
        if udp is None or udp.is_closing():
            return False
        protected = dtls._tx_srtp.protect(data)
        if udp._buffer:  # asyncio holds datagrams the socket refused: keep the order behind them
            udp.sendto(protected, self._address)
        else:
            try:
                udp._sock.sendto(protected, self._address)
            except (BlockingIOError, InterruptedError):
                udp.sendto(protected, self._address)  # asyncio buffers it until the socket is writable
            except OSError:
                pass  # lost, as a datagram can be (asyncio would only report it to aioice's protocol)
        dtls._RTCDtlsTransport__tx_bytes += len(protected)  # what getStats reports, as _send_rtp counts it
        dtls._RTCDtlsTransport__tx_packets += 1
        self.session.observed.rtp_packets[self.counted] += 1
        return True

    async def send(self, data: bytes) -> None:
        if self.send_now(data):
            return
        try:
            await self.sender.transport._send_rtp(data)
        except ConnectionError:
            return
        self.session.observed.rtp_packets[self.counted] += 1


def _has_event_stream(session: Session) -> bool:
    """The playback-needs-sse fault: a viewer gets media only once it listens to its events."""
    return session.events is not None and any(s.opened.is_set() for s in session.events.streams.values())


class Relay:
    """Who publishes to one live input, who watches it, and the forwarding between them.

    The relay is the one owner of the input's publisher and viewers (`LiveInput.publisher` and
    `.viewers` read them here): every packet walks the viewers, and each viewer's egress streams are
    forwarding state that cannot outlive its membership, so one map holds both and a session that
    leaves (`remove`) takes its forwarding with it."""

    def __init__(self, faults: ActiveFaults, on_unservable: Callable[[Session, str], Awaitable[None]]) -> None:
        self.faults = faults
        self.on_unservable = on_unservable
        self.ingress: dict[str, Ingress] = {}
        self.publisher: Session | None = None  # from its POST on, before its offer is answered
        self.viewers: dict[Session, dict[str, Egress]] = {}  # every viewer; its egress streams once attached ({} before)
        self.last_packet = time.monotonic()  # of the publisher's RTP, for reaping a vanished publisher
        self._last_keyframe_request = 0.0
        self._keyframe_pending: asyncio.TimerHandle | None = None
        self._delayed: set[asyncio.Task] = set()  # sends held back by the media-delayed fault
        self._created, self._awaiting_keyframe = time.monotonic(), False  # the video-pauses fault
        self._dropped_video: dict[int, int] = {}  # video packets the fault dropped, by SSRC
        # any fault that withholds media from a connected viewer (_gets_media), looked up once, not per packet per viewer
        self._withholding = any(f in faults for f in (Fault.PLAYBACK_NEEDS_SSE, Fault.MEDIA_STOPS_AFTER_5S,
                                                      Fault.MEDIA_STOPS_AFTER_RESTART))

    # --- who publishes, who watches ----------------------------------------------------------
    def add_publisher(self, session: Session) -> None:
        """The input's publisher from its POST on, so a second publisher's POST sees it (409)."""
        self.publisher = session

    def add_viewer(self, session: Session) -> None:
        """A viewer from its POST on (it counts in viewercount); media flows once `attach_viewer` runs."""
        self.viewers.setdefault(session, {})

    def remove(self, session: Session) -> Literal["publisher", "viewer"] | None:
        """`session` leaves the input, and nothing is forwarded from or to it any more: "publisher" or
        "viewer" for what it was, None if it was neither (any more)."""
        if session is self.publisher:
            self.publisher = None
            self.ingress.clear()
            if self._keyframe_pending is not None:
                self._keyframe_pending.cancel()
                self._keyframe_pending = None
            return "publisher"
        if session in self.viewers:
            del self.viewers[session]
            return "viewer"
        return None

    # --- publisher ---------------------------------------------------------------------------
    def attach_publisher(self, session: Session) -> None:
        """Forward the publisher's media: hook its receivers (it joined by `add_publisher`)."""
        for transceiver in session.pc.getTransceivers():
            receiver = transceiver.receiver
            ingress = Ingress(transceiver.kind, receiver, {c.payloadType: c for c in transceiver._codecs},
                              simulcast=SimulcastChoice(90000) if session.simulcast and transceiver.kind == "video" else None,
                              gop=self._gop_cache() if transceiver.kind == "video" else None)
            self.ingress[transceiver.kind] = ingress
            receiver._RTCRtpReceiver__jitter_buffer = _NoFrames()  # type: ignore[attr-defined]
            original = receiver._handle_rtp_packet

            async def on_rtp(packet: RtpPacket, arrival_time_ms: int, ingress: Ingress = ingress, original=original,
                             counts: dict[str, int] = session.observed.rtp_packets, mid: str = str(transceiver.mid)) -> None:
                counts[mid] += 1  # received per m-line, for GET /client/v4/sessions
                await self._forward(ingress, packet)
                await original(packet, arrival_time_ms=arrival_time_ms)

            receiver._handle_rtp_packet = on_rtp  # type: ignore[method-assign]
            session.observed.rtp_packets.setdefault(str(transceiver.mid), 0)

    def _gop_cache(self) -> GopCache | None:
        """A video input's group-of-pictures cache; none under the faults of a relay that starts joiners
        at the next keyframe (no-gop-cache) or never gives them one (no-keyframe-on-join)."""
        if Fault.NO_GOP_CACHE in self.faults or Fault.NO_KEYFRAME_ON_JOIN in self.faults:
            return None
        return GopCache()

    async def reap_when_silent(self, session: Session, timeout_s: float, end: Callable[[Session], Awaitable[None]]) -> None:
        """End a connected publisher whose RTP stops for `timeout_s` (it vanished without DELETE);
        ending it ends its viewers. ICE consent would notice too, but only after about 30 s."""
        await session.connected.wait()
        self.last_packet = time.monotonic()
        while not session.closed:
            silent = time.monotonic() - self.last_packet
            if silent > timeout_s:
                log.info("publisher %s sent nothing for %.1f s; ending it", session.id, silent)
                await end(session)
                return
            await asyncio.sleep(max(0.1, timeout_s - silent))  # a watchdog's period, not a synchronisation

    def video_bitrate(self) -> int | None:
        """The publisher's average video bitrate (bit/s) so far; None before a second of video."""
        ingress = self.ingress.get("video")
        if ingress is None or ingress.first_packet_at is None:
            return None
        elapsed = time.monotonic() - ingress.first_packet_at
        return int(ingress.payload_bytes * 8 / elapsed) if elapsed >= 1.0 else None

    def live_codec(self, kind: str) -> RTCRtpCodecParameters | None:
        """The codec the publisher sends (seen on the wire), else the one it negotiated first."""
        ingress = self.ingress.get(kind)
        if ingress is None:
            return None
        return ingress.codec or next((c for c in ingress.codecs.values() if not is_rtx(c)), None)

    async def _forward(self, ingress: Ingress, packet: RtpPacket) -> None:
        self.last_packet = time.monotonic()
        codec = ingress.codecs.get(packet.payload_type)
        if codec is None:
            return
        if Fault.VIDEO_PAUSES in self.faults and ingress.kind == "video":
            if not is_rtx(codec):
                ingress.media_ssrc = packet.ssrc  # where the keyframe request after a pause goes
            packet = self._through_pauses(codec, packet)
            if packet is None:
                return  # lost before the history: no retransmission can repair it
        if ingress.simulcast is not None:
            if is_rtx(codec):
                return  # a retransmission whose stream is unknown (simulcast signals no a=ssrc-group)
            switches = ingress.simulcast.switches
            taken = ingress.simulcast.take(packet)
            if taken is None:
                return
            if ingress.simulcast.switches != switches:
                log.info("simulcast: stream %s fell silent; forwarding %s", ingress.media_ssrc, packet.ssrc)
                ingress.media_ssrc = packet.ssrc  # where the keyframe request goes
                if ingress.gop is not None:
                    ingress.gop.clear()  # the other stream's pictures cannot start this one
                self.request_keyframe()
            packet = taken
        if is_rtx(codec):
            apt = int(codec.parameters.get("apt", -1))
            if apt not in ingress.codecs or ingress.media_ssrc is None or len(packet.payload) < 2:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=ingress.media_ssrc)
            codec = ingress.codecs[apt]
        else:
            ingress.media_ssrc = packet.ssrc
            ingress.codec = codec
            ingress.payload_bytes += len(packet.payload)
            if ingress.first_packet_at is None:
                ingress.first_packet_at = time.monotonic()
        ingress.history.add(packet)
        if Fault.WHIP_EXT_REQUIRED in self.faults and not (self.publisher is not None and self.publisher.extension_used):
            return
        if (Fault.MEDIA_NEVER_FORWARDED in self.faults or (Fault.VP9_NEVER_FORWARDED in self.faults and codec.name.lower() == "vp9")
                or (Fault.AUDIO_NEVER_FORWARDED in self.faults and codec.mimeType.lower().startswith("audio/"))):
            return
        if ingress.gop is not None:
            ingress.gop.add(packet, starts_keyframe(codec.mimeType, packet.payload))
        sent_at = abs_send_time()
        templates: Templates = {}
        delayed = Fault.MEDIA_DELAYED in self.faults
        for session, streams in list(self.viewers.items()):
            egress = streams.get(ingress.kind)
            if egress is None or not self._gets_media(session, egress):
                continue
            if not egress.started:
                self._start(egress, ingress)
            if egress.backlog is not None and packet.sequence_number in egress.burst:
                continue  # its burst carries this packet (one the group lacked, e.g. a late repair, goes after it)
            payload_type = egress.payload_type(codec)
            if payload_type is None:
                if session in self.viewers:  # (it may have left while an earlier viewer's send was awaited)
                    self.viewers[session] = {}  # nothing more is forwarded to it; it stays a viewer until it is ended
                session.spawn(self.on_unservable(session, f"the viewer's {ingress.kind} codecs cannot carry {codec.mimeType}"))
                continue
            data = egress.wire(packet, payload_type, sent_at, templates)
            if egress.backlog is not None:
                egress.backlog.append(data)
            elif delayed:
                self._send_later(egress, data)
            elif not egress.send_now(data):
                await egress.send(data)

    def _gets_media(self, session: Session, egress: Egress) -> bool:
        """Whether the viewer's stream is sent media now (its transport is up; the faults that withhold it)."""
        if not egress.ready:
            return False
        if not self._withholding:
            return True
        if Fault.PLAYBACK_NEEDS_SSE in self.faults and not _has_event_stream(session):
            return False
        if Fault.MEDIA_STOPS_AFTER_5S in self.faults and egress.sending_for() > FAULT_MEDIA_FOR_S:
            return False
        return not (Fault.MEDIA_STOPS_AFTER_RESTART in self.faults and (
            session.ice_restart is not None or (self.publisher is not None and self.publisher.ice_restart is not None)))

    async def _deliver(self, egress: Egress, data: bytes) -> None:
        if Fault.MEDIA_DELAYED in self.faults:
            self._send_later(egress, data)
        else:
            await egress.send(data)

    def _start(self, egress: Egress, ingress: Ingress) -> None:
        """Media starts flowing to a viewer's stream: first the cached group of pictures (instant join),
        rewritten to the viewer's numbering like any packet, then the live packets, which wait in the
        egress's backlog while the burst goes out, so the viewer gets one sequence without gap or overlap."""
        egress.started = True
        cached = ingress.gop.packets() if ingress.gop is not None else []
        if not cached:
            return
        egress.from_cache, egress.backlog = True, collections.deque()
        egress.burst = frozenset(p.sequence_number for p in cached)
        egress.session.spawn(self._burst(egress, ingress, cached))

    async def _burst(self, egress: Egress, ingress: Ingress, cached: list[RtpPacket]) -> None:
        sent_at = abs_send_time()
        try:
            for index, packet in enumerate(cached):
                payload_type = egress.payload_type(ingress.codecs[packet.payload_type])
                if payload_type is not None:
                    await self._deliver(egress, egress.wire(packet, payload_type, sent_at, {}))
                if index % BURST_YIELD_EVERY == BURST_YIELD_EVERY - 1:
                    # the direct send never suspends: yield, so a joiner's burst (up to 800 packets) does not
                    # hold up the publisher's ingress and every other viewer (live packets queue in the backlog)
                    await asyncio.sleep(0)
            while egress.backlog:
                await self._deliver(egress, egress.backlog.popleft())
        finally:
            egress.backlog = None

    def _through_pauses(self, codec: RTCRtpCodecParameters, packet: RtpPacket) -> RtpPacket | None:
        """The video-pauses fault: None while video is dropped (every FAULT_PAUSE_EVERY_S, for FAULT_PAUSE_S) and
        until the keyframe asked for after each pause; the packets that pass are renumbered without gaps, so
        viewers see whole frames missing (frames lost, a freeze) rather than a broken stream they cannot decode."""
        if is_rtx(codec):
            return None  # no retransmission may repair the loss
        paused = (time.monotonic() - self._created) % FAULT_PAUSE_EVERY_S < FAULT_PAUSE_S
        if paused or (self._awaiting_keyframe and not starts_keyframe(codec.mimeType, packet.payload)):
            if not paused:
                self.request_keyframe()
            self._awaiting_keyframe = True
            self._dropped_video[packet.ssrc] = self._dropped_video.get(packet.ssrc, 0) + 1
            return None
        self._awaiting_keyframe = False
        # a copy: the packet also goes on to aiortc's own receiver (its NACKs and reports to the publisher),
        # which must see the publisher's numbering, not the viewers'; each stream (simulcast) counts its own drops
        renumbered = copy.copy(packet)
        renumbered.sequence_number = (packet.sequence_number - self._dropped_video.get(packet.ssrc, 0)) & 0xFFFF
        return renumbered

    def _send_later(self, egress: "Egress", packet: bytes) -> None:
        """The media-delayed fault: a relay with a deep buffer (every packet held FAULT_DELAY_S)."""
        def send() -> None:
            task = asyncio.ensure_future(egress.send(packet))
            self._delayed.add(task)
            task.add_done_callback(self._delayed.discard)

        asyncio.get_running_loop().call_later(FAULT_DELAY_S, send)

    # --- viewers -----------------------------------------------------------------------------
    def attach_viewer(self, session: Session) -> None:
        """Forward the live media to a viewer (it joined by `add_viewer`) once its answer is settled;
        a viewer that has left in the meantime gets nothing."""
        if session not in self.viewers:
            return
        streams = {}
        for transceiver in session.pc.getTransceivers():
            if transceiver.currentDirection in ("sendonly", "sendrecv") or transceiver.direction == "sendonly":
                egress = Egress(session, transceiver, keep_ssrc=Fault.WRONG_SSRC_REWRITE in self.faults,
                                wrong_codec=Fault.WRONG_PAYLOAD_TYPE in self.faults and transceiver.kind == "video")
                streams[transceiver.kind] = egress
                self._hook_feedback(egress)
        self.viewers[session] = streams
        video_in = self.ingress.get("video")
        if video_in is not None and video_in.gop is not None and video_in.gop.age_s() > FRESH_S:
            self.request_keyframe()  # a fresh group by the time the viewer connects (gop_cache.py)

        async def on_connected() -> None:
            await session.connected.wait()
            video, ingress = streams.get("video"), self.ingress.get("video")
            if video is not None and ingress is not None and not video.started and self._gets_media(session, video):
                self._start(video, ingress)  # as soon as its DTLS is up, not at the next packet
            if Fault.NO_KEYFRAME_ON_JOIN not in self.faults and not (video is not None and video.from_cache):
                self.request_keyframe()

        session.spawn(on_connected())

    def _hook_feedback(self, egress: Egress) -> None:
        original = egress.sender._handle_rtcp_packet

        async def on_rtcp(packet) -> None:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                if Fault.NO_KEYFRAME_ON_JOIN not in self.faults:
                    self.request_keyframe()
                return
            if isinstance(packet, RtcpRrPacket):
                egress.receiver_reports += 1
            if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                if Fault.NACK_NEEDS_REPORTS in self.faults and egress.receiver_reports < NACK_AFTER_REPORTS:
                    return  # the fault: no retransmission buffer before the viewer's reports give an RTT
                # A NACK asks for packets of the media source it names (RFC 4585 §6.2.1); one naming another
                # SSRC (the RTX stream's, say) asks for nothing this viewer was sent, as Janus treats it too.
                names_media = egress.keep_ssrc or packet.media_ssrc == egress.sender._ssrc
                if names_media and Fault.NACK_IGNORED not in self.faults:
                    await self._retransmit(egress, packet.lost)
                return
            await original(packet)

        egress.sender._handle_rtcp_packet = on_rtcp  # type: ignore[method-assign]

    async def _retransmit(self, egress: Egress, lost: list[int]) -> None:
        ingress = self.ingress.get(egress.kind)
        if ingress is None or egress.seq_offset is None or not egress.ready:
            return
        for seq in lost:
            packet = ingress.history.get((seq - egress.seq_offset) & 0xFFFF)
            if packet is None:
                continue
            codec = ingress.codecs[packet.payload_type]
            payload_type = egress.payload_type(codec)
            if payload_type is None:
                continue
            out = egress.rewrite(packet, payload_type, abs_send_time())
            rtx_pt = egress.rtx.get(payload_type)
            if rtx_pt is not None:
                egress.rtx_seq = (egress.rtx_seq + 1) & 0xFFFF
                out = wrap_rtx(out, payload_type=rtx_pt, sequence_number=egress.rtx_seq, ssrc=egress.sender._rtx_ssrc)
            await egress.send(out.serialize(egress.extensions))

    # --- keyframes ---------------------------------------------------------------------------
    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per KEYFRAME_INTERVAL_S (never dropped)."""
        if self._keyframe_pending is not None:
            return
        wait = self._last_keyframe_request + KEYFRAME_INTERVAL_S - time.monotonic()
        if wait > 0:
            self._keyframe_pending = asyncio.get_running_loop().call_later(wait, self._send_keyframe_request)
        else:
            self._send_keyframe_request()

    def _send_keyframe_request(self) -> None:
        self._keyframe_pending = None
        ingress = self.ingress.get("video")
        if ingress is None or ingress.media_ssrc is None:
            return
        self._last_keyframe_request = time.monotonic()
        asyncio.ensure_future(ingress.receiver._send_rtcp_pli(ingress.media_ssrc))
