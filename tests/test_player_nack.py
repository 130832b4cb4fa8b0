"""The suite's player NACKs the media stream, never the retransmission stream (issue 17, item 11).

A NACK names the SSRC of the media source and sequence numbers of that source (RFC 4585 §6.2.1).
The player used to name max(SSRCs seen), which is the RTX stream's whenever its SSRC is the larger
one and its packets were counted as media; a server that honours only NACKs for its media SSRC (as
Janus does) then retransmits nothing and the case failed falsely.
"""

from __future__ import annotations

import asyncio

from aiortc import RTCSessionDescription
from aiortc.rtp import RtpPacket

from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player

MEDIA_SSRC, RTX_SSRC = 1111, 4_000_000_000  # the repair stream's SSRC is the larger one


def _answer_with_fid(offer: str) -> str:
    """The player's own offer turned into a sendonly answer that signals an FID group (media, RTX)."""
    lines, out, in_video = offer.splitlines(), [], False
    for line in lines:
        if line.startswith("m="):
            in_video = line.startswith("m=video")
        line = line.replace("a=recvonly", "a=sendonly").replace("a=setup:actpass", "a=setup:passive")
        out.append(line)
        if in_video and line.startswith("a=mid:"):
            out += [f"a=ssrc-group:FID {MEDIA_SSRC} {RTX_SSRC}", f"a=ssrc:{MEDIA_SSRC} cname:x", f"a=ssrc:{RTX_SSRC} cname:x"]
    return "\r\n".join(out) + "\r\n"


async def _video_receiver_with_fid(the_player: player.Player):
    """The player's video receiver, once it took an answer that pairs MEDIA_SSRC with RTX_SSRC."""
    offer = await peer.local_offer(the_player.pc)
    await the_player.pc.setRemoteDescription(RTCSessionDescription(_answer_with_fid(offer), "answer"))
    return next(t for t in the_player.pc.getTransceivers() if t.kind == "video").receiver


def test_nack_names_the_media_ssrc_not_the_rtx_one():
    async def scenario():
        the_player = player.Player([])
        try:
            receiver = await _video_receiver_with_fid(the_player)
            vp8 = next(pt for pt in range(96, 128) if (the_player.codec_name(pt) or "").lower() == "video/vp8")
            sent: list[tuple[int, list[int]]] = []

            async def capture(media_ssrc: int, lost: list[int]) -> None:
                sent.append((media_ssrc, lost))

            receiver._send_rtcp_nack = capture
            # arrange: media packets, then a packet on the RTX SSRC under the media payload type (so only the
            # answer's ssrc-group tells it apart), as the last one seen
            for seq, ssrc in ((10, MEDIA_SSRC), (11, MEDIA_SSRC), (500, RTX_SSRC)):
                await receiver._handle_rtp_packet(RtpPacket(payload_type=vp8, sequence_number=seq, ssrc=ssrc,
                                                            payload=b"\x10\x00"), arrival_time_ms=0)
            # act
            seq = await the_player.request_retransmission()
            return seq, sent
        finally:
            await the_player.close()

    seq, sent = asyncio.run(scenario())
    assert sent == [(MEDIA_SSRC, [11])] and seq == 11, (
        f"the NACK went to {sent}; it must name media SSRC {MEDIA_SSRC} and its newest sequence number 11")


def test_rtx_packets_are_counted_with_their_original_sequence_number():
    """An RTX packet (RFC 4588 §4: the payload starts with the original sequence number) is counted as a
    repair of that number, so the NACK case can tell an answer to its own NACK from other repairs."""
    async def scenario():
        the_player = player.Player([])
        try:
            receiver = await _video_receiver_with_fid(the_player)
            rtx = next(pt for pt in range(96, 128) if (the_player.codec_name(pt) or "").lower() == "video/rtx")
            # act: an RTX packet on the repair SSRC carrying original sequence number 4660 (0x1234)
            await receiver._handle_rtp_packet(RtpPacket(payload_type=rtx, sequence_number=7, ssrc=RTX_SSRC,
                                                        payload=b"\x12\x34\x10\x00"), arrival_time_ms=0)
            return the_player.streams["video"]
        finally:
            await the_player.close()

    stream = asyncio.run(scenario())
    assert stream.retransmissions == 1 and stream.repaired == {0x1234}, (
        f"an RTX packet for sequence number 4660 was counted as {stream.retransmissions} repairs of {stream.repaired}")
