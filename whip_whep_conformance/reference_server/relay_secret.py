"""The secret the API process and its relay workers share (`--relay-workers`): their internal /_relay/
routes answer only requests that carry it.

Those routes listen on loopback ports, which every local user can reach: without the secret anyone on
the machine could end an input's viewers (the origin's push) or report viewer counts. The API process
makes a new secret at start and hands it to each worker on its stdin (not argv or the environment,
which /proc shows); each internal request carries it in HEADER.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

HEADER = "X-Relay-Secret"
INTERNAL_PREFIX = "/_relay/"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def headers(secret: str) -> dict[str, str]:
    """What an internal request sends."""
    return {HEADER: secret}


def guard(secret: str):
    """Middleware: a request under /_relay/ without the secret is refused 403 before any handler."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if request.path.startswith(INTERNAL_PREFIX) and not hmac.compare_digest(
                request.headers.get(HEADER, "").encode(), secret.encode()):
            return web.Response(status=403, text="internal route: the relay secret is missing or wrong\n")
        return await handler(request)

    return middleware
