"""whip_whep_conformance.protocol.sdp_lines reads every description exactly as sdp_transform.parse does:
real aiortc offers and answers, the project's hand-written descriptions, and fuzzed ones."""

from __future__ import annotations

import asyncio

import pytest
import sdp_transform
from hypothesis import given, settings

from whip_whep_conformance.protocol import sdp_lines
from whip_whep_conformance.webrtc import peer

from . import test_sdp
from .fuzz_inputs import SDP_BODIES, VALID_OFFER
from .offers import aiortc_publisher_offer


def _same(text: str) -> None:
    try:
        expected = sdp_transform.parse(text)
    except Exception as exc:  # sdp_transform's own failure (e.g. a line its grammar reads half): ours must fail alike
        with pytest.raises(type(exc)):
            sdp_lines.parse(text)
        return
    assert sdp_lines.parse(text) == expected, f"sdp_lines and sdp_transform read this differently:\n{text}"


def _aiortc_offer_and_answer() -> tuple[str, str]:
    async def make() -> tuple[str, str]:
        offerer, answerer = peer.viewer([]), peer.publisher([])
        try:
            offer = await peer.local_offer(offerer)
            await answerer.setRemoteDescription(offerer.localDescription)
            await answerer.setLocalDescription(await answerer.createAnswer())
            return offer, answerer.localDescription.sdp
        finally:
            await offerer.close()
            await answerer.close()

    peer.restrict_host_addresses(["127.0.0.1"])
    try:
        return asyncio.run(make())
    finally:
        peer.restrict_host_addresses(None)


def test_real_aiortc_descriptions_read_the_same() -> None:
    for text in (aiortc_publisher_offer(), *_aiortc_offer_and_answer()):
        _same(text)
        _same(text)  # a second time: from the remembered lines


def test_the_project_descriptions_read_the_same() -> None:
    for text in (test_sdp.OFFER, VALID_OFFER):
        _same(text)


def test_a_reading_is_not_shared_between_two_parses() -> None:
    first = sdp_lines.parse(test_sdp.OFFER)
    first["media"][0]["rtp"][0]["codec"] = "changed"
    assert sdp_lines.parse(test_sdp.OFFER)["media"][0]["rtp"][0]["codec"] == "opus", \
        "a caller editing its result must not change what the next parse returns"


@settings(max_examples=300, deadline=None)
@given(SDP_BODIES)
def test_fuzzed_descriptions_read_the_same(body) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    _same(text)
