"""Problem details for HTTP APIs (RFC 9457): the JSON an error response may carry.

RFC 9725 §4.1 and draft-ietf-wish-whep-03 §4.1 let an endpoint explain its 4xx/5xx this way. The
reference server builds them here; the suite judges what a target sends with
harness/judgments/problem_details.py.
"""

from __future__ import annotations

from http import HTTPStatus

MEDIA_TYPE = "application/problem+json"

def build(status: int, detail: str) -> dict:
    """An `about:blank` problem (RFC 9457 §4.2.1): the title is the status phrase, the detail says why."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}
