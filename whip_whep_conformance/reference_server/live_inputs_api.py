"""The live inputs API, shaped like Cloudflare Stream's (`/client/v4/accounts/{id}/stream/live_inputs`).

Responses use the v4 envelope `{"success", "errors", "messages", "result"}`. The routes reach the
server only through `ports.LiveInputsHost`; the inputs themselves are `live_inputs.py`.
"""

from __future__ import annotations

import asyncio
import json
import os

from aiohttp import web

from whip_whep_conformance.protocol.headers import bearer_token

from .config import SERVER_KEY
from .faults import Fault
from .live_inputs import LiveInput
from .ports import LiveInputsHost


def envelope(result, status: int = 200, errors: list[dict] | None = None) -> web.Response:
    body = {"success": not errors, "errors": errors or [], "messages": [], "result": result}
    return web.json_response(body, status=status)


def error(status: int, code: int, message: str) -> web.Response:
    return envelope(None, status, [{"code": code, "message": message}])


def _server(request: web.Request) -> LiveInputsHost:
    return request.app[SERVER_KEY]


def _authorized(request: web.Request) -> web.Response | None:
    token = _server(request).config.api_token
    if token and bearer_token(request.headers.get("Authorization")) != token:
        response = error(401, 10000, "Authentication error: a valid API token is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="live_inputs"'
        return response
    return None


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


async def create(request: web.Request) -> web.Response:
    if (refused := _authorized(request)) is not None:
        return refused
    server = _server(request)
    meta: dict = {}
    body = await request.read()
    if body.strip():
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return error(400, 10005, "the request body is not valid JSON")
        if not isinstance(payload, dict):
            return error(400, 10005, "the request body must be a JSON object")
        meta = payload.get("meta") or {}
        if not isinstance(meta, dict):
            return error(400, 10005, "meta must be a JSON object")
    live = server.create_input(request.match_info["account_id"], meta)
    result = live.to_json(_origin(request))
    if server.config.fault(Fault.API_NO_ENVELOPE):
        return web.json_response(result, status=201)
    return envelope(result, 201)


async def list_inputs(request: web.Request) -> web.Response:
    if (refused := _authorized(request)) is not None:
        return refused
    server = _server(request)
    inputs = server.inputs.of_account(request.match_info["account_id"])
    if server.config.fault(Fault.API_LIST_MISSING):
        inputs = []
    return envelope([i.to_json(_origin(request)) for i in inputs])


def _lookup(request: web.Request) -> LiveInput | None:
    live = _server(request).inputs.by_uid(request.match_info["uid"])
    if live is None or live.account_id != request.match_info["account_id"]:
        return None
    return live


async def get(request: web.Request) -> web.Response:
    if (refused := _authorized(request)) is not None:
        return refused
    live = _lookup(request)
    if live is None:
        return error(404, 10003, "live input not found")
    return envelope(live.to_json(_origin(request)))


async def delete(request: web.Request) -> web.Response:
    if (refused := _authorized(request)) is not None:
        return refused
    server = _server(request)
    live = _lookup(request)
    if live is None:
        return error(404, 10003, "live input not found")
    if not server.config.fault(Fault.API_DELETE_KEEPS_INPUT):
        await server.end_input(live)
    return envelope(None)


async def stats(request: web.Request) -> web.Response:
    """What the server holds right now, for leak checks (`benchmarks/churn.py`)."""
    if (refused := _authorized(request)) is not None:
        return refused
    server = _server(request)
    # aiohttp runs one task per open HTTP connection; those belong to clients' keep-alive pools.
    tasks = [t for t in asyncio.all_tasks() if not t.get_coro().__qualname__.startswith("RequestHandler.")]
    return envelope({
        "live_inputs": sum(1 for _ in server.inputs),
        "sessions": len(server.sessions),
        "tasks": len(tasks),
        "task_kinds": sorted({t.get_coro().__qualname__ for t in tasks}),
        "open_fds": len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None,
    })


async def sessions(request: web.Request) -> web.Response:
    """Every session the server holds and the last ended ones, as the server observed them (observations.py):
    what a client conformance run grades a client by, beside its HTTP."""
    if (refused := _authorized(request)) is not None:
        return refused
    server = _server(request)
    return envelope(server.observations.listing([(s.observed, s.pc) for s in server.sessions.values()]))


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight: browser pages from other origins (the demo page) may use the API with a token."""
    return web.Response(status=204, headers={
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
    })


@web.middleware
async def allow_any_origin(request: web.Request, handler) -> web.StreamResponse:
    """The API answers every origin: the token, not the origin, is the credential (no cookies)."""
    response = await handler(request)
    if request.path.startswith("/client/v4/"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/client/v4/stats", stats)
    app.router.add_get("/client/v4/sessions", sessions)
    base = "/client/v4/accounts/{account_id}/stream/live_inputs"
    app.router.add_post(base, create)
    app.router.add_get(base, list_inputs)
    app.router.add_get(base + "/{uid}", get)
    app.router.add_delete(base + "/{uid}", delete)
    app.router.add_route("OPTIONS", base, preflight)
    app.router.add_route("OPTIONS", base + "/{uid}", preflight)
