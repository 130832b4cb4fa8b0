"""The fault layer's HTTP step: one middleware that distorts the correct responses of the signalling routes.

The handlers build what a correct endpoint sends and say what it is, without reading any fault:
`routed` names a response's kind (`Route`, with the `Exchange` its shaping step may need), `rendered`
marks an error they rendered as problem details, `linked` the Links they send (`Links`). The route
table (`signalling.add_routes`) names each handler's site (`Site`). `install` puts the two parts of the
step on the application, where `make_app` builds it:

- `shaping` (the innermost middleware): before the handler, the endpoint-POST hook; after it, the
  error re-rendered (`FaultLayer.error`), the Links rewritten (`ice_server_links`, `extension_links`),
  then each kind's shaping step (`FaultLayer.shape`), in the order the handler named them.
- `_prepare` (on_response_prepare): the headers every WHIP/WHEP response carries (`base_headers`),
  rewritten as the response is sent, so a streamed response (an event stream) gets them too.

With no fault active both return the handler's response untouched.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from .config import SERVER_KEY
from .fault_layer import Exchange, Place, Route

if TYPE_CHECKING:
    from .fault_layer import FaultLayer

SITE = "fault_site"  # the attribute a routed handler carries


class Site(enum.Enum):
    """Which signalling resource a route serves."""

    ENDPOINT = "a WHIP/WHEP endpoint (publish or play URL)"
    SESSION = "a session URL"
    EXTENSION = "a session's extension URL"


@dataclass
class Links:
    """The correct Links a response at `place` carries, and what the LINKS step needs to distort them."""

    place: Place
    protocol: str  # "whip" | "whep"
    path: str  # the session path (CREATED, SERVER_OFFER, SESSION_OPTIONS) or the request's
    ice: list[str]  # the ice-server Links sent at `place`
    every_ice: list[str]  # every configured ice server's Link
    extensions: list[str]  # the extension Links sent at `place`

    def all(self) -> list[str]:
        return self.ice + self.extensions


@dataclass
class _Marks:
    kinds: list[tuple[Route, Exchange]] = field(default_factory=list)
    error: tuple[int, str, dict[str, str]] | None = None
    links: Links | None = None


_MARKS = web.ResponseKey("fault_marks", _Marks)  # a response's marks (web.StreamResponse is a mapping)


def _marks(response: web.StreamResponse) -> _Marks:
    marks = response.get(_MARKS)
    if marks is None:
        marks = response[_MARKS] = _Marks()
    return marks


def sited(site: Site, handler):
    """The route table's mark: `handler` serves `site`."""
    setattr(handler, SITE, site)
    return handler


def routed(response: web.StreamResponse, route: Route, exchange: Exchange) -> web.StreamResponse:
    """`response` is the correct answer of kind `route` (a response can be of several, shaped in order)."""
    _marks(response).kinds.append((route, exchange))
    return response


def rendered(response: web.StreamResponse, status: int, reason: str, extra: dict[str, str]) -> web.StreamResponse:
    """`response` is the correct rendering (problem details) of the error `status`/`reason` with `extra` headers."""
    _marks(response).error = (status, reason, extra)
    return response


def linked(response: web.StreamResponse, links: Links) -> web.StreamResponse:
    """`response` carries `links.all()` as its last headers."""
    for link in links.all():
        response.headers.add("Link", link)
    _marks(response).links = links
    return response


def _site(request: web.Request) -> Site | None:
    return getattr(request.match_info.handler, SITE, None)


def _layer(request: web.Request) -> "FaultLayer":
    return request.app[SERVER_KEY].layer


@web.middleware
async def shaping(request: web.Request, handler) -> web.StreamResponse:
    """The response-shaping step of every signalling route (module docstring)."""
    site = _site(request)
    if site is None:
        return await handler(request)
    layer = _layer(request)
    if site is Site.ENDPOINT and request.method == "POST":
        layer.endpoint_post()
    response = await handler(request)
    marks = response.get(_MARKS)
    if marks is None or not layer.active:
        return response
    if marks.error is not None:
        response = layer.error(*marks.error)
    if marks.links is not None:
        response.headers.popall("Link", None)
        for link in _distorted_links(layer, marks.links):
            response.headers.add("Link", link)
    for route, exchange in marks.kinds:
        response = await layer.shape(route, response, exchange)
    return response


def _distorted_links(layer: "FaultLayer", links: Links) -> list[str]:
    if links.place is Place.SESSION_OPTIONS:  # no ice-servers; WHIP: the extensions its session URL has
        return layer.extension_links(links.protocol, links.path, [], on_201=False) if links.protocol == "whip" else []
    result = layer.ice_server_links(links.place, links.ice, links.every_ice)
    if links.place in (Place.CREATED, Place.SERVER_OFFER):
        result = result + layer.extension_links(links.protocol, links.path, links.extensions)
    return result


async def _prepare(request: web.Request, response: web.StreamResponse) -> None:
    """The HEADERS step, on every signalling response as it is sent."""
    if _site(request) is not None:
        layer = _layer(request)
        if layer.active:
            layer.base_headers(response.headers)


def install(app: web.Application) -> None:
    """Put the fault layer's HTTP step on `app` (before it starts)."""
    app.middlewares.append(shaping)
    app.on_response_prepare.append(_prepare)
