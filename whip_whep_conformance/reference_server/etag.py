"""The server's If-Match precondition on a session's PATCH (RFC 9725 §4.3.1, RFC 9110 §13.1.1).

The server's own reading of RFC 9110, kept apart from the suite's entity-tag judgments
(harness/judgments/http_fields.py) so a misreading cannot be shared by both sides.
"""

from __future__ import annotations

# RFC 9110 §8.8.3: entity-tag = [ weak ] opaque-tag; weak = %s"W/"; opaque-tag = DQUOTE *etagc DQUOTE;
# etagc = %x21 / %x23-7E / obs-text (obs-text = %x80-FF).
_WEAK = "W/"


def _etagc(ch: str) -> bool:
    code = ord(ch)
    return code == 0x21 or 0x23 <= code <= 0x7E or 0x80 <= code <= 0xFF


def _entity_tags(field_value: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque-tag) for each member of an If-Match list, or None when the value is not
    `#entity-tag` (RFC 9110 §5.6.1: comma-separated, optional whitespace, empty members allowed)."""
    found = []
    for member in field_value.split(","):
        member = member.strip(" \t")
        if not member:
            continue
        weak = member.startswith(_WEAK)
        opaque = member[len(_WEAK):] if weak else member
        if len(opaque) < 2 or opaque[0] != '"' or opaque[-1] != '"' or not all(map(_etagc, opaque[1:-1])):
            return None
        found.append((weak, opaque))
    return found or None


def if_match_holds(field_value: str, current_etag: str) -> bool:
    """Whether an If-Match field value lets a request on a resource tagged `current_etag` proceed.

    RFC 9110 §13.1.1: "*" holds for any current representation; otherwise the condition holds when
    one listed tag matches, and "an origin server MUST use the strong comparison function" (§8.8.3.2:
    neither tag weak, opaque-tags equal character by character). A value that is neither holds for
    nothing: a malformed precondition must not let the request through."""
    value = field_value.strip(" \t")
    if value == "*":
        return True
    tags = _entity_tags(value)
    if tags is None or current_etag.startswith(_WEAK):
        return False
    return any(not weak and opaque == current_etag for weak, opaque in tags)
