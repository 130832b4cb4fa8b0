"""Does an answer take up offered simulcast as RFC 8853 and RFC 8851 say? The suite's judgment."""

from __future__ import annotations

from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.protocol.simulcast import RID_EXTENSION, SimulcastLine, offered_section, rid_lines
from . import sdp_syntax

def answer_problems(offer_text: str, answer_text: str) -> list[str]:
    """How an answer that takes up simulcast breaks RFC 8853 §5.2/§5.3.2 and RFC 8851 §6.3 (empty if it
    does not take it up, or takes it up correctly). The offer sends simulcast, without pause/resume."""
    offered_desc, answer = sdp_syntax.parse(offer_text), sdp_syntax.parse(answer_text)
    offered = offered_section(offered_desc)
    if offered is None:
        return ["the offer has no simulcast to answer"]
    problems = []
    if "simulcast" in answer.session_attributes:
        problems.append("a=simulcast at session level (RFC 8853 §5.3.2 removes it there)")
    offered_rids = set(rid_lines(offered))
    for where, media in ((f"m-section {i} ({m.kind}, mid {m.mid})", m) for i, m in enumerate(answer.media)):
        values = media.attributes.get("simulcast", [])
        rids = rid_lines(media)
        if not values:
            continue  # not taken up here (a=rid alone restricts a single stream, RFC 8851)
        if media.mid != offered.mid:
            problems.append(f"{where}: simulcast or a=rid where the offer had none")
            continue
        if len(values) > 1:
            problems.append(f"{where}: {len(values)} a=simulcast lines; at most one (RFC 8853 §5.2)")
        for value in values:
            try:
                line = SimulcastLine.parse(value)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if "send" in line.streams:
                problems.append(f"{where}: a=simulcast:{value} sends, but the offer only sent: the answer "
                                "reverses send to recv (RFC 8853 §5.3.2)")
            listed = line.rid_ids("recv")
            duplicated = sorted({r for r in listed if listed.count(r) > 1})
            if duplicated:
                problems.append(f"{where}: rid-ids {duplicated} appear twice in a=simulcast (RFC 8853 §5.2)")
            added = [r for r in listed if r not in offered_rids]
            if added:
                problems.append(f"{where}: a=simulcast:{value} adds rid-ids {added} the offer did not send "
                                "(RFC 8853 §5.3.2: no new streams)")
            if line.paused():
                problems.append(f"{where}: rid-ids {line.paused()} are marked paused, but the offer has no "
                                "pause/resume (RFC 8853 §5.3.2)")
            unlinked = [r for r in listed if [d.split()[:1] for d in rids.get(r, [])] != [["recv"]]]
            if unlinked:
                problems.append(f"{where}: rid-ids {unlinked} of a=simulcast have no single 'a=rid:<id> recv' line "
                                "(RFC 8853 §5.2: each rid-id has an a=rid line of its direction)")
        for rid_id, lines in rids.items():
            if rid_id not in offered_rids:
                problems.append(f"{where}: a=rid:{rid_id} was not offered (RFC 8851 §6.3 keeps the offer's rid-ids)")
            for rest in lines:
                if rest.split()[:1] != ["recv"]:
                    problems.append(f"{where}: a=rid:{rid_id} {rest} is not reversed to recv (RFC 8851 §6.3)")
                if "pt=" in rest:
                    problems.append(f"{where}: a=rid:{rid_id} {rest} adds pt=, which the offer did not have (RFC 8851 §6.3)")
    return problems


def rid_extension_negotiated(answer_section: sdp.Media) -> bool:
    """Whether the answer keeps the RID header extension; neither RFC 8853 nor RFC 8851 requires it,
    but browsers (Chromium) refuse an answer that takes up simulcast without it."""
    return any(RID_EXTENSION in value for value in answer_section.attributes.get("extmap", []))
