"""The VP9 module: RFC 9628 payload descriptor, packetizer and depacketizer, realtime codec, and
the hook that puts it into aiortc (which must fail loudly when an aiortc upgrade breaks it)."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import pytest
from aiortc import RTCSessionDescription
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from whip_whep_conformance.webrtc import aiortc_vp9, peer, stamp, vp9
from whip_whep_conformance.webrtc.media import PatternVideoTrack
from whip_whep_conformance.harness.player import Player, publisher


def _frames(count: int, width: int = 320, height: int = 240):
    """Stamped test pictures, as the suite's publisher makes them."""
    track = PatternVideoTrack(width, height)

    async def take():
        pictures = []
        for index in range(count):
            frame = await track.recv()
            frame.pts, frame.time_base = index * 3000, Fraction(1, 90000)
            pictures.append(frame)
        return pictures

    return asyncio.run(take())


def _noise(width: int, height: int) -> av.VideoFrame:
    """A picture that compresses badly, so its keyframe needs many packets."""
    import random

    rng = random.Random(7)
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes(rng.getrandbits(8) for _ in range(plane.line_size * plane.height)))
    frame.pts, frame.time_base = 0, Fraction(1, 90000)
    return frame


def _decode(payloads_by_frame: list[list[bytes]]) -> list[av.VideoFrame]:
    """Depacketize and decode as aiortc's receiver does: depayload each packet, join per frame."""
    decoder = vp9.Vp9Decoder()
    out = []
    for index, payloads in enumerate(payloads_by_frame):
        data = b"".join(vp9.vp9_depayload(p) for p in payloads)
        out += decoder.decode(JitterFrame(data=data, timestamp=index * 3000))
    return out


# --- payload descriptor ----------------------------------------------------------------------

@pytest.mark.parametrize("descriptor", [
    vp9.Vp9PayloadDescriptor(start_of_frame=True, end_of_frame=False, inter_picture_predicted=False, picture_id=0x1234,
                             scalability_structure=True, resolutions=[(320, 240)]),
    vp9.Vp9PayloadDescriptor(start_of_frame=False, end_of_frame=True, picture_id=5),
    vp9.Vp9PayloadDescriptor(start_of_frame=True, end_of_frame=True, picture_id=77, tid=2, switching_up=True, sid=1,
                             inter_layer_dependency=True, tl0picidx=200),
    vp9.Vp9PayloadDescriptor(start_of_frame=True, end_of_frame=True, flexible_mode=True, picture_id=9, tid=1, sid=0,
                             p_diffs=[1, 3]),
], ids=["keyframe-with-ss", "middle-delta", "layers-non-flexible", "flexible-p-diffs"])
def test_descriptor_round_trips(descriptor):
    parsed, rest = vp9.Vp9PayloadDescriptor.parse(bytes(descriptor) + b"\x82\x49")
    assert (parsed, rest) == (descriptor, b"\x82\x49"), f"{bytes(descriptor).hex()} parsed as {parsed}"


def test_truncated_descriptor_raises_value_error():
    whole = bytes(vp9.Vp9PayloadDescriptor(start_of_frame=True, end_of_frame=True, inter_picture_predicted=False,
                                           picture_id=300, tid=0, sid=0, tl0picidx=1,
                                           scalability_structure=True, resolutions=[(640, 480)]))
    accepted = []
    for cut in range(len(whole)):
        try:
            vp9.Vp9PayloadDescriptor.parse(whole[:cut])
            accepted.append(cut)
        except ValueError:
            pass
    assert not accepted, f"truncations accepted without an error: {accepted} of {len(whole)} bytes"


# --- packetizer / encoder ----------------------------------------------------------------------

def test_first_frame_is_a_keyframe_with_its_size():
    encoder = vp9.Vp9Encoder()
    payloads, _ = encoder.encode(_frames(1)[0])
    first, _ = vp9.Vp9PayloadDescriptor.parse(payloads[0])
    assert (first.starts_keyframe, first.resolutions) == (True, [(320, 240)]), f"first packet's descriptor: {first}"


def test_delta_frames_are_inter_predicted_and_keyframes_come_on_request():
    encoder = vp9.Vp9Encoder()
    pictures = _frames(6)
    kinds = []
    for index, picture in enumerate(pictures):
        payloads, _ = encoder.encode(picture, force_keyframe=index == 4)
        kinds.append(vp9.is_keyframe(payloads[0]))
    assert kinds == [True, False, False, False, True, False], f"keyframe per frame: {kinds}"


def test_frame_spanning_many_packets_is_marked_and_reassembled():
    encoder = vp9.Vp9Encoder()
    payloads, _ = encoder.encode(_noise(1280, 720))
    marks = [(d.start_of_frame, d.end_of_frame) for d, _ in map(vp9.Vp9PayloadDescriptor.parse, payloads)]
    decoded = _decode([payloads])
    assert len(payloads) > 10 and marks[0][0] and marks[-1][1] and not any(b or e for b, e in marks[1:-1]), (
        f"{len(payloads)} packets, B/E marks {marks[:3]}…{marks[-2:]}")
    assert [(f.width, f.height) for f in decoded] == [(1280, 720)], "the reassembled keyframe did not decode"
    assert all(len(p) <= vp9.PACKET_MAX for p in payloads), "a payload exceeds the packet size"


def test_decoding_recovers_at_the_next_keyframe_after_a_loss():
    encoder = vp9.Vp9Encoder()
    pictures = _frames(12)
    encoded = [encoder.encode(p, force_keyframe=i == 8)[0] for i, p in enumerate(pictures)]
    survived = encoded[:3] + encoded[4:]  # frame 3 lost on the way
    decoded = _decode(survived)
    stamps = [stamp.read(f) for f in decoded]
    after_keyframe = [s.number if s else None for s in stamps[-4:]]
    assert after_keyframe == [8, 9, 10, 11], f"stamps read after the keyframe that followed the loss: {after_keyframe}"


def test_rtp_jitter_buffer_joins_packets_into_the_encoded_frame():
    """aiortc's receive path: depayloaded packets of one timestamp come out as one decodable frame."""
    encoder = vp9.Vp9Encoder()
    buffer = JitterBuffer(capacity=128, is_video=True)
    out: list[JitterFrame] = []
    seq = 0
    for index, picture in enumerate(_frames(4)):
        payloads, timestamp = encoder.encode(picture)
        for payload in payloads:
            packet = RtpPacket(payload_type=103, sequence_number=seq, timestamp=timestamp, payload=payload)
            packet._data = vp9.vp9_depayload(payload)  # type: ignore[attr-defined]
            seq += 1
            _, frame = buffer.add(packet)
            if frame is not None:
                out.append(frame)
    decoder = vp9.Vp9Decoder()
    decoded = [f for frame in out for f in decoder.decode(frame)]
    assert [stamp.read(f).number for f in decoded] == [0, 1, 2], "frames 0-2 complete (3 waits for a successor)"


# --- the aiortc hook ---------------------------------------------------------------------------

def test_aiortc_offers_vp9_with_rtx():
    async def offer() -> str:
        pc = peer.new_peer_connection()
        pc.addTransceiver("video", direction="recvonly")
        try:
            return await peer.local_offer(pc)
        finally:
            await pc.close()

    text = asyncio.run(offer())
    assert "VP9/90000" in text and "profile-id=0" in text, "aiortc's offer lacks VP9 profile 0"


def test_aiortc_matches_vp9_by_profile():
    import aiortc.rtcpeerconnection as rtcpc

    mine = RTCRtpCodecParameters(mimeType="video/VP9", clockRate=90000, payloadType=100, parameters={"profile-id": "0"})
    other = RTCRtpCodecParameters(mimeType="video/VP9", clockRate=90000, payloadType=101, parameters={"profile-id": "2"})
    bare = RTCRtpCodecParameters(mimeType="video/VP9", clockRate=90000, payloadType=102)
    assert (rtcpc.is_codec_compatible(mine, other), rtcpc.is_codec_compatible(mine, bare)) == (False, True)


def test_hook_refuses_an_aiortc_it_was_not_written_for(monkeypatch):
    monkeypatch.setattr(aiortc_vp9.importlib.metadata, "version", lambda name: "99.0.0")
    with pytest.raises(aiortc_vp9.Vp9HookError, match="99.0.0"):
        aiortc_vp9._check_aiortc()


def test_hook_refuses_an_aiortc_without_its_hook_points(monkeypatch):
    import aiortc.rtcrtpreceiver

    monkeypatch.delattr(aiortc.rtcrtpreceiver, "depayload")
    with pytest.raises(aiortc_vp9.Vp9HookError, match="depayload"):
        aiortc_vp9._check_aiortc()


def test_aiortc_peers_send_and_decode_vp9():
    """Two real aiortc peers on loopback: VP9 negotiated, sent, decoded, stamps readable."""
    async def scenario() -> tuple[set[str], int]:
        sender = publisher("vp9")
        receiver = Player()
        try:
            await receiver.pc.setRemoteDescription(RTCSessionDescription(await peer.local_offer(sender), "offer"))
            await receiver.pc.setLocalDescription(await receiver.pc.createAnswer())
            await sender.setRemoteDescription(receiver.pc.localDescription)
            await receiver.wait_for("video", lambda s: len(s.measurement.latencies_ms) >= 30, 15)
            video = receiver.streams["video"]
            return {str(receiver.codec_name(pt)) for pt in video.payload_types}, len(video.measurement.latencies_ms)
        finally:
            await receiver.close()
            await sender.close()

    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        codecs, stamped = asyncio.run(scenario())
    finally:
        peer.restrict_host_addresses(None)
    assert (codecs, stamped >= 30) == ({"video/VP9"}, True), f"received {codecs}, {stamped} stamped pictures decoded"
