"""Which endpoints a conformance case needs, so that a run given only one of them says up front
what the other costs, and runs every case that needs only what was given.

A case needs the WHEP endpoint when it checks WHEP (its module is under suites/whep/, its
`protocol` parameter is "whep", or every requirement it names is a WHEP one) or when it watches
media at a WHEP viewer (`@pytest.mark.viewer`); the WHIP endpoint, symmetrically, when it checks
WHIP. Cases that publish the suite's own media say so when they run (Case.publish_media).
"""

from __future__ import annotations

from pathlib import PurePath

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.harness.usage import Mode

VIEWER_MARK = "viewer"  # a case that checks WHIP (or the brief) but watches the media at a WHEP viewer


def needed(item: pytest.Item) -> set[str]:
    """"whip" and/or "whep": the endpoints `item` cannot run without."""
    found: set[str] = set()
    protocol = getattr(getattr(item, "callspec", None), "params", {}).get("protocol")
    parts = PurePath(str(getattr(item, "path", ""))).parts
    in_suite = parts[parts.index("suites") + 1] if "suites" in parts and parts[-1] != "suites" else ""
    if protocol in ("whip", "whep"):
        found.add(protocol)
    elif in_suite in ("whip", "whep"):
        found.add(in_suite)
    else:
        marker = item.get_closest_marker("requirement")
        kinds = {_protocol(i) for i in (marker.args if marker else ())}
        if kinds and kinds <= {"whip"} or kinds and kinds <= {"whep"}:
            found |= kinds
    if item.get_closest_marker(VIEWER_MARK) is not None:
        found.add("whep")
    return found


def _protocol(req_id: str) -> str:
    try:
        return registry.get(req_id).protocol
    except registry.UnknownRequirement:
        return "?"


def missing(item: pytest.Item, mode: Mode) -> str | None:
    """Why `item` cannot run on this target (the Not applicable reason), or None."""
    wanted = needed(item)
    if "whep" in wanted and not mode.whep:
        return "no WHEP endpoint: give --whep-endpoint (or --live-inputs); this case needs a WHEP viewer"
    if "whip" in wanted and not mode.whip:
        return "no WHIP endpoint: this case checks WHIP, and the run is WHEP-only (--whep-endpoint without --endpoint)"
    return None
