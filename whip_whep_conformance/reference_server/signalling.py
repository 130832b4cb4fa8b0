"""The HTTP side WHIP and WHEP share: auth, offers in, answers out, sessions, CORS, methods.

The two protocols differ only in the direction of media and the spec revision in force, so the
HTTP shape lives here once and `whip.py` / `whep.py` supply the peer connection.

The handlers return the correct response and name its kind (`fault_http.routed`); the fault layer's
middleware shapes it. What stays here are the hook points whose outcome decides what the handler does,
not what a response looks like: the checks in force (`_waived`), the token verdict (`auth`: a fault lets
a request through), whether GET/HEAD are 405 and the methods listed (`get_is_405`, `allowed`), an offer
refused or read unparsed (`offer_refusal`, `counter_offers_unread`), the answers given instead of
acting (`instead`: DELETE, restart, trickle) and what follows a restart (`restarted`).
"""

from __future__ import annotations

import logging
import time
from email.utils import formatdate
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from aiohttp import web
from yarl import URL
from aiortc.rtcicetransport import candidate_to_aioice

from whip_whep_conformance.protocol import headers, profiles, sdp, sdpfrag
from whip_whep_conformance.webrtc.ice_restart import IceRestart, IceRestartError
from whip_whep_conformance.protocol.link import Link, format_link

from . import events
from .config import SERVER_KEY
from . import consent, etag, ice_lite, fragments, observations, offers, responses
from .refusal import Refusal
from .candidates import usable_candidate
from .fault_http import Links, Site, linked, rendered, routed, sited
from .fault_layer import Check, Exchange, Place, Route
from .sessions import Session, new_etag

if TYPE_CHECKING:
    from .ports import SignallingServer
    from .live_inputs import LiveInput

log = logging.getLogger("reference_server.signalling")

ENDPOINT_METHODS = ("POST", "OPTIONS", "GET", "HEAD")
SESSION_METHODS = ("PATCH", "DELETE", "OPTIONS", "GET", "HEAD")
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
# Revisions in which GET/HEAD on an endpoint or session must be 405 rather than 2xx.
GET_IS_405 = {profiles.WHIP_06, profiles.MURILLO_01}
# The revisions with the 406 counter-offer (draft-ietf-wish-whep-03 §4.2.2; -04 §4.3.2 words it the same).
COUNTER_OFFERS = frozenset({profiles.WHEP_03, profiles.WHEP_04})
# Revisions in which DELETE on the WHIP endpoint (the publish URL) ends its live publisher. No WHIP text
# defines it: a client ends a session by DELETE on its resource URL (RFC 9725 §4.2, draft-06 §4.2), and
# under RFC 9725 the endpoint answers DELETE 405, as any method it does not support (RFC 9110 §15.5.6).
# draft-06 §4 reserves only GET, HEAD and PUT on the endpoint. Cloudflare's own example client
# (WHIPClient.disconnectStream in its Stream WebRTC template) ends a broadcast by DELETE on the publish
# URL, so a Cloudflare-compatible endpoint, the profile pair Cloudflare serves (whip-06 + murillo-01),
# takes it: one publisher per live input means the publish URL names exactly one session to end.
PUBLISH_URL_DELETE = {profiles.WHIP_06}


class CounterOffer(Exception):
    """The endpoint refuses the player's offer and offers instead (draft-ietf-wish-whep-03 §4.2.2: 406)."""

    def __init__(self, session: Session, offer: str, reason: str) -> None:
        super().__init__(reason)
        self.session, self.offer, self.reason = session, offer, reason


@dataclass
class Protocol:
    """What distinguishes WHIP from WHEP for the shared handlers."""

    name: str  # "whip" | "whep"
    path: str  # "publish" | "play"
    find_input: Callable[["SignallingServer", str], "LiveInput | None"]
    negotiate: Callable[["SignallingServer", "LiveInput", str, sdp.SessionDescription, str], Awaitable[tuple[Session, str]]]
    # WHEP only: the server offers (empty POST, draft-murillo-whep-01 §4.2) and takes the answer by PATCH.
    server_offer: Callable[["SignallingServer", "LiveInput"], Awaitable[tuple[Session, str]]] | None = None
    answered: Callable[["SignallingServer", "LiveInput", Session, str], Awaitable[None]] | None = None

    def profile(self, server: "SignallingServer") -> str:
        return server.config.whip_profile if self.name == "whip" else server.config.whep_profile


def _server(request: web.Request) -> "SignallingServer":
    return request.app[SERVER_KEY]


def _base_headers(server: "SignallingServer", protocol: Protocol) -> dict[str, str]:
    result = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Post, protocol-version",
        "protocol-version": protocol.profile(server),
    }
    return result


def _error(server: "SignallingServer", status: int, reason: str, extra: dict[str, str]) -> web.Response:
    """A 4xx/5xx that explains itself: RFC 9457 problem details (RFC 9725 §4.1, WHEP §4.1)."""
    return rendered(responses.problem_details(status, reason, extra), status, reason, extra)


def _waived(server: "SignallingServer") -> frozenset[Check]:
    """Hook: the server's own checks a fault switches off (none: every check is made)."""
    return server.layer.waived()


def _check_token(server: "SignallingServer", request: web.Request) -> None:
    token = server.config.token
    if not token:
        return
    presented = headers.bearer_token(request.headers.get("Authorization"))
    wrong = Refusal(401, "a valid Bearer token is required", {"WWW-Authenticate": _challenge(presented)})
    refusal = server.layer.auth(None if presented == token else wrong, wrong, presented)
    if refusal is not None:
        raise refusal


def _challenge(presented: str | None) -> str:
    """RFC 6750 §3: a request without credentials gets the bare challenge; a bad token gets error="invalid_token"."""
    if presented is None:
        return 'Bearer realm="whip-whep"'
    return 'Bearer realm="whip-whep", error="invalid_token"'


def _ice_server_links(server: "SignallingServer") -> list[str]:
    links = []
    for url in server.config.ice_servers + server.config.link_ice_servers:
        scheme, _, rest = url.partition(":")
        params = {"rel": "ice-server"}
        if "@" in rest:
            userinfo, _, host = rest.rpartition("@")
            username, _, credential = userinfo.partition(":")
            url = f"{scheme}:{host}"
            params.update(username=username, credential=credential)
        # in RFC 9725 Figure 5's form, every value quoted (rel="ice-server"): clients that match that
        # text literally (simple-whip-client, Eyevinn's whip-web-client) then read what a TURN case grades
        links.append(format_link(Link(url, params), quoted=True))
    return links


def _links(server: "SignallingServer", protocol: Protocol, place: Place, path: str) -> Links:
    """The Links a response at `place` carries: the ice-servers (none on a preflight, which is not
    the request the client means, nor on a session's OPTIONS) and, on a 201, the extensions: WHEP's
    events and layer selection (WHEP §4.9); WHIP offers none (RFC 9725 §4.9)."""
    every = _ice_server_links(server)
    ice = [] if place in (Place.PREFLIGHT, Place.SESSION_OPTIONS) else every
    extensions = events.links(path) if protocol.name == "whep" and place in (Place.CREATED, Place.SERVER_OFFER) else []
    if place in (Place.CREATED, Place.SERVER_OFFER):
        extensions = extensions + server.config.extra_links  # --extra-link: Links the client must pass over
    return Links(place, protocol.name, path, ice, every, extensions)


def _get_is_405(server: "SignallingServer", protocol: Protocol) -> bool:
    """Whether GET/HEAD are refused here (405): by the revision in force."""
    return server.layer.get_is_405(protocol.profile(server) in GET_IS_405)


def _supported(server: "SignallingServer", protocol: Protocol, methods: tuple[str, ...]) -> tuple[str, ...]:
    """The methods a resource supports, for Allow and Access-Control-Allow-Methods: where GET and HEAD
    get 405 they are not among them (RFC 9110 §15.5.6: a 405's Allow lists the supported methods)."""
    if not _get_is_405(server, protocol):
        return methods
    return server.layer.allowed(tuple(m for m in methods if m not in ("GET", "HEAD")), methods)


async def _not_allowed(server: "SignallingServer", request: web.Request, allowed: tuple[str, ...], base: dict[str, str],
                       method: str, why: str = "") -> web.Response:
    if method not in KNOWN_METHODS:
        response = _error(server, 501, f"method {method} is not implemented", base)
    else:
        response = _error(server, 405, why or f"method {method} is not allowed here", {**base, "Allow": ", ".join(allowed)})
    return routed(response, Route.NOT_ALLOWED, Exchange(request, base))


async def _get(server: "SignallingServer", request: web.Request, protocol: Protocol, allowed: tuple[str, ...],
               base: dict[str, str], method: str, session: Session | None = None) -> web.StreamResponse:
    """GET/HEAD: 2xx without content since RFC 9725 / whep-02; 405 in the older drafts.

    A WHEP endpoint (`session` None) answers both 200 typed application/sdp with no content, the same
    header fields on each (Content-Length: 0 among them): the
    editor's copy after draft-ietf-wish-whep-03 (§4.2 "WHEP Endpoint URL Discoverability", standing in
    for -04) says HEAD on it SHOULD get "200 OK" with `Content-Type: application/sdp` and MUST carry
    "the same headers that would be returned in response to a GET request", with no body. So GET is
    answered the same way (200, Content-Length: 0, that Content-Type): RFC 9110 §9.3.2 makes HEAD
    "identical to GET except that the server MUST NOT send content", so one answer for both is what
    HTTP asks under any revision, and under -03 (§4.1: GET gets "a 2xx successful response with no
    content") a 200 without content is no violation; the Content-Type names what a POST here takes,
    not a representation. Access-Control-* stay those of every response (`_base_headers`): HEAD,
    like GET, is a CORS-safelisted method (Fetch §2.2.1), sent without a preflight, so a browser
    reads the answer only if it carries Access-Control-Allow-Origin (and Content-Type is always
    exposed, a CORS-safelisted response header). draft-murillo-whep-01 §4.3 still answers both 405
    ("MUST return an 405 Method Not Allowed response for any HTTP GET, HEAD or PUT requests on the
    endpoint URL"), whatever the later texts say: GET_IS_405 decides before this."""
    if _get_is_405(server, protocol):
        response = await _not_allowed(server, request, allowed, base, method, f"{method} is not allowed by {protocol.profile(server)}")
    elif protocol.name == "whep" and session is None:
        # Content-Length: 0 given, as the text's example has it: aiohttp leaves a HEAD answer's out otherwise
        response = web.Response(status=200, headers={**base, "Content-Type": headers.SDP, "Content-Length": "0"})
    else:
        response = web.Response(status=204, headers=base)
    return routed(response, Route.GET, Exchange(request, base, session, protocol.name))


async def _options(server: "SignallingServer", request: web.Request, protocol: Protocol, allowed: tuple[str, ...], base: dict[str, str],
                   endpoint: bool) -> web.StreamResponse:
    result = {
        **base,
        "Allow": ", ".join(allowed),
        "Access-Control-Allow-Methods": ", ".join(allowed),
        "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, Link",
        "Access-Control-Max-Age": "600",
    }
    if endpoint:
        result["Accept-Post"] = headers.SDP
    response = web.Response(status=200, headers=result)
    preflight = "Access-Control-Request-Method" in request.headers
    place = (Place.PREFLIGHT if preflight else Place.OPTIONS) if endpoint else Place.SESSION_OPTIONS
    linked(response, _links(server, protocol, place, request.path))
    return routed(response, Route.OPTIONS, Exchange(request, base))


async def endpoint(request: web.Request, protocol: Protocol) -> web.Response:
    """Requests to a WHIP endpoint (publish URL) or WHEP endpoint (play URL)."""
    server = _server(request)
    base = _base_headers(server, protocol)
    method = request.method
    allowed = _supported(server, protocol, _endpoint_methods(server, protocol))
    try:
        if method == "OPTIONS":
            if Check.TOKEN_ON_OPTIONS in _waived(server):
                _check_token(server, request)
            return await _options(server, request, protocol, allowed, base, endpoint=True)
        if method == "POST" and server.config.redirect and not request.path.startswith(REDIRECTED_PREFIX):
            return await _redirect(server, request, base)
        _check_token(server, request)
        live = protocol.find_input(server, request.match_info["key"])
        if live is None:
            raise Refusal(404, "no live input at this URL")
        if method == "POST":
            _unavailable_at_first(server, protocol, live)
        if method in ("GET", "HEAD"):
            return await _get(server, request, protocol, allowed, base, method)
        if method == "DELETE" and "DELETE" in allowed:
            return await _end_publisher(server, live, base)
        if method != "POST":
            return await _not_allowed(server, request, allowed, base, method)
        if _asks_for_server_offer(server, request, protocol):
            assert protocol.server_offer is not None
            session, offer = await protocol.server_offer(server, live)
            return await _server_offered(server, request, protocol, session, offer, base, status=201)
        if protocol.server_offer is not None and await server.layer.counter_offers_unread(
                request, protocol.profile(server) in COUNTER_OFFERS and server.config.patch):
            session, offer = await protocol.server_offer(server, live)
            return await _server_offered(server, request, protocol, session, offer, base, status=406)
        offer, desc = await _read_offer(server, request, base)
        session, answer = await protocol.negotiate(server, live, offer, desc, protocol.profile(server))
    except Refusal as refusal:
        return await _refusal(server, request, refusal, base)
    except CounterOffer as counter:
        return await _server_offered(server, request, protocol, counter.session, counter.offer, base, status=406)
    return await _created(server, request, protocol, session, answer, base)


def _unavailable_at_first(server: "SignallingServer", protocol: Protocol, live: "LiveInput") -> None:
    """--unavailable-first=N: the first N POSTs (per input and protocol) are turned away, as a server
    briefly overloaded or still starting its media path is, with Retry-After (RFC 9110 §10.2.3)."""
    config = server.config
    refused = live.refused_posts.get(protocol.name, 0)
    if protocol.name not in config.unavailable_on or refused >= config.unavailable_first:
        return
    live.refused_posts[protocol.name] = refused + 1
    raise Refusal(config.unavailable_status, f"the server is not ready to take this session yet (refusal {refused + 1} "
                  f"of {config.unavailable_first}); try again", {"Retry-After": str(config.unavailable_retry_after_s)})


def _endpoint_methods(server: "SignallingServer", protocol: Protocol) -> tuple[str, ...]:
    """The methods an endpoint supports: DELETE too on a publish URL where the profile takes it."""
    if protocol.name == "whip" and protocol.profile(server) in PUBLISH_URL_DELETE:
        return (*ENDPOINT_METHODS, "DELETE")
    return ENDPOINT_METHODS


async def _end_publisher(server: "SignallingServer", live: "LiveInput", base: dict[str, str]) -> web.Response:
    """DELETE on the publish URL (PUBLISH_URL_DELETE): end the input's live publisher, as a DELETE of its
    session URL would; 404 when nobody publishes (there is no session to end)."""
    session = live.publisher
    if session is None:
        raise Refusal(404, "nobody is publishing to this live input")
    if Check.DELETE_ENDS_PUBLISHER not in _waived(server):
        await server.end_session(session, observations.DELETE)
    return web.Response(status=200, headers=base)


# Where --redirect sends endpoint POSTs: the same endpoint behind a second front door.
REDIRECTED_PREFIX = "/via"


async def _redirect(server: "SignallingServer", request: web.Request, base: dict[str, str]) -> web.StreamResponse:
    """307 keeps the method and body (RFC 9725 §4.5; 301/302 may turn the POST into a GET)."""
    response = web.Response(status=307, headers={**base, "Location": REDIRECTED_PREFIX + request.path_qs})
    return routed(response, Route.REDIRECT, Exchange(request, base))


def _asks_for_server_offer(server: "SignallingServer", request: web.Request, protocol: Protocol) -> bool:
    """draft-murillo-whep-01 §4.2: a POST with no body (and no Content-Type) asks the server to offer."""
    return (protocol.server_offer is not None and protocol.profile(server) == profiles.MURILLO_01
            and not request.can_read_body and "Content-Type" not in request.headers
            and server.config.patch and Check.SERVER_OFFER not in _waived(server))


def _session_path(request: web.Request, protocol: Protocol, session: Session) -> str:
    """The session URL's absolute path."""
    return f"/{request.match_info['key']}/webRTC/{protocol.path}/{session.id}"


def _observed_url(request: web.Request, location: str) -> str:
    """The path a client following `location` requests (RFC 3986 §5.2 against the POST's URI): what
    GET /client/v4/sessions lists as the session's url (under /via/ after a --redirect)."""
    return request.url.join(URL(location)).path


def _location(server: "SignallingServer", request: web.Request, protocol: Protocol, session: Session) -> str:
    """The session URL as a Location names it (--location): an absolute path (default), a path-relative
    reference resolving against the request URI (RFC 3986 §5.2: `publish/<id>` from `.../webRTC/publish`,
    which against the host root would be `/publish/<id>`, no session), or an absolute URI (--location-base's
    scheme://host:port, else the request's own)."""
    path = _session_path(request, protocol, session)
    if server.config.location_base is not None:
        return server.config.location_base.rstrip("/") + path
    if server.config.location == "relative":
        return f"{request.path.rstrip('/').rsplit('/', 1)[-1]}/{session.id}"
    if server.config.location == "absolute":
        return f"{request.url.origin()}{path}"
    return path


async def _server_offered(server: "SignallingServer", request: web.Request, protocol: Protocol, session: Session,
                         offer: str, base: dict[str, str], status: int) -> web.StreamResponse:
    """201 (server offer, with Expires) or 406 (counter-offer, valid-until) carrying the server's SDP offer."""
    deadline = formatdate(session.offer_expires or time.time() + server.config.offer_timeout_s, usegmt=True)
    result = {**base, "Location": _location(server, request, protocol, session)}
    session.observed.url = _observed_url(request, result["Location"])
    if status == 406:
        result["Content-Type"] = f'{headers.SDP}; valid-until="{deadline}"'
    else:
        result["Content-Type"] = headers.SDP
        result["Expires"] = deadline
    # draft-murillo-whep-01 §4.5: an offering endpoint marks bundled sections bundle-only (all but the
    # first, which carries the transport, as JSEP's max-bundle does) and rtcp-mux-only (RFC 8858).
    marked = sdp.with_media_attribute(sdp.as_bundle_only(offer), "rtcp-mux-only")
    response = web.Response(status=status, body=marked.encode(), headers=result)
    linked(response, _links(server, protocol, Place.SERVER_OFFER if status == 201 else Place.COUNTER_OFFER,
                                   _session_path(request, protocol, session)))
    route = Route.COUNTER_OFFER if status == 406 else Route.SERVER_OFFER
    return routed(response, route, Exchange(request, base, session, protocol.name, answer=offer))


async def _read_offer(server: "SignallingServer", request: web.Request, base: dict[str, str]) -> tuple[str, sdp.SessionDescription]:
    content_type = headers.media_type(request.headers.get("Content-Type"))
    if content_type != headers.SDP and Check.OFFER_TYPE not in _waived(server):
        raise Refusal(415, f"the offer must be typed {headers.SDP}, not {content_type or 'untyped'}")
    body = await request.read()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the offer is not UTF-8 text") from None
    try:
        desc = offers.read_offer(text)
    except offers.Unusable as exc:
        raise Refusal(400, f"the offer cannot be used: {exc}", route=Route.OFFER_MALFORMED) from None
    refusal = server.layer.offer_refusal(desc)
    if refusal is not None:
        raise refusal
    return text, desc


async def _refusal(server: "SignallingServer", request: web.Request, refusal: Refusal, base: dict[str, str]) -> web.StreamResponse:
    response = _error(server, refusal.status, refusal.reason, {**base, **refusal.headers})
    if refusal.route is None:
        return response
    return routed(response, refusal.route, Exchange(request, base))


async def _created(server: "SignallingServer", request: web.Request, protocol: Protocol, session: Session, answer: str,
                   base: dict[str, str]) -> web.StreamResponse:
    result = {
        **base,
        "Content-Type": headers.SDP,
        "ETag": session.etag,
        "Location": _location(server, request, protocol, session),
    }
    if server.config.patch:
        result["Accept-Patch"] = headers.SDPFRAG  # trickle ICE and ICE restart by PATCH (RFC 5789 §3.1)
    session.observed.url = _observed_url(request, result["Location"])
    response = web.Response(status=201, body=answer.encode(), headers=result)
    linked(response, _links(server, protocol, Place.CREATED, _session_path(request, protocol, session)))
    return routed(response, Route.CREATED, Exchange(request, base, session, protocol.name, answer=answer))


async def whip_extension_resource(request: web.Request, protocol: Protocol) -> web.Response:
    """`<WHIP session>/ext`: the resource of the extension that the whip-ext-* faults announce. A request
    to it counts as using the extension; a clean server has no such resource (404)."""
    server = _server(request)
    base = _base_headers(server, protocol)
    session = await server.find_session(request.match_info["sid"])
    if session is None or session.kind != "whip" or Check.NO_EXTENSION_RESOURCE not in _waived(server):
        return _error(server, 404, "no such resource", base)
    session.extension_used = True
    return web.Response(status=204, headers=base)


async def extension_resource(request: web.Request, protocol: Protocol, what: str) -> web.StreamResponse:
    """A WHEP session's extension URLs: `sse` (POST opens a stream), `stream` (GET long-polls it,
    DELETE ends it) and `layer` (POST selects a layer). A stream's URL is its own credential: a
    browser's EventSource cannot send an Authorization header."""
    server = _server(request)
    base = _base_headers(server, protocol)
    method = request.method
    allowed = {"sse": ("POST", "OPTIONS"), "stream": ("GET", "DELETE", "OPTIONS"), "layer": ("POST", "OPTIONS")}[what]
    try:
        if method == "OPTIONS":
            return await _options(server, request, protocol, allowed, base, endpoint=False)
        if what != "stream":
            _check_token(server, request)
        session = await server.find_session(request.match_info["sid"])
        live = protocol.find_input(server, request.match_info["key"])
        if session is None or live is None or session.events is None or session.input_uid != live.uid:
            raise Refusal(404, "no such session (never created, or already ended)")
        if method not in allowed:
            return await _not_allowed(server, request, allowed, base, method)
        if what == "sse":
            return await events.open_stream(request, live, session, base)
        if what == "layer":
            return await events.select_layer(request, live, session, base)
        if method == "GET":
            return await events.serve_stream(request, session, request.match_info["stream"], base)
        return await events.delete_stream(session, request.match_info["stream"], base)
    except Refusal as refusal:
        return await _refusal(server, request, refusal, base)


async def session_resource(request: web.Request, protocol: Protocol) -> web.Response:
    """Requests to a session URL (the 201's Location)."""
    server = _server(request)
    base = _base_headers(server, protocol)
    method = request.method
    try:
        methods = SESSION_METHODS if server.config.patch else tuple(m for m in SESSION_METHODS if m != "PATCH")
        allowed = _supported(server, protocol, methods)
        if method == "OPTIONS":
            return await _options(server, request, protocol, allowed, base, endpoint=False)
        _check_token(server, request)
        session = await server.find_session(request.match_info["sid"])
        live = protocol.find_input(server, request.match_info["key"])
        if session is None or live is None or session.kind != protocol.name or session.input_uid != live.uid:
            raise Refusal(404, "no such session (never created, or already ended)", route=Route.NO_SUCH_SESSION)
        if method == "DELETE":
            ex = Exchange(request, base, session, protocol.name, end_session=server.end_session,
                          viewers=lambda: list(live.viewers))
            refused = await server.layer.instead(Route.DELETE, ex)
            if refused is not None:
                return refused
            await server.end_session(session, observations.DELETE)
            return web.Response(status=200, headers=base)
        if method in ("GET", "HEAD"):
            return await _get(server, request, protocol, allowed, base, method, session)
        if method == "PATCH" and not server.config.patch:
            return await _no_patch(server, request, protocol, allowed, base)
        if method == "PATCH":
            return await _patch(server, request, protocol, session, base)
        return await _not_allowed(server, request, allowed, base, method)
    except Refusal as refusal:
        return await _refusal(server, request, refusal, base)


NO_PATCH_501 = (profiles.WHIP_06, profiles.MURILLO_01)  # "does not support the PATCH method for any purpose": 501


async def _no_patch(server: "SignallingServer", request: web.Request, protocol: Protocol, allowed: tuple[str, ...],
                    base: dict[str, str]) -> web.StreamResponse:
    """A server with PATCH switched off: 501 where the revision names it, else 405 (RFC 9110: not allowed here)."""
    if protocol.profile(server) in NO_PATCH_501:
        response = _error(server, 501, f"this server supports PATCH for no purpose ({protocol.profile(server)})", base)
    else:
        response = await _not_allowed(server, request, allowed, base, "PATCH", "this server supports neither trickle ICE nor ICE restart")
    return routed(response, Route.NO_PATCH, Exchange(request, base))


UNSUPPORTED_PATCH_KIND = {profiles.WHIP_06: 405, profiles.MURILLO_01: 405}  # "405 Not Implemented" (sic)


async def _patch(server: "SignallingServer", request: web.Request, protocol: Protocol, session: Session,
                 base: dict[str, str]) -> web.StreamResponse:
    """Trickle ICE (RFC 8840 fragments, WHIP §4.3.2 / WHEP §4.4.2) and ICE restart (RFC 9725 §4.3.3)."""
    ex = Exchange(request, base, session, protocol.name, end_session=server.end_session)
    content_type = headers.media_type(request.headers.get("Content-Type"))
    if session.awaiting_answer:
        return await _patch_answer(server, request, protocol, session, base, content_type)
    waived = _waived(server)
    if content_type != headers.SDPFRAG and Check.PATCH_TYPE not in waived:
        response = _error(server, 415, f"a PATCH must be typed {headers.SDPFRAG}", {**base, "Accept-Patch": headers.SDPFRAG})
        return routed(response, Route.PATCH_WRONG_TYPE, ex)
    if_match = request.headers.get("If-Match")
    if if_match is None and Check.IF_MATCH_PRESENT not in waived:
        return _error(server, 428, "a PATCH must carry If-Match with the session's entity-tag", base)
    try:
        frag = fragments.read((await request.read()).decode("utf-8"))
    except (UnicodeDecodeError, sdpfrag.SdpFragError) as exc:
        ex.reason = f"not a trickle-ice-sdpfrag: {exc}"
        return routed(_error(server, 400, ex.reason, base), Route.PATCH_MALFORMED, ex)
    ex.frag, ex.if_match = frag, if_match
    ufrag, pwd = frag.credentials()
    if ufrag is not None and (ufrag, pwd) != (session.remote_ufrag, session.remote_pwd) and Check.RESTART not in waived:
        refused = await server.layer.instead(Route.RESTART, ex)
        if refused is not None:
            return refused
        if not server.config.ice_restart or Check.ICE_RESTART in waived:
            status = UNSUPPORTED_PATCH_KIND.get(protocol.profile(server), 422)
            response = _error(server, status, "ICE restart is not supported by this session; trickle ICE is", base)
            return routed(response, Route.RESTART_REFUSED, ex)
        return await _restart(server, request, session, frag, if_match, base)
    if if_match is not None and Check.IF_MATCH not in waived:
        try:
            matches = etag.if_match_holds(if_match, session.etag)
        except ValueError:
            matches = False
        if not matches:
            return _error(server, 412, "If-Match does not name the session's current entity-tag", base)
    refused = await server.layer.instead(Route.TRICKLE, ex)
    if refused is not None:
        return refused
    await _add_trickled(session, frag)
    session.observed.trickle_patches += 1
    return routed(web.Response(status=204, headers=base), Route.TRICKLE, ex)


async def _add_trickled(session: Session, frag: sdpfrag.SdpFrag) -> None:
    """A trickle PATCH's candidates go to the session's ICE agent (the restarted one, if any)."""
    session.observed.add_candidates(line for media in frag.media for line in media.candidates)
    for media in frag.media:
        for line in media.candidates:
            candidate = usable_candidate(line, media.mid or session.first_mid)
            if candidate is None:
                continue  # unsupported transport or unresolvable address: dropped silently (§4.3.2)
            try:
                if session.ice_restart is not None:  # the restarted ICE session takes it, not aiortc's first one
                    await session.ice_restart.add_remote_candidate(candidate_to_aioice(candidate))
                else:
                    await session.pc.addIceCandidate(candidate)
            except Exception as exc:  # aiortc refuses some odd but well-formed candidates
                log.info("session %s: candidate %r dropped: %s", session.id, line, exc)
    if frag.end_of_candidates or any(m.end_of_candidates for m in frag.media):
        if session.ice_restart is not None:
            await session.ice_restart.add_remote_candidate(None)
        else:
            await session.pc.addIceCandidate(None)


async def _restart(server: "SignallingServer", request: web.Request, session: Session, frag: sdpfrag.SdpFrag,
                   if_match: str | None, base: dict[str, str]) -> web.StreamResponse:
    """An ICE restart (RFC 9725 §4.3.3): a new ICE agent with new credentials and candidates, answered
    200 with them and a new ETag; the current ICE session carries media until the new one is nominated."""
    if if_match is not None and Check.IF_MATCH not in _waived(server):
        try:
            matches = if_match.strip() in ("*", '"*"') or etag.if_match_holds(if_match, session.etag)
        except ValueError:
            matches = False
        if not matches:
            return _error(server, 412, 'a restart PATCH carries If-Match: "*" (or the current entity-tag)', base)
    ufrag, pwd = frag.credentials()
    try:
        # also before the first ICE session has connected: a client applying the 201's STUN/TURN
        # servers restarts at once (RFC 9725 §4.6 NOTE), and over a TURN-only path only that connects
        restart = await IceRestart.begin(session.pc, before_connected=True)
    except IceRestartError as exc:
        return _error(server, 503, f"ICE restart cannot start now: {exc}", base)  # the current ICE session stays
    restart.set_remote(ufrag, pwd, ice_lite=frag.ice_lite)  # type: ignore[arg-type]
    consent.count_checks(restart.agent, session.observed)
    if server.config.ice_lite:
        ice_lite.make_lite(restart.agent)
    session.observed.add_candidates(line for media in frag.media for line in media.candidates)
    for media in frag.media:
        for line in media.candidates:
            candidate = usable_candidate(line, media.mid or session.first_mid)
            if candidate is not None:
                await restart.add_remote_candidate(candidate_to_aioice(candidate))
    if frag.end_of_candidates or any(m.end_of_candidates for m in frag.media):
        await restart.add_remote_candidate(None)
    previous = session.ice_restart
    if previous is not None and not previous.done:
        session.spawn(previous.abandon())
    old_etag = session.etag
    session.ice_restart, session.remote_ufrag, session.remote_pwd = restart, ufrag, pwd
    session.etag = new_etag()
    plan = server.layer.restarted(session, restart, old_etag)
    if plan.completes:
        session.spawn(_finish_restart(session, restart, server.config.session_timeout_s, retire_old=plan.retire_old))
    answer = sdpfrag.for_description(session.pc.localDescription.sdp, restart.local_username, restart.local_password,
                                     [c.to_sdp() for c in restart.local_candidates], end_of_candidates=True)
    answer.ice_lite = answer.ice_lite or server.config.ice_lite
    response = web.Response(status=200, text=str(answer),
                            headers={**base, "Content-Type": headers.SDPFRAG, "ETag": session.etag})
    ex = Exchange(request, base, session, answer=str(answer))
    ex.frag = answer
    session.observed.ice_restarts += 1
    return routed(response, Route.RESTART, ex)


async def _finish_restart(session: Session, restart: IceRestart, timeout_s: float, retire_old: bool) -> None:
    if await restart.complete(timeout_s, retire_old=retire_old):
        log.info("session %s: ICE restarted", session.id)
    else:
        log.info("session %s: ICE restart did not connect; the previous ICE session carries on", session.id)


async def _patch_answer(server: "SignallingServer", request: web.Request, protocol: Protocol, session: Session,
                        base: dict[str, str], content_type: str | None) -> web.StreamResponse:
    """The player's SDP answer to a server offer: 204 with the session's first ETag, 4xx if unusable."""
    if content_type != headers.SDP:
        return _error(server, 409 if content_type == headers.SDPFRAG else 415,
                      f"this session waits for an SDP answer ({headers.SDP}) to the server's offer", base)
    assert protocol.answered is not None
    live = protocol.find_input(server, request.match_info["key"])
    ex = Exchange(request, base, session, protocol.name)
    try:
        body = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        return _error(server, 400, "the answer is not UTF-8 text", base)
    try:
        await protocol.answered(server, live, session, body)  # type: ignore[arg-type]
    except Refusal as refusal:
        if refusal.status == 400:  # a malformed answer leaves the offer waiting
            return routed(_error(server, 400, refusal.reason, base), Route.ANSWER_REFUSED, ex)
        return await _refusal(server, request, refusal, base)
    response = web.Response(status=204, headers={**base, "ETag": session.etag})
    return routed(response, Route.ANSWER_PATCH, ex)


def count_kinds(desc: sdp.SessionDescription) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in desc.media:
        counts[m.kind] = counts.get(m.kind, 0) + 1
    return counts


def add_routes(app: web.Application, protocol: Protocol) -> None:
    """`/{key}/webRTC/<path>` is the endpoint, `/{key}/webRTC/<path>/{sid}` a session (any method)."""

    async def handle_endpoint(request: web.Request) -> web.Response:
        return await endpoint(request, protocol)

    async def handle_session(request: web.Request) -> web.Response:
        return await session_resource(request, protocol)

    sited(Site.ENDPOINT, handle_endpoint)
    sited(Site.SESSION, handle_session)
    app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}", handle_endpoint)
    app.router.add_route("*", f"{REDIRECTED_PREFIX}/{{key}}/webRTC/{protocol.path}", handle_endpoint)
    app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}/{{sid}}", handle_session)
    # where a relative Location (--location=relative) from a redirected POST resolves
    app.router.add_route("*", f"{REDIRECTED_PREFIX}/{{key}}/webRTC/{protocol.path}/{{sid}}", handle_session)
    if protocol.name == "whip":
        async def handle_whip_extension(request: web.Request) -> web.Response:
            return await whip_extension_resource(request, protocol)

        app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}/{{sid}}/ext", sited(Site.EXTENSION, handle_whip_extension))
    if protocol.name == "whep":
        for what, suffix in (("sse", "/sse"), ("stream", "/sse/{stream}"), ("layer", "/layer")):
            async def handle_extension(request: web.Request, what: str = what) -> web.StreamResponse:
                return await extension_resource(request, protocol, what)

            app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}/{{sid}}{suffix}", sited(Site.EXTENSION, handle_extension))
