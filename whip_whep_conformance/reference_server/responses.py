"""The two shapes of a WHIP/WHEP response that explains itself: problem details and plain text."""

from __future__ import annotations

import json

from aiohttp import web

from whip_whep_conformance.protocol import problem


def text(status: int, reason: str, extra: dict[str, str]) -> web.Response:
    return web.Response(status=status, text=reason + "\n", headers=extra)


def problem_details(status: int, reason: str, extra: dict[str, str], status_member: int | None = None) -> web.Response:
    """A 4xx/5xx that explains itself: RFC 9457 problem details (RFC 9725 §4.1, WHEP §4.1).
    `status_member` overrides the document's `status` (only a fault gives it)."""
    document = problem.build(status, reason)
    if status_member is not None:
        document["status"] = status_member
    return web.Response(status=status, text=json.dumps(document) + "\n", headers={**extra, "Content-Type": problem.MEDIA_TYPE})
