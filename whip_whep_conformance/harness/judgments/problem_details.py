"""Does an error response explain itself with well-formed problem details (RFC 9457)? The suite's judgment."""

from __future__ import annotations

import json

from whip_whep_conformance.protocol.problem import MEDIA_TYPE

# RFC 9457 §3.1: the standard members and the JSON type each must have.
MEMBER_TYPES: dict[str, type] = {"type": str, "status": int, "title": str, "detail": str, "instance": str}


def problems(body: bytes | str, http_status: int) -> list[str]:
    """What is wrong with a problem-details body sent with `http_status` (empty: nothing).

    A member of the wrong JSON type is one a client must ignore (§3.1); a `status` member that
    differs from the response's own status misleads every client that reads it (§3.1.2).
    """
    try:
        document = json.loads(body)
    except ValueError as exc:
        return [f"the body is not JSON ({exc})"]
    if not isinstance(document, dict):
        return [f"the body is a JSON {type(document).__name__}, not an object"]
    found = []
    for name, kind in MEMBER_TYPES.items():
        value = document.get(name)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            found.append(f"member {name!r} is {json.dumps(value)}, not a JSON {'number' if kind is int else 'string'}")
    status = document.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status != http_status:
        found.append(f"member 'status' is {status} but the response's status is {http_status}")
    return found


def judge(media_type: str | None, body: bytes | str, http_status: int) -> tuple[bool, str]:
    """Whether an error response explains itself with well-formed problem details, and what it sent."""
    if media_type != MEDIA_TYPE:
        return False, f"the {http_status} is typed {media_type or '(none)'}, not {MEDIA_TYPE}"
    found = problems(body, http_status)
    if found:
        return False, f"the {http_status}'s problem details are malformed: {'; '.join(found)}"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return True, f"the {http_status} carries problem details: {text.strip()[:200]}"
