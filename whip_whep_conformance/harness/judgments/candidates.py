"""Can a client try an a=candidate a target answered with (RFC 8839 §5.1)? The suite's judgment."""

from __future__ import annotations

import re

# RFC 8839 §5.1: foundation component-id transport priority connection-address port "typ" cand-type
# *(extension-att-name extension-att-value), read loosely (token lengths as the grammar bounds them)
_CANDIDATE = re.compile(r"^\S{1,32} \d{1,3} \S+ \d{1,10} \S+ \d{1,5} typ \S+( \S+ \S+)*$")


def candidate_problem(value: str) -> str | None:
    """Why an a=candidate value cannot be used to reach its agent (None: it can be tried): bad
    grammar, or an unspecified address or port 0, which name no transport address."""
    if not _CANDIDATE.match(value):
        return f"{value[:60]!r} is not candidate grammar"
    address, port = value.split(" ")[4:6]
    if address in ("0.0.0.0", "::") or int(port) == 0:
        return f"{value[:60]!r} names no reachable address ({address} port {port})"
    return None
