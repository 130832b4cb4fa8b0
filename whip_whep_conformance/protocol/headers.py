"""HTTP field syntax WHIP and WHEP lean on: media types, bearer tokens, dates, lists.

Parsing only (RFC 9110: media-type names are case-insensitive and may carry parameters). Whether an
entity-tag is strong is the suite's judgment (harness/judgments/http_fields.py); whether an If-Match
holds is the server's own (reference_server/etag.py).
"""

from __future__ import annotations

import email.utils
import re
from datetime import datetime, timezone

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"

def media_type(content_type: str | None) -> str | None:
    """The bare, lower-cased media type of a Content-Type value (parameters dropped)."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` value; the scheme is case-insensitive."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_AUTH_PARAM = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def bearer_challenge(www_authenticate: str | None) -> dict[str, str] | None:
    """The auth-params of a `Bearer` challenge in WWW-Authenticate (RFC 6750 §3), names lower-cased;
    None when there is no Bearer challenge. Assumes Bearer is the only or the first challenge."""
    if not www_authenticate:
        return None
    scheme, _, rest = www_authenticate.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return {name.lower(): value[1:-1] if value.startswith('"') else value for name, value in _AUTH_PARAM.findall(rest)}


def split_list(value: str | None) -> list[str]:
    """A comma-separated field value (Allow, Access-Control-*), lower-cased tokens."""
    if not value:
        return []
    return [item.strip().lower() for item in value.split(",") if item.strip()]


def media_type_parameter(content_type: str | None, name: str) -> str | None:
    """A parameter of a Content-Type value (RFC 9110 §8.3.1), quotes and escapes removed; None if absent."""
    if not content_type:
        return None
    for match in re.finditer(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)', content_type):
        if match.group(1).lower() == name.lower():
            value = match.group(2)
            return re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
    return None


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, or the obsolete RFC 850 / asctime forms), else None."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def delay_seconds(value: str | None) -> int | None:
    """Retry-After as delay-seconds (RFC 9110 §10.2.3: 1*DIGIT); None for an HTTP-date or junk."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None
