"""The top of the reference server: the aiohttp application that wires the state (server.py) to the
routes (live inputs API, WHIP, WHEP, demo page). Only the entry points import this module (__main__,
and with --relay-workers relay_workers.py and each worker's relay_worker.py)."""

from __future__ import annotations

import logging

from aiohttp import http_parser, web, web_protocol

from . import demo, fault_http, live_inputs_api, signalling, whep, whip
from .config import SERVER_KEY, ServerConfig
from .server import ReferenceServer

__all__ = ["ReferenceServer", "make_app"]  # ReferenceServer is server.py's; older type hints name it here

log = logging.getLogger("reference_server")

# aiohttp's C parser (llhttp) answers a method it does not know with 400 before any handler runs;
# RFC 9110 §9.1 wants 501 for an unrecognised method, so the server's requests go through aiohttp's
# own Python parser, which takes any token and leaves the method to the handlers (aiohttp 3.x).
web_protocol.HttpRequestParser = http_parser.HttpRequestParserPy  # type: ignore[misc]


@web.middleware
async def _errors(request: web.Request, handler) -> web.StreamResponse:
    """Unexpected errors become a 500 with a reason, never a dropped connection."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if request.method == "CONNECT":
            exc.force_close()
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.Response(status=500, text="internal error; see the server log\n")
    if request.method == "CONNECT":
        # aiohttp's Python parser treats the connection after CONNECT as a tunnel and drops it once the
        # refusal is sent; Connection: close tells the client not to reuse it.
        response.force_close()
    return response


def make_app(config: ServerConfig, server: ReferenceServer | None = None) -> web.Application:
    """The server's application; `server` a ReferenceServer of another role (an origin or a relay worker)."""
    app = web.Application(middlewares=[_errors, live_inputs_api.allow_any_origin], client_max_size=1024 * 1024)
    fault_http.install(app)  # the fault layer's response-shaping step (does nothing without --fault)
    server = server if server is not None else ReferenceServer(config)
    app[SERVER_KEY] = server
    live_inputs_api.add_routes(app)
    signalling.add_routes(app, whip.PROTOCOL)
    signalling.add_routes(app, whep.PROTOCOL)
    demo.add_routes(app)

    async def _close(_: web.Application) -> None:
        await server.close()

    app.on_shutdown.append(_close)
    return app
