"""The demo page: a browser publishes its camera over WHIP and watches over WHEP (`/demo`).

The page and its small WHIP/WHEP client (`static/whip-whep.js`) are plain files, so they can also be
served from another origin, which is how the browser tests exercise CORS.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "demo.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/demo", page)
    app.router.add_static("/demo/", STATIC, show_index=False)
