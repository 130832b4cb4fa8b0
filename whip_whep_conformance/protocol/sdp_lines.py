"""sdp_transform's `parse`, made cheaper for a server that reads an offer per join (issue 24).

sdp_transform tries its grammar's regular expressions one after another on every line (up to ~50 for an
`a=` line), each through `re`'s pattern cache, then matches the winner again to read it: ~0.9 ms for
aiortc's 75-line offer, a fifth of the reference server's whole answer to a WHEP POST. Most of an offer's
lines (rtpmap, fmtp, rtcp-fb, extmap, …) are the same in every offer a given client sends. This does the
same parse with the grammar's expressions compiled once and each distinct line's reading remembered
(bounded), building the same dict sdp_transform builds: tests/test_sdp_lines.py holds the two equal.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sdp_transform.grammar import grammar
from sdp_transform.parser import toIntIfInt

_LINE = re.compile(r"^([a-z])=(.*)")
_RULES: dict[str, list[tuple[re.Pattern[str], dict[str, Any]]]] = {
    field: [(re.compile(rule["reg"]), rule) for rule in rules] for field, rules in grammar.items()
}


REMEMBERED_LINE_CHARS = 512  # longer lines are read every time: a hostile offer cannot pin megabytes in the cache


@lru_cache(maxsize=8192)
def _remembered(field: str, content: str) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
    return _read(field, content)


def _read(field: str, content: str) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
    """The grammar rule that reads `content` and the values it reads (as sdp_transform converts them)."""
    for pattern, rule in _RULES.get(field, ()):
        match = pattern.match(content)
        if match is None:
            continue
        names, raw_name = rule.get("names"), rule.get("name")
        if raw_name and not names:
            return rule, (toIntIfInt(match[1]),)
        return rule, tuple(None if match[i + 1] is None else toIntIfInt(match[i + 1]) for i in range(len(names)))
    return None


def parse(sdp: str) -> dict:
    """What `sdp_transform.parse(sdp)` returns."""
    session: dict[str, Any] = {}
    media: list[dict[str, Any]] = []
    location = session
    for line in sdp.splitlines():
        if _LINE.match(line) is None:
            continue
        field, content = line[0], line[2:]
        if field == "m":
            media.append({"rtp": [], "fmtp": []})
            location = media[-1]
        read = _remembered(field, content) if len(content) <= REMEMBERED_LINE_CHARS else _read(field, content)
        if read is None:
            continue
        rule, values = read
        push, name, names = rule.get("push"), rule.get("name"), rule.get("names")
        if push:
            if not location.get(push):
                location[push] = []
            target: dict[str, Any] = {}
        elif name and names:
            if not location.get(name):
                location[name] = {}
            target = location.get(name)
        else:
            target = location
        if name and not names:
            target[name] = values[0]
        else:
            for key, value in zip(names, values):
                if value is not None:
                    target[key] = value
        if push:
            location[push].append(target)
    session["media"] = media
    return session
