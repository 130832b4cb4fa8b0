"""VP9 for aiortc: the RTP payload format (RFC 9628) and a realtime encoder/decoder from PyAV.

Written in the shape of aiortc's own `codecs/vpx.py` (a payload descriptor class, a depayload
function, an Encoder and a Decoder) so it can be offered upstream as it stands; the hook that
puts it into aiortc's codec selection lives in `aiortc_vp9.py`.

What the encoder sends is one spatial and one temporal layer in non-flexible mode: every
packet carries a 15-bit picture ID, the first packet of a keyframe carries the scalability
structure with the picture size, and there are no superframes (no alt-ref, no lag), so the
packets of one RTP timestamp reassemble into exactly one decodable frame.
"""

from __future__ import annotations

import multiprocessing
import random
from dataclasses import dataclass, field
from struct import pack, unpack_from
from typing import Optional, cast

import av
from av import VideoFrame
from av.frame import Frame
from av.packet import Packet
from av.video.codeccontext import VideoCodecContext

from aiortc.codecs.base import Decoder, Encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import VIDEO_TIME_BASE, convert_timebase

MIME_TYPE = "video/VP9"
CLOCK_RATE = 90000
DEFAULT_BITRATE = 500_000
MIN_BITRATE = 250_000
MAX_BITRATE = 1_500_000
PACKET_MAX = 1300  # bytes of payload per RTP packet, as aiortc's VP8 packetizer


@dataclass
class Vp9PayloadDescriptor:
    """The VP9 payload descriptor (RFC 9628 §4.2); fields are None when their flag is clear."""

    start_of_frame: bool  # B
    end_of_frame: bool  # E
    inter_picture_predicted: bool = True  # P
    flexible_mode: bool = False  # F
    picture_id: Optional[int] = None  # I (15-bit when written)
    tid: Optional[int] = None  # L: temporal layer
    switching_up: bool = False  # L: U
    sid: Optional[int] = None  # L: spatial layer
    inter_layer_dependency: bool = False  # L: D
    tl0picidx: Optional[int] = None  # L and not F
    p_diffs: list[int] = field(default_factory=list)  # P and F
    not_upper_layer_reference: bool = False  # Z
    # Scalability structure (V): one (width, height) per spatial layer; empty when V is clear
    # or sizes are absent.
    scalability_structure: bool = False
    resolutions: list[tuple[int, int]] = field(default_factory=list)

    def __bytes__(self) -> bytes:
        layer = self.tid is not None or self.sid is not None
        octet = (
            (self.picture_id is not None) << 7
            | self.inter_picture_predicted << 6
            | layer << 5
            | self.flexible_mode << 4
            | self.start_of_frame << 3
            | self.end_of_frame << 2
            | self.scalability_structure << 1
            | self.not_upper_layer_reference
        )
        data = bytes([octet])
        if self.picture_id is not None:
            data += pack("!H", 0x8000 | (self.picture_id & 0x7FFF))
        if layer:
            data += bytes([((self.tid or 0) & 7) << 5 | self.switching_up << 4 | ((self.sid or 0) & 7) << 1
                           | self.inter_layer_dependency])
            if not self.flexible_mode:
                data += bytes([(self.tl0picidx or 0) & 0xFF])
        if self.flexible_mode and self.inter_picture_predicted:
            for index, diff in enumerate(self.p_diffs):
                data += bytes([(diff & 0x7F) << 1 | (index < len(self.p_diffs) - 1)])
        if self.scalability_structure:
            sizes = bool(self.resolutions)
            spatial_layers = max(len(self.resolutions), 1)
            data += bytes([(spatial_layers - 1) << 5 | sizes << 4])
            for width, height in self.resolutions:
                data += pack("!HH", width, height)
        return data

    @classmethod
    def parse(cls, data: bytes) -> tuple["Vp9PayloadDescriptor", bytes]:
        """Split a payload into its descriptor and the VP9 bitstream bytes; ValueError if truncated."""
        reader = _Reader(data)
        octet = reader.byte("descriptor")
        has_picture_id, has_layer = bool(octet & 0x80), bool(octet & 0x20)
        descriptor = cls(
            start_of_frame=bool(octet & 0x08),
            end_of_frame=bool(octet & 0x04),
            inter_picture_predicted=bool(octet & 0x40),
            flexible_mode=bool(octet & 0x10),
            scalability_structure=bool(octet & 0x02),
            not_upper_layer_reference=bool(octet & 0x01),
        )
        if has_picture_id:
            first = reader.byte("picture ID")
            descriptor.picture_id = (first & 0x7F) << 8 | reader.byte("extended picture ID") if first & 0x80 else first
        if has_layer:
            layer = reader.byte("layer indices")
            descriptor.tid, descriptor.switching_up = layer >> 5, bool(layer & 0x10)
            descriptor.sid, descriptor.inter_layer_dependency = (layer >> 1) & 7, bool(layer & 1)
            if not descriptor.flexible_mode:
                descriptor.tl0picidx = reader.byte("TL0PICIDX")
        if descriptor.flexible_mode and descriptor.inter_picture_predicted:
            for _ in range(3):
                diff = reader.byte("P_DIFF")
                descriptor.p_diffs.append(diff >> 1)
                if not diff & 1:
                    break
        if descriptor.scalability_structure:
            ss = reader.byte("scalability structure")
            spatial_layers = (ss >> 5) + 1
            if ss & 0x10:
                for _ in range(spatial_layers):
                    descriptor.resolutions.append((reader.uint16("width"), reader.uint16("height")))
            if ss & 0x08:
                for _ in range(reader.byte("N_G")):
                    references = (reader.byte("picture group") >> 2) & 3
                    for _ in range(references):
                        reader.byte("group P_DIFF")
        return descriptor, data[reader.pos:]

    @property
    def starts_keyframe(self) -> bool:
        """The first packet of a picture that needs no earlier picture (base spatial layer)."""
        return self.start_of_frame and not self.inter_picture_predicted and not self.sid


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self, what: str) -> int:
        if self.pos >= len(self.data):
            raise ValueError(f"VP9 descriptor is truncated before its {what}")
        self.pos += 1
        return self.data[self.pos - 1]

    def uint16(self, what: str) -> int:
        if self.pos + 2 > len(self.data):
            raise ValueError(f"VP9 descriptor is truncated before its {what}")
        self.pos += 2
        return cast(int, unpack_from("!H", self.data, self.pos - 2)[0])


def vp9_depayload(payload: bytes) -> bytes:
    """The VP9 bitstream bytes of one RTP payload (what aiortc's jitter buffer joins per frame)."""
    _, data = Vp9PayloadDescriptor.parse(payload)
    return data


def is_keyframe(payload: bytes) -> bool:
    """Whether an RTP payload is the first packet of a VP9 keyframe; False for what does not parse."""
    try:
        descriptor, _ = Vp9PayloadDescriptor.parse(payload)
    except ValueError:
        return False
    return descriptor.starts_keyframe


def packetize(frame: bytes, picture_id: int, keyframe: bool, size: tuple[int, int]) -> list[bytes]:
    """RTP payloads for one encoded frame: B on the first, E on the last, size on a keyframe's first."""
    payloads = []
    pos = 0
    while pos < len(frame) or not payloads:
        descriptor = Vp9PayloadDescriptor(
            start_of_frame=not payloads,
            end_of_frame=False,
            inter_picture_predicted=not keyframe,
            picture_id=picture_id,
            scalability_structure=keyframe and not payloads,
            resolutions=[size] if keyframe and not payloads else [],
        )
        room = PACKET_MAX - len(bytes(descriptor))
        chunk = frame[pos:pos + room]
        pos += len(chunk)
        descriptor.end_of_frame = pos >= len(frame)
        payloads.append(bytes(descriptor) + chunk)
    return payloads


def _keyframe_in_bitstream(frame: bytes) -> bool:
    """VP9 uncompressed header (VP9 bitstream spec §6.2): frame_type 0 is a keyframe."""
    if not frame:
        return False
    first = frame[0]  # frame_marker(2) profile_low_bit profile_high_bit [reserved_zero] show_existing_frame frame_type
    profile = (first >> 5 & 1) | (first >> 4 & 1) << 1
    show_existing_bit = 3 if profile < 3 else 2
    if first >> show_existing_bit & 1:
        return False
    return not first >> (show_existing_bit - 1) & 1


class Vp9Decoder(Decoder):
    def __init__(self) -> None:
        self.codec = av.CodecContext.create("vp9", "r")

    def decode(self, encoded_frame: JitterFrame) -> list[Frame]:
        packet = Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = VIDEO_TIME_BASE
        return cast(list[Frame], self.codec.decode(packet))


class Vp9Encoder(Encoder):
    """libvpx VP9 in realtime mode, sized for small machines (one thread at low resolutions)."""

    def __init__(self) -> None:
        self.codec: Optional[VideoCodecContext] = None
        self.picture_id = random.randint(0, (1 << 15) - 1)
        self.__target_bitrate = DEFAULT_BITRATE

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, VideoFrame)
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        if self.codec and (
            frame.width != self.codec.width
            or frame.height != self.codec.height
            or abs(self.target_bitrate - self.codec.bit_rate) / self.codec.bit_rate > 0.1
        ):
            self.codec = None
        if force_keyframe:
            frame.pict_type = av.video.frame.PictureType.I
        if self.codec is None:
            self.codec = self._open(frame.width, frame.height)
        data = b"".join(bytes(p) for p in self.codec.encode(frame))
        return self._payloads(data, frame.pts, frame.time_base, (frame.width, frame.height))

    def pack(self, packet: Packet) -> tuple[list[bytes], int]:
        size = (self.codec.width, self.codec.height) if self.codec else (0, 0)
        return self._payloads(bytes(packet), packet.pts, packet.time_base, size)

    def _payloads(self, data: bytes, pts, time_base, size: tuple[int, int]) -> tuple[list[bytes], int]:
        timestamp = convert_timebase(pts, time_base, VIDEO_TIME_BASE)
        if not data:
            return [], timestamp
        payloads = packetize(data, self.picture_id, _keyframe_in_bitstream(data), size)
        self.picture_id = (self.picture_id + 1) % (1 << 15)
        return payloads, timestamp

    def _open(self, width: int, height: int) -> VideoCodecContext:
        codec = cast(VideoCodecContext, av.CodecContext.create("libvpx-vp9", "w"))
        codec.width, codec.height = width, height
        codec.bit_rate = self.target_bitrate
        codec.pix_fmt = "yuv420p"
        codec.gop_size = 3000  # keyframes only at the start and when asked for
        codec.qmin, codec.qmax = 2, 56
        codec.options = {
            "bufsize": str(self.target_bitrate),
            "minrate": str(self.target_bitrate),  # minrate = maxrate = bit_rate: CBR
            "maxrate": str(self.target_bitrate),
            "deadline": "realtime",
            "cpu-used": "8",  # fastest realtime speed: a 2-core machine encodes many cases
            "lag-in-frames": "0",  # no look-ahead: a frame out per frame in
            "auto-alt-ref": "0",  # no hidden alt-ref frames, hence no superframes
            "error-resilient": "0",
            "row-mt": "1",
            "tile-columns": "0",
            "undershoot-pct": "100",
            "overshoot-pct": "15",
        }
        codec.thread_count = 1 if width * height <= 640 * 480 or multiprocessing.cpu_count() < 3 else 2
        return codec

    @property
    def target_bitrate(self) -> int:
        return self.__target_bitrate

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        self.__target_bitrate = max(MIN_BITRATE, min(bitrate, MAX_BITRATE))
