"""Simulcast in SDP (RFC 8853, with RFC 8851 a=rid), as WHIP negotiates it (RFC 9725 §4.8).

A client that wants to send simulcast lists its RTP streams with `a=rid:<id> send` lines and orders
them in `a=simulcast:send <id>;<id>`. A server that accepts answers them reversed (`recv`), keeping
some or all of the offered streams and adding none (RFC 8853 §5.3.2); one that does not answers
without a=simulcast and gets a single stream. The suite offers with `offer` and judges the answer with
harness/judgments/simulcast_answers.py; the reference server answers with `accept`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whip_whep_conformance.protocol import sdp

RID_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # RFC 8851 §10 rid-id
RID_EXTENSION = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"  # RFC 8852: the rid carried in each RTP packet
OFFERED_RIDS = ("h", "l")  # a high and a low stream, highest first as RFC 8853 §5.1 orders preference


@dataclass(frozen=True)
class SimulcastLine:
    """One a=simulcast value: the rid-ids per direction, as lists of alternatives (RFC 8853 §5.1)."""

    streams: dict[str, list[list[str]]]  # "send"/"recv" -> [[alternative, ...], ...]; a "~" prefix kept

    @classmethod
    def parse(cls, value: str) -> "SimulcastLine":
        words = value.split()
        if len(words) not in (2, 4):
            raise ValueError(f"a=simulcast:{value} is not 'send|recv <streams>' once or twice")
        streams: dict[str, list[list[str]]] = {}
        for direction, listed in zip(words[::2], words[1::2]):
            if direction not in ("send", "recv") or direction in streams:
                raise ValueError(f"a=simulcast:{value} names direction {direction!r} wrongly or twice")
            streams[direction] = [alternatives.split(",") for alternatives in listed.split(";")]
        return cls(streams)

    def rid_ids(self, direction: str) -> list[str]:
        """Every rid-id listed for `direction`, without the paused marker."""
        return [rid.lstrip("~") for stream in self.streams.get(direction, []) for rid in stream]

    def paused(self) -> list[str]:
        """The rid-ids marked "~" (paused, RFC 7728), in either direction."""
        return [rid for streams in self.streams.values() for stream in streams for rid in stream if rid.startswith("~")]


def rid_lines(media: sdp.Media) -> dict[str, list[str]]:
    """The section's a=rid lines by rid-id: each one's [direction, restrictions...]."""
    found: dict[str, list[str]] = {}
    for value in media.attributes.get("rid", []):
        if value.split():  # a bare a=rid: names no stream (RFC 8851 §6.2.2 discards what it cannot parse)
            rid_id, *rest = value.split()
            found.setdefault(rid_id, []).append(" ".join(rest))
    return found


def offered_section(desc: sdp.SessionDescription) -> sdp.Media | None:
    """The first section that offers to send simulcast."""
    return next((m for m in desc.media if any(v.split()[:1] == ["send"] for v in m.attributes.get("simulcast", []))), None)


def offer(text: str, rids: tuple[str, ...] = OFFERED_RIDS) -> str:
    """`text` with its first video section offering to send `rids` as simulcast streams (RFC 8853 §5.3.1).
    The SSRCs go: with simulcast the streams are named by rid, not signalled SSRC (RFC 9429 §5.2.1)."""
    done = False

    def add(section: str) -> str:
        nonlocal done
        if done or not section.startswith("m=video"):
            return section
        done = True
        section = re.sub(r"^a=(ssrc|ssrc-group):[^\r\n]*\r?\n", "", section, flags=re.MULTILINE)
        used = [int(n) for n in re.findall(r"^a=extmap:(\d+)", text, flags=re.MULTILINE)]  # BUNDLE: ids are shared
        lines = ([f"a=extmap:{max(used, default=0) + 1} {RID_EXTENSION}"] if RID_EXTENSION not in section else [])
        lines += [f"a=rid:{rid} send" for rid in rids] + [f"a=simulcast:send {';'.join(rids)}"]
        return sdp.with_lines(section, lines)

    return sdp.rewrite_sections(text, add)


def accepted(desc: sdp.SessionDescription) -> sdp.Media | None:
    """The answer's section that takes up simulcast (has a=simulcast, rightly or wrongly), if any. a=rid
    lines alone do not: RFC 8851 restrictions apply to single streams too."""
    return next((m for m in desc.media if m.attributes.get("simulcast")), None)


def describe(media: sdp.Media) -> str:
    """A section's simulcast and rid lines, as a message quotes them."""
    lines = [f"a=simulcast:{v}" for v in media.attributes.get("simulcast", [])]
    return ", ".join(lines + [f"a=rid:{v}" for v in media.attributes.get("rid", [])]) or "no a=simulcast or a=rid"
