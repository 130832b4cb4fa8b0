"""The reference server's answer to a simulcast offer (RFC 8853): behaviour, not a parser, so it lives
with the server rather than in the protocol model both sides import."""

from __future__ import annotations

import re

from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.protocol.simulcast import RID_EXTENSION, RID_ID, SimulcastLine, offered_section, rid_lines


def accept(answer_text: str, offer: sdp.SessionDescription) -> tuple[str, bool]:
    """The reference server's answer, taking up every simulcast stream the offer sends (RFC 8853
    §5.3.2), and whether it took any up. The offer comes parsed: this runs on every WHIP POST."""
    offered = offered_section(offer)
    if offered is None or offered.mid is None:
        return answer_text, False
    rids = [r for r, lines in rid_lines(offered).items() if RID_ID.match(r) and [d.split()[:1] for d in lines] == [["send"]]]
    try:
        line = next(SimulcastLine.parse(v) for v in offered.attributes["simulcast"] if v.split()[:1] == ["send"])
    except ValueError:
        return answer_text, False  # a malformed a=simulcast: answer without simulcast, as an answerer that ignores it
    sent = list(dict.fromkeys(r for r in line.rid_ids("send") if r in rids))
    extmaps = offered.attributes.get("extmap", [])  # the RID header extension, kept at the offered id
    if not sent:
        return answer_text, False
    taken = False

    def add(section: str) -> str:
        nonlocal taken
        if not re.search(rf"^a=mid:{re.escape(offered.mid)}\r?$", section, re.MULTILINE) or section.startswith(("m=audio", "m=application")):
            return section
        taken = True
        lines = [f"a=extmap:{value}" for value in extmaps if RID_EXTENSION in value and value not in section]
        lines += [f"a=rid:{rid} recv" for rid in sent] + [f"a=simulcast:recv {';'.join(sent)}"]
        return sdp.with_lines(section, lines)

    answer = sdp.rewrite_sections(answer_text, add)
    return answer, taken
