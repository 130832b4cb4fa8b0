"""The HTTP side WHIP and WHEP share: auth, offers in, answers out, sessions, CORS, methods.

The two protocols differ only in the direction of media and the spec revision in force, so the
HTTP shape lives here once and `whip.py` / `whep.py` supply the peer connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from email.utils import formatdate
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

from aiohttp import web
from aiortc import RTCIceCandidate
from aiortc.rtcicetransport import candidate_to_aioice
from aiortc.sdp import candidate_from_sdp

from whip_whep_conformance.protocol import headers, problem, profiles, sdp, sdpfrag
from whip_whep_conformance.webrtc.ice_restart import IceRestart, IceRestartError
from whip_whep_conformance.protocol.link import Link, format_link

from . import events
from .config import SERVER_KEY
from . import etag, fragments, offers
from .refusal import Refusal
from .faults import PROBE_RESOURCE_FAULTS, rewrite_answer, whip_extension_links
from .sessions import Session, new_etag

if TYPE_CHECKING:
    from .app import ReferenceServer
    from .live_inputs import LiveInput

log = logging.getLogger("reference_server.signalling")

ENDPOINT_METHODS = ("POST", "OPTIONS", "GET", "HEAD")
SESSION_METHODS = ("PATCH", "DELETE", "OPTIONS", "GET", "HEAD")
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
# Revisions in which GET/HEAD on an endpoint or session must be 405 rather than 2xx.
GET_IS_405 = {profiles.WHIP_06, profiles.MURILLO_01}
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
    find_input: Callable[["ReferenceServer", str], "LiveInput | None"]
    negotiate: Callable[["ReferenceServer", "LiveInput", str, sdp.SessionDescription, str], Awaitable[tuple[Session, str]]]
    # WHEP only: the server offers (empty POST, draft-murillo-whep-01 §4.2) and takes the answer by PATCH.
    server_offer: Callable[["ReferenceServer", "LiveInput"], Awaitable[tuple[Session, str]]] | None = None
    answered: Callable[["ReferenceServer", "LiveInput", Session, str], Awaitable[None]] | None = None

    def profile(self, server: "ReferenceServer") -> str:
        return server.config.whip_profile if self.name == "whip" else server.config.whep_profile


def _server(request: web.Request) -> "ReferenceServer":
    return request.app[SERVER_KEY]


def _base_headers(server: "ReferenceServer", protocol: Protocol) -> dict[str, str]:
    result = {"Access-Control-Allow-Origin": "*"}
    if not server.config.fault("cors-no-expose"):
        result["Access-Control-Expose-Headers"] = "Location, ETag, Link, Accept-Post, protocol-version"
    if not server.config.fault("no-protocol-version"):
        result["protocol-version"] = protocol.profile(server)
    return result


def _text(status: int, reason: str, extra: dict[str, str]) -> web.Response:
    return web.Response(status=status, text=reason + "\n", headers=extra)


def _error(server: "ReferenceServer", status: int, reason: str, extra: dict[str, str]) -> web.Response:
    """A 4xx/5xx that explains itself: RFC 9457 problem details (RFC 9725 §4.1, WHEP §4.1)."""
    if server.config.fault("errors-plain-text"):
        return _text(status, reason, extra)
    document = problem.build(status, reason)
    if server.config.fault("problem-status-mismatch"):
        document["status"] = 200 if status != 200 else 500
    return web.Response(status=status, text=json.dumps(document) + "\n", headers={**extra, "Content-Type": problem.MEDIA_TYPE})


def _check_token(server: "ReferenceServer", request: web.Request) -> None:
    token = server.config.token
    if not token or server.config.fault("auth-ignored"):
        return
    presented = headers.bearer_token(request.headers.get("Authorization"))
    if presented != token or server.config.fault("bearer-refused"):
        if server.config.fault("auth-403-no-challenge"):
            raise Refusal(403, "Unauthorized", {})  # simple-whip-server's refusal: no challenge at all
        if server.config.fault("wrong-token-403") and presented is not None:
            raise Refusal(403, "this token grants no access here",
                          {"WWW-Authenticate": 'Bearer realm="whip-whep", error="insufficient_scope"'})
        raise Refusal(401, "a valid Bearer token is required", {"WWW-Authenticate": _challenge(server, presented)})


def _challenge(server: "ReferenceServer", presented: str | None) -> str:
    """RFC 6750 §3: a request without credentials gets the bare challenge; a bad token gets error="invalid_token"."""
    if server.config.fault("basic-challenge"):
        return 'Basic realm="whip-whep"'
    if presented is None:
        return 'Bearer realm="whip-whep"'
    return 'Bearer realm="whip-whep", error="invalid_token"'


def _ice_server_links(server: "ReferenceServer") -> list[str]:
    links = []
    for url in server.config.ice_servers + server.config.link_ice_servers:
        scheme, _, rest = url.partition(":")
        params = {"rel": "ice-server"}
        if "@" in rest:
            userinfo, _, host = rest.rpartition("@")
            username, _, credential = userinfo.partition(":")
            url = f"{scheme}:{host}"
            params.update(username=username, credential=credential)
            if server.config.fault("turn-link-no-credential"):
                del params["credential"]
        if server.config.fault("broken-link-syntax"):
            links.append(f"{url}; rel: ice-server;")
        else:
            links.append(format_link(Link(url, params)))
    return links


def _get_is_405(server: "ReferenceServer", protocol: Protocol) -> bool:
    """Whether GET/HEAD are refused here (405): by the revision in force, or by a get-* fault."""
    if server.config.fault("get-405-everywhere"):
        return True
    if server.config.fault("get-2xx-everywhere"):
        return False
    return protocol.profile(server) in GET_IS_405


def _supported(server: "ReferenceServer", protocol: Protocol, methods: tuple[str, ...]) -> tuple[str, ...]:
    """The methods a resource supports, for Allow and Access-Control-Allow-Methods: where GET and HEAD
    get 405 they are not among them (RFC 9110 §15.5.6: a 405's Allow lists the supported methods)."""
    if not _get_is_405(server, protocol) or server.config.fault("allow-lists-get"):
        return methods
    return tuple(m for m in methods if m not in ("GET", "HEAD"))


def _not_allowed(server: "ReferenceServer", allowed: tuple[str, ...], base: dict[str, str], method: str, why: str = "") -> web.Response:
    if server.config.fault("unsupported-method-404") and method in ("POST", "PUT"):
        return _error(server, 404, f"no {method} route here", base)  # as a router without that route answers
    if method not in KNOWN_METHODS:
        if server.config.fault("unknown-method-400"):
            return _error(server, 400, f"bad method {method}", base)
        return _error(server, 501, f"method {method} is not implemented", base)
    extra = {} if server.config.fault("405-without-allow") else {"Allow": ", ".join(allowed)}
    return _error(server, 405, why or f"method {method} is not allowed here", {**base, **extra})


def _get(server: "ReferenceServer", protocol: Protocol, allowed: tuple[str, ...], base: dict[str, str], method: str) -> web.Response:
    """GET/HEAD: 2xx without content since RFC 9725 / whep-02; 405 in the older drafts."""
    if method == "HEAD" and server.config.fault("head-differs"):
        return web.Response(status=404, headers=base)
    if _get_is_405(server, protocol):
        return _not_allowed(server, allowed, base, method, f"{method} is not allowed by {protocol.profile(server)}")
    return web.Response(status=204, headers=base)


def _options(server: "ReferenceServer", request: web.Request, allowed: tuple[str, ...], base: dict[str, str], endpoint: bool) -> web.Response:
    result = {
        **base,
        "Allow": ", ".join(allowed),
        "Access-Control-Allow-Methods": ", ".join(allowed),
        "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, Link",
        "Access-Control-Max-Age": "600",
    }
    if endpoint and not server.config.fault("no-accept-post"):
        result["Accept-Post"] = headers.SDP
    response = web.Response(status=200, headers=result)
    preflight = "Access-Control-Request-Method" in request.headers
    if endpoint and (not preflight or server.config.fault("links-on-preflight")) and not server.config.fault("no-links-on-options"):
        for link in _ice_server_links(server):
            response.headers.add("Link", link)
    return response


async def endpoint(request: web.Request, protocol: Protocol) -> web.Response:
    """Requests to a WHIP endpoint (publish URL) or WHEP endpoint (play URL)."""
    server = _server(request)
    base = _base_headers(server, protocol)
    method = request.method
    if method == "POST" and server.config.fault("dies-after-12-posts"):
        _POSTS[0] += 1
        if _POSTS[0] > 12:
            os._exit(3)  # the fault: the process is gone, as a crashed target is
    allowed = _supported(server, protocol, _endpoint_methods(server, protocol))
    try:
        if method == "OPTIONS":
            if server.config.fault("preflight-needs-auth"):
                _check_token(server, request)
            return _options(server, request, allowed, base, endpoint=True)
        if method == "POST" and server.config.redirect and not request.path.startswith(REDIRECTED_PREFIX):
            return _redirect(server, request, base)
        _check_token(server, request)
        live = protocol.find_input(server, request.match_info["key"])
        if live is None:
            raise Refusal(404, "no live input at this URL")
        if method in ("GET", "HEAD"):
            return _get(server, protocol, allowed, base, method)
        if method == "DELETE" and "DELETE" in allowed:
            return await _end_publisher(server, live, base)
        if method != "POST":
            return _not_allowed(server, allowed, base, method)
        if _asks_for_server_offer(server, request, protocol):
            assert protocol.server_offer is not None
            session, offer = await protocol.server_offer(server, live)
            return _server_offered(server, request, protocol, session, offer, base, status=201)
        if await _counter_offers_unread(server, request, protocol):
            assert protocol.server_offer is not None
            session, offer = await protocol.server_offer(server, live)
            return _server_offered(server, request, protocol, session, offer, base, status=406)
        offer, desc = await _read_offer(server, request)
        session, answer = await protocol.negotiate(server, live, offer, desc, protocol.profile(server))
    except Refusal as refusal:
        return _refusal(server, refusal, base)
    except CounterOffer as counter:
        return _server_offered(server, request, protocol, counter.session, counter.offer, base, status=406)
    return _created(server, request, protocol, session, answer, base)


_POSTS = [0]  # endpoint POSTs so far (the dies-after-12-posts fault)


def _endpoint_methods(server: "ReferenceServer", protocol: Protocol) -> tuple[str, ...]:
    """The methods an endpoint supports: DELETE too on a publish URL where the profile takes it."""
    if protocol.name == "whip" and protocol.profile(server) in PUBLISH_URL_DELETE:
        return (*ENDPOINT_METHODS, "DELETE")
    return ENDPOINT_METHODS


async def _end_publisher(server: "ReferenceServer", live: "LiveInput", base: dict[str, str]) -> web.Response:
    """DELETE on the publish URL (PUBLISH_URL_DELETE): end the input's live publisher, as a DELETE of its
    session URL would; 404 when nobody publishes (there is no session to end)."""
    session = live.publisher
    if session is None:
        raise Refusal(404, "nobody is publishing to this live input")
    if not server.config.fault("publish-url-delete-keeps-publisher"):
        await server.end_session(session)
    return web.Response(status=200, headers=base)


# Where --redirect sends endpoint POSTs: the same endpoint behind a second front door.
REDIRECTED_PREFIX = "/via"


def _redirect(server: "ReferenceServer", request: web.Request, base: dict[str, str]) -> web.Response:
    """307 keeps the method and body (RFC 9725 §4.5; 301/302 may turn the POST into a GET)."""
    status = 302 if server.config.fault("redirect-302") else 307
    return web.Response(status=status, headers={**base, "Location": REDIRECTED_PREFIX + request.path_qs})


async def _counter_offers_unread(server: "ReferenceServer", request: web.Request, protocol: Protocol) -> bool:
    """The counter-offer-unread fault: a -03 WHEP POST typed application/sdp with 'v=0' anywhere in it gets a
    counter-offer, unparsed (janus-whep-server reads no body of another type: those get 415)."""
    if not (server.config.fault("counter-offer-unread") and protocol.server_offer is not None
            and protocol.profile(server) == profiles.WHEP_03 and server.config.patch
            and headers.media_type(request.headers.get("Content-Type")) == headers.SDP):
        return False
    return b"v=0" in await request.read()


def _asks_for_server_offer(server: "ReferenceServer", request: web.Request, protocol: Protocol) -> bool:
    """draft-murillo-whep-01 §4.2: a POST with no body (and no Content-Type) asks the server to offer."""
    return (protocol.server_offer is not None and protocol.profile(server) == profiles.MURILLO_01
            and not request.can_read_body and "Content-Type" not in request.headers
            and server.config.patch and not server.config.fault("no-server-offer"))


def _session_path(request: web.Request, protocol: Protocol, session: Session) -> str:
    """The session URL (absolute path) that a 201's Location names."""
    return f"/{request.match_info['key']}/webRTC/{protocol.path}/{session.id}"


def _server_offered(server: "ReferenceServer", request: web.Request, protocol: Protocol, session: Session, offer: str,
                    base: dict[str, str], status: int) -> web.Response:
    """201 (server offer, with Expires) or 406 (counter-offer, valid-until) carrying the server's SDP offer."""
    deadline = formatdate(session.offer_expires or time.time() + server.config.offer_timeout_s, usegmt=True)
    result = {**base, "Location": _session_path(request, protocol, session)}
    if status == 406:
        result["Content-Type"] = headers.SDP if server.config.fault("counter-offer-no-valid-until") else f'{headers.SDP}; valid-until="{deadline}"'
        if server.config.fault("counter-offer-no-location"):
            del result["Location"]
    else:
        result["Content-Type"] = headers.SDP
        if not server.config.fault("server-offer-no-expires"):
            result["Expires"] = deadline
    if server.config.fault("server-offer-recvonly"):
        offer = sdp.with_direction(offer, "recvonly")
    # draft-murillo-whep-01 §4.5: an offering endpoint marks bundled sections bundle-only (all but the
    # first, which carries the transport, as JSEP's max-bundle does) and rtcp-mux-only (RFC 8858).
    if not server.config.fault("server-offer-no-bundle-only"):
        offer = sdp.as_bundle_only(offer)
    if not server.config.fault("server-offer-no-rtcp-mux-only"):
        offer = sdp.with_media_attribute(offer, "rtcp-mux-only")
    response = web.Response(status=status, body=offer.encode(), headers=result)
    for link in _ice_server_links(server):
        response.headers.add("Link", link)
    if status == 201:
        for link in events.links(result["Location"], server.config.faults):
            response.headers.add("Link", link)
    return response


async def _read_offer(server: "ReferenceServer", request: web.Request) -> tuple[str, sdp.SessionDescription]:
    content_type = headers.media_type(request.headers.get("Content-Type"))
    if content_type != headers.SDP and not server.config.fault("accept-any-content-type"):
        raise Refusal(415, f"the offer must be typed {headers.SDP}, not {content_type or 'untyped'}")
    body = await request.read()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the offer is not UTF-8 text") from None
    try:
        desc = offers.read_offer(text)
    except offers.Unusable as exc:
        if server.config.fault("malformed-sdp-500"):
            raise Refusal(500, "internal error") from None
        raise Refusal(400, f"the offer cannot be used: {exc}") from None
    if server.config.fault("offer-without-candidates-refused") and not any(m.candidates for m in desc.media):
        raise Refusal(400, "the offer carries no candidates")
    return text, desc


def _refusal(server: "ReferenceServer", refusal: Refusal, base: dict[str, str]) -> web.Response:
    extra = {**base, **refusal.headers}
    if server.config.fault("no-www-authenticate"):
        extra.pop("WWW-Authenticate", None)
    return _error(server, refusal.status, refusal.reason, extra)


def _created(server: "ReferenceServer", request: web.Request, protocol: Protocol, session: Session, answer: str, base: dict[str, str]) -> web.Response:
    location = _session_path(request, protocol, session)
    if server.config.fault("broken-relative-location"):
        location = session.id  # resolves to /{key}/webRTC/{session.id}: no such session
    if server.config.fault("location-plain-http"):
        location = f"http://{request.host}{location}"  # an absolute URL that drops TLS
    result = dict(base)
    result["Content-Type"] = "text/plain" if server.config.fault("answer-content-type") else headers.SDP
    if server.config.fault("etag-carries-ice-credentials"):
        ufrag, pwd = (re.search(rf"^a=ice-{name}:(\S+)", answer, re.MULTILINE) for name in ("ufrag", "pwd"))
        session.etag = f'"{ufrag.group(1) if ufrag else ""}:{pwd.group(1) if pwd else ""}"'
    result["ETag"] = "W/" + session.etag if server.config.fault("etag-weak") else session.etag
    if not server.config.fault("no-location"):
        result["Location"] = location
    if server.config.patch and not server.config.fault("no-accept-patch"):
        result["Accept-Patch"] = headers.SDPFRAG  # trickle ICE and ICE restart by PATCH (RFC 5789 §3.1)
    response = web.Response(
        status=200 if server.config.fault("post-status-200") else 201,
        body=rewrite_answer(answer, server.config.faults).encode(),
        headers=result,
    )
    for link in [] if server.config.fault("no-ice-server-links") else _ice_server_links(server):
        response.headers.add("Link", link)
    if protocol.name == "whep":  # the extensions it offers (WHEP §4.9)
        for link in events.links(_session_path(request, protocol, session), server.config.faults):
            response.headers.add("Link", link)
    else:  # it offers no WHIP extension (RFC 9725 §4.9); the whip-ext-* faults announce one
        for link in whip_extension_links(_session_path(request, protocol, session), server.config.faults, on_201=True):
            response.headers.add("Link", link)
    return response


async def whip_extension_resource(request: web.Request, protocol: Protocol) -> web.Response:
    """`<WHIP session>/ext`: the resource of the extension that the whip-ext-* faults announce. A request
    to it counts as using the extension; a clean server has no such resource (404)."""
    server = _server(request)
    base = _base_headers(server, protocol)
    session = await server.find_session(request.match_info["sid"])
    if session is None or session.kind != "whip" or not server.config.faults & PROBE_RESOURCE_FAULTS:
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
            return _options(server, request, allowed, base, endpoint=False)
        if what != "stream":
            _check_token(server, request)
        session = await server.find_session(request.match_info["sid"])
        live = protocol.find_input(server, request.match_info["key"])
        if session is None or live is None or session.events is None or session.input_uid != live.uid:
            raise Refusal(404, "no such session (never created, or already ended)")
        if method not in allowed:
            return _not_allowed(server, allowed, base, method)
        if what == "sse":
            return await events.open_stream(request, live, session, base)
        if what == "layer":
            return await events.select_layer(request, live, session, base)
        if method == "GET":
            return await events.serve_stream(request, session, request.match_info["stream"], base)
        return await events.delete_stream(session, request.match_info["stream"], base)
    except Refusal as refusal:
        return _refusal(server, refusal, base)


async def session_resource(request: web.Request, protocol: Protocol) -> web.Response:
    """Requests to a session URL (the 201's Location)."""
    server = _server(request)
    base = _base_headers(server, protocol)
    method = request.method
    try:
        methods = SESSION_METHODS if server.config.patch else tuple(m for m in SESSION_METHODS if m != "PATCH")
        allowed = _supported(server, protocol, methods)
        if method == "OPTIONS":
            response = _options(server, request, allowed, base, endpoint=False)
            for link in whip_extension_links(request.path, server.config.faults, on_201=False) if protocol.name == "whip" else ():
                response.headers.add("Link", link)
            return response
        _check_token(server, request)
        session = await server.find_session(request.match_info["sid"])
        live = protocol.find_input(server, request.match_info["key"])
        if session is None or live is None or session.kind != protocol.name or session.input_uid != live.uid:
            if method == "DELETE" and server.config.fault("unknown-session-200"):
                return web.Response(status=200, headers=base)
            if method == "PATCH" and server.config.fault("patch-after-delete-204"):
                return web.Response(status=204, headers=base)
            if method == "PATCH" and server.config.fault("patch-after-delete-500"):
                return _error(server, 500, "internal error", base)
            raise Refusal(404, "no such session (never created, or already ended)")
        if method == "DELETE":
            if server.config.fault("session-redirects"):
                return web.Response(status=307, headers={**base, "Location": str(request.url)})
            if server.config.fault("delete-refused"):
                return _not_allowed(server, ("PATCH", "OPTIONS"), base, "DELETE")
            if server.config.fault("delete-checks-if-match") and request.headers.get("If-Match", session.etag) != session.etag:
                return _error(server, 412, "If-Match does not match the session's entity-tag", base)
            if not server.config.fault("delete-keeps-session"):
                await server.end_session(session)
            if server.config.fault("viewer-delete-ends-all") and session.kind == "whep":
                for viewer in list(live.viewers):
                    await server.end_session(viewer)
            return web.Response(status=200, headers=base)
        if method in ("GET", "HEAD"):
            return _get(server, protocol, allowed, base, method)
        if method == "PATCH" and not server.config.patch:
            return _no_patch(server, protocol, allowed, base)
        if method == "PATCH":
            return await _patch(server, request, protocol, session, base)
        return _not_allowed(server, allowed, base, method)
    except Refusal as refusal:
        return _refusal(server, refusal, base)


NO_PATCH_501 = (profiles.WHIP_06, profiles.MURILLO_01)  # "does not support the PATCH method for any purpose": 501


def _no_patch(server: "ReferenceServer", protocol: Protocol, allowed: tuple[str, ...], base: dict[str, str]) -> web.Response:
    """A server with PATCH switched off: 501 where the revision names it, else 405 (RFC 9110: not allowed here)."""
    if server.config.fault("no-patch-400"):
        return _error(server, 400, "PATCH is not supported", base)
    if protocol.profile(server) in NO_PATCH_501:
        return _error(server, 501, f"this server supports PATCH for no purpose ({protocol.profile(server)})", base)
    return _not_allowed(server, allowed, base, "PATCH", "this server supports neither trickle ICE nor ICE restart")


UNSUPPORTED_PATCH_KIND = {profiles.WHIP_06: 405, profiles.MURILLO_01: 405}  # "405 Not Implemented" (sic)


async def _patch(server: "ReferenceServer", request: web.Request, protocol: Protocol, session: Session, base: dict[str, str]) -> web.Response:
    """Trickle ICE (RFC 8840 fragments, WHIP §4.3.2 / WHEP §4.4.2); ICE restart is not supported yet."""
    fault = server.config.fault
    content_type = headers.media_type(request.headers.get("Content-Type"))
    if session.awaiting_answer:
        return await _patch_answer(server, request, protocol, session, base, content_type)
    if content_type == headers.SDP and protocol.name == "whep" and fault("sdp-patch-422"):
        return _error(server, 422, "no offer of this session waits for an answer", base)
    if content_type != headers.SDPFRAG and fault("patch-wrong-type-400"):
        return _error(server, 400, f"a PATCH must be typed {headers.SDPFRAG}", base)
    if content_type != headers.SDPFRAG and not fault("patch-any-content-type"):
        return _error(server, 415, f"a PATCH must be typed {headers.SDPFRAG}", {**base, "Accept-Patch": headers.SDPFRAG})
    if_match = request.headers.get("If-Match")
    if if_match is None and not fault("trickle-no-428"):
        return _error(server, 428, "a PATCH must carry If-Match with the session's entity-tag", base)
    try:
        frag = fragments.read((await request.read()).decode("utf-8"))
    except (UnicodeDecodeError, sdpfrag.SdpFragError) as exc:
        if fault("patch-malformed-500"):
            return _error(server, 500, "internal error", base)
        if fault("malformed-patch-ends-session"):
            await server.end_session(session)
        return _error(server, 422 if fault("patch-malformed-422") else 400, f"not a trickle-ice-sdpfrag: {exc}", base)
    ufrag, pwd = frag.credentials()
    if ufrag is not None and (ufrag, pwd) != (session.remote_ufrag, session.remote_pwd) and not fault("restart-as-trickle"):
        if fault("restart-500"):
            return _error(server, 500, "internal error", base)
        if not server.config.ice_restart or fault("restart-unsupported") or fault("restart-refused-501"):
            status = 501 if fault("restart-refused-501") else UNSUPPORTED_PATCH_KIND.get(protocol.profile(server), 422)
            return _error(server, status, "ICE restart is not supported by this session; trickle ICE is", base)
        return await _restart(server, session, frag, if_match, base)
    if if_match is not None and not fault("trickle-ignores-if-match"):
        try:
            matches = etag.if_match_holds(if_match, session.etag)
        except ValueError:
            matches = False
        if not matches or fault("trickle-always-412") or (fault("wildcard-if-match-refused") and if_match.strip() == "*"):
            return _error(server, 412, "If-Match does not name the session's current entity-tag", base)
    if fault("concurrent-patch-409") or fault("trickle-repeat-400"):
        refused = await _fault_refuses_trickle(server, session, frag)
        if refused is not None:
            return _error(server, refused[0], refused[1], base)
    for media in [] if fault("trickle-candidates-discarded") else frag.media:
        for line in media.candidates:
            candidate = _usable_candidate(line, media.mid or session.first_mid)
            if candidate is None:
                if fault("trickle-rejects-odd-candidates"):
                    return _error(server, 400, f"unsupported candidate {line!r}", base)
                continue  # unsupported transport or unresolvable address: dropped silently (§4.3.2)
            try:
                if session.ice_restart is not None:  # the restarted ICE session takes it, not aiortc's first one
                    await session.ice_restart.add_remote_candidate(candidate_to_aioice(candidate))
                else:
                    await session.pc.addIceCandidate(candidate)
            except Exception as exc:  # aiortc refuses some odd but well-formed candidates
                log.info("session %s: candidate %r dropped: %s", session.id, line, exc)
    if (frag.end_of_candidates or any(m.end_of_candidates for m in frag.media)) and not fault("trickle-candidates-discarded"):
        if session.ice_restart is not None:
            await session.ice_restart.add_remote_candidate(None)
        else:
            await session.pc.addIceCandidate(None)
    if fault("trickle-status-200"):
        return _text(200, "candidates applied", base)
    extra = {"ETag": session.etag} if fault("trickle-204-with-etag") else {}
    if fault("204-with-content"):
        return await _no_content_with_content(request, {**base, **extra})
    return web.Response(status=204, headers={**base, **extra})


async def _no_content_with_content(request: web.Request, response_headers: dict[str, str]) -> web.StreamResponse:
    """The 204-with-content fault: aiohttp never writes a 204's body, so the stray bytes go to the socket."""
    response = web.StreamResponse(status=204, headers=response_headers)
    await response.prepare(request)
    assert request.transport is not None
    request.transport.write(b"candidates applied\r\n")
    return response


_PATCHING: set[str] = set()  # sessions with a trickle PATCH in flight (fault concurrent-patch-409)
_TRICKLED: dict[str, set[str]] = {}  # candidates each session was sent (fault trickle-repeat-400)


async def _fault_refuses_trickle(server: "ReferenceServer", session: Session, frag: sdpfrag.SdpFrag) -> tuple[int, str] | None:
    """The two trickle faults a client's PATCH pattern can trip: one PATCH at a time, no repeated candidate."""
    if server.config.fault("concurrent-patch-409"):
        if session.id in _PATCHING:
            return 409, "another PATCH for this session is in progress"
        _PATCHING.add(session.id)
        try:
            await asyncio.sleep(0.3)  # the fault: a slow, exclusive PATCH handler
        finally:
            _PATCHING.discard(session.id)
    if server.config.fault("trickle-repeat-400"):
        seen = _TRICKLED.setdefault(session.id, set())
        lines = {line for m in frag.media for line in m.candidates}
        if lines & seen:
            return 400, "a candidate this session already has was sent again"
        seen |= lines
    return None


async def _restart(server: "ReferenceServer", session: Session, frag: sdpfrag.SdpFrag, if_match: str | None,
                   base: dict[str, str]) -> web.Response:
    """An ICE restart (RFC 9725 §4.3.3): a new ICE agent with new credentials and candidates, answered
    200 with them and a new ETag; the current ICE session carries media until the new one is nominated."""
    fault = server.config.fault
    if if_match is not None and not fault("trickle-ignores-if-match"):
        try:
            matches = if_match.strip() in ("*", '"*"') or etag.if_match_holds(if_match, session.etag)
        except ValueError:
            matches = False
        if not matches:
            return _error(server, 412, 'a restart PATCH carries If-Match: "*" (or the current entity-tag)', base)
    ufrag, pwd = frag.credentials()
    try:
        restart = await IceRestart.begin(session.pc)
    except IceRestartError as exc:
        return _error(server, 503, f"ICE restart cannot start now: {exc}", base)  # the current ICE session stays
    restart.set_remote(ufrag, pwd, ice_lite=frag.ice_lite)  # type: ignore[arg-type]
    for media in frag.media:
        for line in media.candidates:
            candidate = _usable_candidate(line, media.mid or session.first_mid)
            if candidate is not None:
                await restart.add_remote_candidate(candidate_to_aioice(candidate))
    if frag.end_of_candidates or any(m.end_of_candidates for m in frag.media):
        await restart.add_remote_candidate(None)
    previous = session.ice_restart
    if previous is not None and not previous.done:
        session.spawn(previous.abandon())
    session.ice_restart, session.remote_ufrag, session.remote_pwd = restart, ufrag, pwd
    if not fault("restart-keeps-etag"):
        session.etag = new_etag()
    if fault("restart-faked"):
        session.spawn(restart.abandon())  # new credentials on paper; the old agent carries on
    else:
        session.spawn(_finish_restart(session, restart, server.config.session_timeout_s,
                                      retire_old=not fault("restart-old-candidates-kept")))
    answer = sdpfrag.for_description(session.pc.localDescription.sdp, restart.local_username, restart.local_password,
                                     [c.to_sdp() for c in restart.local_candidates], end_of_candidates=True)
    if fault("restart-answer-old-credentials"):
        old = sdp.SessionDescription.parse(session.pc.localDescription.sdp).media[0]
        answer.ice_ufrag, answer.ice_pwd = old.ice_ufrag, old.ice_pwd
    answer.ice_lite = answer.ice_lite or fault("restart-answer-claims-ice-lite")
    body = str(answer).replace("a=candidate:", "a=candidate:x ") if fault("restart-answer-malformed") else str(answer)
    return web.Response(status=200, text=body,
                        headers={**base, "Content-Type": headers.SDPFRAG, "ETag": session.etag})


async def _finish_restart(session: Session, restart: IceRestart, timeout_s: float, retire_old: bool) -> None:
    if await restart.complete(timeout_s, retire_old=retire_old):
        log.info("session %s: ICE restarted", session.id)
    else:
        log.info("session %s: ICE restart did not connect; the previous ICE session carries on", session.id)


async def _patch_answer(server: "ReferenceServer", request: web.Request, protocol: Protocol, session: Session,
                        base: dict[str, str], content_type: str | None) -> web.Response:
    """The player's SDP answer to a server offer: 204 with the session's first ETag, 4xx if unusable."""
    if content_type != headers.SDP:
        return _error(server, 409 if content_type == headers.SDPFRAG else 415,
                     f"this session waits for an SDP answer ({headers.SDP}) to the server's offer", base)
    assert protocol.answered is not None
    live = protocol.find_input(server, request.match_info["key"])
    try:
        body = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        return _error(server, 400, "the answer is not UTF-8 text", base)
    try:
        await protocol.answered(server, live, session, body)  # type: ignore[arg-type]
    except Refusal as refusal:
        if refusal.status == 400 and server.config.fault("malformed-answer-accepted"):
            return web.Response(status=204, headers={**base, "ETag": session.etag})
        if refusal.status == 400:
            return _error(server, 400, refusal.reason, base)  # a malformed answer leaves the offer waiting
        return _refusal(server, refusal, base)
    etag = {} if server.config.fault("answer-patch-no-etag") else {"ETag": session.etag}
    if server.config.fault("answer-patch-200"):
        return _text(200, "answer applied", {**base, **etag})
    return web.Response(status=204, headers={**base, **etag})


def _usable_candidate(line: str, mid: str | None) -> RTCIceCandidate | None:
    """An RTCIceCandidate for a UDP candidate on an IP literal, else None."""
    try:
        candidate = candidate_from_sdp(line)
        ipaddress.ip_address(candidate.ip)
    except (AssertionError, ValueError, IndexError):
        return None
    if candidate.protocol.lower() != "udp":
        return None
    candidate.sdpMid = mid
    return candidate


def new_session_id() -> str:
    """Unguessable session ids (RFC 9725 §5: 128 random bits)."""
    return secrets.token_hex(16)


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

    app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}", handle_endpoint)
    app.router.add_route("*", f"{REDIRECTED_PREFIX}/{{key}}/webRTC/{protocol.path}", handle_endpoint)
    app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}/{{sid}}", handle_session)
    if protocol.name == "whip":
        async def handle_whip_extension(request: web.Request) -> web.Response:
            return await whip_extension_resource(request, protocol)

        app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}/{{sid}}/ext", handle_whip_extension)
    if protocol.name == "whep":
        for what, suffix in (("sse", "/sse"), ("stream", "/sse/{stream}"), ("layer", "/layer")):
            async def handle_extension(request: web.Request, what: str = what) -> web.StreamResponse:
                return await extension_resource(request, protocol, what)

            app.router.add_route("*", f"/{{key}}/webRTC/{protocol.path}/{{sid}}{suffix}", handle_extension)
