"""The fault layer: the reference server's correct responses and behaviour, distorted by named faults.

The handlers build what a correct endpoint sends and do what it does; this layer is the only place
that reads the active faults (`faults.Fault`). It has three kinds of entry point, all doing nothing
when no fault is active:

- `shape(route, response, exchange)`: response shaping. One step per route kind (`Route`) rewrites
  the correct response's status, headers or body (e.g. Route.CREATED: a 200 instead of 201, a weak
  ETag, the SDP answer rewritten by `faults.rewrite_answer`). The handlers never call it: they name
  the kind (`fault_http.routed`) and `fault_http`'s middleware calls it, with the header-level
  steps (`error`, `ice_server_links`, `extension_links`, `base_headers`) and `endpoint_post`.
- `instead(route, exchange)`: a fault that answers *instead of* the correct handler, before it acts
  (a DELETE answered 405 must not end the session), or None to let the handler go on.
- `waived()` / `waives(check)`: the server's own checks (`Check`) a fault switches off (a PATCH taken
  whatever its Content-Type), and a few named behaviour hooks (`auth`, `session_id`, ...).

Fault-only state (the trickle faults' memory of each session) lives here and is dropped by
`session_ended`.

Client conformance (issue 21) plugs in here: a scenario (the server misbehaving on purpose) is a
named set of catalogue distortions, i.e. an `ActiveFaults`, e.g. `{Fault.REDIRECT_302}` or
`{Fault.ETAG_WEAK}`, plus the rows it grades. A `FaultLayer` keeps its state to itself, so a server
can hold one per scenario: today `ReferenceServer.layer` is one for the whole server (started with
`--fault`); a scenario runner would pick the layer by the live input whose URL it minted for the
scenario. The relay, event-stream and live-input faults still read the server-wide set
(`ServerConfig.faults`): a per-scenario layer covers the signalling kinds.
"""

from __future__ import annotations

import asyncio
import enum
import os
import re
import time
from email.utils import formatdate
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable, MutableMapping

from aiohttp import web
from aioice import stun

from whip_whep_conformance.protocol import headers, sdp, sdpfrag
from whip_whep_conformance.protocol import whep_extensions as ext
from whip_whep_conformance.protocol.link import Link, format_link, parse_links

from . import events, responses
from .candidates import usable_candidate
from .faults import PROBE_RESOURCE_FAULTS, ActiveFaults, Fault, rewrite_answer, whip_extension_links
from .refusal import Refusal

if TYPE_CHECKING:
    from .sessions import Session

F = Fault


class Route(enum.Enum):
    """The kinds of response the shaping steps know: what the handler answered."""

    CREATED = "201 to an endpoint POST"
    SERVER_OFFER = "201 carrying the server's offer (draft-murillo-whep-01)"
    COUNTER_OFFER = "406 carrying a counter-offer (draft-ietf-wish-whep-03)"
    REDIRECT = "307 sending an endpoint POST on (--redirect)"
    OPTIONS = "OPTIONS (plain or CORS preflight)"
    GET = "GET/HEAD on an endpoint or session"
    NOT_ALLOWED = "405/501 to a method the resource does not support"
    NO_SUCH_SESSION = "404 for a session URL that names no session"
    DELETE = "200 to a DELETE that ends a session"
    OFFER_MALFORMED = "400 to an offer that is not usable SDP"
    TRACK_LIMIT = "406/422 to a WHIP offer with more tracks than the endpoint takes"
    OFFER_UNUSABLE = "406/422 to a WHIP offer the endpoint cannot negotiate"
    NOT_PUBLISHED = "409 + Retry-After to a WHEP POST before publication (--require-publisher)"
    EXTENSIONS = "the extension Links of a 201 (or of a session's OPTIONS)"
    PATCH_WRONG_TYPE = "415 to a PATCH of another media type"
    PATCH_MALFORMED = "400 to a malformed trickle-ice-sdpfrag"
    NO_PATCH = "501/405 to a PATCH when PATCH is switched off"
    TRICKLE = "204 to a trickle PATCH"
    RESTART = "200 to an ICE restart PATCH"
    RESTART_REFUSED = "422/405 to a restart PATCH where restarts are not supported"
    ANSWER_PATCH = "204 to the PATCH carrying the player's answer"
    ANSWER_REFUSED = "400 to a malformed answer to the server's offer"
    VIEWER_OFFER_DIRECTION = "400 to a WHEP offer whose m-sections do not receive (sendonly/inactive)"


class Check(enum.Enum):
    """Checks of the correct server that a fault can switch off."""

    OFFER_TYPE = "an offer is typed application/sdp"
    PATCH_TYPE = "a PATCH is typed application/trickle-ice-sdpfrag"
    IF_MATCH_PRESENT = "a PATCH carries If-Match (428)"
    IF_MATCH = "a PATCH's If-Match names the session's entity-tag (412)"
    RESTART = "new ICE credentials in a PATCH mean an ICE restart"
    SERVER_OFFER = "an empty POST asks for a server offer (draft-murillo-whep-01)"
    TOKEN_ON_OPTIONS = "OPTIONS needs no token (a fault makes it need one)"
    ONE_PUBLISHER = "a live input takes one publisher at a time (409)"
    SIMULCAST = "a simulcast offer is answered with every stream taken up (RFC 9725 §4.8)"
    ANSWERED_VIEWER_FORWARDED = "a viewer that answered the server's offer gets the media"
    DELETE_ENDS_PUBLISHER = "a DELETE on the publish URL (where the revision takes it) ends the publisher"
    ICE_RESTART = "a session takes an ICE restart where the server is configured to"
    NO_EXTENSION_RESOURCE = "a WHIP session has no extension resource (`<session>/ext` is 404)"


class Place(enum.Enum):
    """Where ice-server Links go."""

    CREATED = "the 201"
    OPTIONS = "plain OPTIONS on an endpoint"
    PREFLIGHT = "CORS preflight on an endpoint"
    SERVER_OFFER = "the 201 carrying the server's offer"
    COUNTER_OFFER = "the 406 carrying a counter-offer"
    SESSION_OPTIONS = "OPTIONS on a session URL"


@dataclass
class Exchange:
    """What a shaping step may need to know about the request it shapes the answer to."""

    request: web.Request
    base: dict[str, str] = field(default_factory=dict)
    session: "Session | None" = None
    protocol: str = ""  # "whip" | "whep"
    answer: str = ""  # CREATED: the SDP answer as built; SERVER_OFFER: the offer before bundle-only/rtcp-mux-only
    end_session: "Callable[[Session], Awaitable[None]] | None" = None
    frag: "sdpfrag.SdpFrag | None" = None  # PATCH: the fragment sent; RESTART: the one answered
    if_match: str | None = None
    viewers: "Callable[[], list[Session]] | None" = None  # DELETE: the live input's viewers
    reason: str = ""  # the correct error's reason, where a step re-sends it under another status


@dataclass(frozen=True)
class RestartPlan:
    """What follows an ICE restart's 200: the new agent completes (and retires the old sockets)."""

    completes: bool = True
    retire_old: bool = True


class FaultLayer:
    """The active faults applied to a correct server. With no fault every entry point is the identity."""

    def __init__(self, active: ActiveFaults) -> None:
        self.active = active
        self._posts = 0  # endpoint POSTs so far (dies-after-12-posts)
        self._patching: set[str] = set()  # sessions with a trickle PATCH in flight (concurrent-patch-409)
        self._trickled: dict[str, set[str]] = {}  # candidates each session was sent (trickle-repeat-400)

    def __contains__(self, fault: Fault) -> bool:
        return fault in self.active

    # ---- errors and headers every response carries -------------------------------------------------

    def error(self, status: int, reason: str, extra: dict[str, str]) -> web.Response:
        """The ERRORS step: a 4xx/5xx as problem details, unless a fault renders it otherwise."""
        if F.ERRORS_PLAIN_TEXT in self:
            return responses.text(status, reason, extra)
        mismatch = (200 if status != 200 else 500) if F.PROBLEM_STATUS_MISMATCH in self else None
        return responses.problem_details(status, reason, extra, status_member=mismatch)

    def base_headers(self, base: "MutableMapping[str, str]") -> "MutableMapping[str, str]":
        """The HEADERS step, on the headers every WHIP/WHEP response carries."""
        if F.CORS_NO_EXPOSE in self:
            base.pop("Access-Control-Expose-Headers", None)
        if F.NO_PROTOCOL_VERSION in self:
            base.pop("protocol-version", None)
        return base

    def auth(self, refusal: Refusal | None, wrong_token: Refusal, presented: str | None) -> Refusal | None:
        """The AUTH step: the correct verdict on a request's Bearer token (`refusal`, None when it is
        right; `wrong_token` is what a wrong one gets), distorted."""
        if F.AUTH_IGNORED in self:
            return None
        if F.BEARER_REFUSED in self:
            refusal = wrong_token
        if refusal is None:
            return None
        if F.AUTH_403_NO_CHALLENGE in self:
            return Refusal(403, "Unauthorized", {})  # simple-whip-server's refusal: no challenge at all
        if F.WRONG_TOKEN_403 in self and presented is not None:
            refusal = Refusal(403, "this token grants no access here",
                              {"WWW-Authenticate": 'Bearer realm="whip-whep", error="insufficient_scope"'})
        elif F.BASIC_CHALLENGE in self:
            refusal = Refusal(refusal.status, refusal.reason, {**refusal.headers, "WWW-Authenticate": 'Basic realm="whip-whep"'})
        if F.NO_WWW_AUTHENTICATE in self:
            refusal = Refusal(refusal.status, refusal.reason, {k: v for k, v in refusal.headers.items() if k != "WWW-Authenticate"})
        return refusal

    def ice_server_links(self, place: Place, correct: list[str], every: list[str]) -> list[str]:
        """The LINKS step: the ice-server Links to send at `place` (`correct` of `every` configured one)."""
        links = correct
        if place is Place.PREFLIGHT and F.LINKS_ON_PREFLIGHT in self:
            links = every
        if place in (Place.OPTIONS, Place.PREFLIGHT) and F.NO_LINKS_ON_OPTIONS in self:
            links = []
        if place is Place.CREATED and F.NO_ICE_SERVER_LINKS in self:
            links = []
        if F.TURN_LINK_NO_CREDENTIAL in self or F.BROKEN_LINK_SYNTAX in self:
            links = [self._ice_server_link(link) for link in links]
        return links

    def _ice_server_link(self, value: str) -> str:
        (link,) = parse_links(value)
        if F.TURN_LINK_NO_CREDENTIAL in self and "username" in link.params:
            link.params.pop("credential", None)
        if F.BROKEN_LINK_SYNTAX in self:
            return f"{link.target}; rel: ice-server;"
        return format_link(link)

    # ---- methods ---------------------------------------------------------------------------------

    def get_is_405(self, correct: bool) -> bool:
        """Whether GET/HEAD get 405 here (the revision in force says `correct`)."""
        if F.GET_405_EVERYWHERE in self:
            return True
        if F.GET_2XX_EVERYWHERE in self:
            return False
        return correct

    def allowed(self, correct: tuple[str, ...], every: tuple[str, ...]) -> tuple[str, ...]:
        """The methods Allow / Access-Control-Allow-Methods list (`correct` leaves out those that get 405)."""
        return every if F.ALLOW_LISTS_GET in self else correct

    # ---- the server's own checks a fault switches off, and behaviour hooks -------------------------

    def waived(self) -> frozenset[Check]:
        """The server's own checks (and duties) the active faults switch off (none: the correct server)."""
        return frozenset(check for check, faults in _WAIVED_BY.items() if self.active & faults)

    def waives(self, check: Check) -> bool:
        """Whether a fault switches `check` off (the correct server makes every check)."""
        return check in self.waived()

    def endpoint_post(self) -> None:
        """Hook: an endpoint POST arrived (dies-after-12-posts ends the process on the 13th)."""
        if F.DIES_AFTER_12_POSTS in self:
            self._posts += 1
            if self._posts > 12:
                os._exit(3)  # the fault: the process is gone, as a crashed target is

    async def counter_offers_unread(self, request: web.Request, counter_offers: bool) -> bool:
        """Hook: counter-offer-unread: a WHEP POST (where the revision has counter-offers) typed
        application/sdp with 'v=0' anywhere in it gets a counter-offer, unparsed (janus-whep-server
        reads no body of another type: those get 415)."""
        if not (F.COUNTER_OFFER_UNREAD in self and counter_offers
                and headers.media_type(request.headers.get("Content-Type")) == headers.SDP):
            return False
        return b"v=0" in await request.read()

    def offer_refusal(self, desc: sdp.SessionDescription, route: Route = Route.CREATED) -> Refusal | None:
        """Hook: a refusal a fault gives an offer the correct server takes: any well-formed offer
        (`route` CREATED), a WHIP offer that passed the endpoint's checks (OFFER_UNUSABLE), or a WHEP
        offer before it is negotiated (NOT_PUBLISHED, where `desc` is the live publisher's state)."""
        if route is Route.CREATED:
            if F.OFFER_WITHOUT_CANDIDATES_REFUSED in self and not any(m.candidates for m in desc.media):
                return Refusal(400, "the offer carries no candidates")
        elif route is Route.OFFER_UNUSABLE:
            if F.SENDRECV_REFUSED in self and any(m.direction == "sendrecv" for m in desc.media):
                return Refusal(400, "sendrecv offers are not accepted")
            if F.ACTIVE_OFFER_REFUSED_403 in self and any(m.setup == "active" for m in desc.media):
                return Refusal(403, "a=setup:active offers are not taken")
        return None

    def feed_refusal(self, publisher: "Session | None") -> Refusal | None:
        """Hook: janus-whep-server's refusals of a WHEP POST while the input's feed is not up."""
        if F.NEEDS_PUBLISHER_500 in self and publisher is None:
            return Refusal(500, "no feed to subscribe to")
        if F.NEEDS_MEDIA_500 in self and (publisher is None or not publisher.connected.is_set()):
            return Refusal(500, "no feed to subscribe to: the publisher's media is not up")
        return None

    def viewer_offer_refusal(self, counter_offers: bool) -> Refusal | str | None:
        """Hook: a WHEP offer a fault refuses before negotiating it: a Refusal, or the reason of a
        counter-offer (`counter_offers`: the revision in force has them)."""
        if F.WHEP_POST_500 in self:
            return Refusal(500, "internal error")
        if F.COUNTER_OFFER_ALWAYS in self and counter_offers:
            return "this endpoint always makes the offer"
        if F.BARE_406 in self:
            return Refusal(406, "no acceptable representation")
        return None

    def refusal_status(self, route: Route, correct: int) -> int:
        """Hook: the status of a refusal the correct server gives `correct` (a 403 instead, say)."""
        if route is Route.TRACK_LIMIT and F.TRACK_LIMIT_403 in self:
            return 403
        if route is Route.OFFER_UNUSABLE and F.UNUSABLE_OFFER_403 in self:
            return 403
        if route is Route.VIEWER_OFFER_DIRECTION and F.ANSWER_SHAPED_OFFER_500 in self:
            return 500
        return correct

    # ---- negotiation and the session's life (hooks the server's session code calls) -----------------

    def session_id(self, counter: int, correct: Callable[[], str]) -> str:
        """Hook: the id of a new session (`correct` makes 128 random bits; `counter`: sessions so far)."""
        return str(counter) if F.SEQUENTIAL_SESSION_IDS in self else correct()

    def offer_to_apply(self, kind: str, offer: str, desc: sdp.SessionDescription) -> str:
        """Hook: the offer text the peer connection is given."""
        for name in self._unknown_video_formats(kind, desc):  # negotiated as VP8, answered rejected below
            offer = sdp.with_format_renamed(offer, name, "VP8")
        if F.NO_VP9 in self:
            offer = sdp.without_format(offer, "VP9")
        return offer

    def answer_made(self, kind: str, offer: str, desc: sdp.SessionDescription, answer: str) -> str:
        """Hook: the answer the peer connection made to `offer` (as applied), before it is sent."""
        if F.ACTIVE_ANSWERED_ACTIVE in self and "a=setup:active" in offer:
            answer = answer.replace("a=setup:passive", "a=setup:active")
        if self._unknown_video_formats(kind, desc):
            answer = re.sub(r"^m=video \d+", "m=video 0", answer, flags=re.MULTILINE)
        return answer

    def _unknown_video_formats(self, kind: str, desc: sdp.SessionDescription) -> list[str]:
        """unusable-section-rejected: the WHIP offer's video formats aiortc cannot negotiate."""
        if kind != "whip" or F.UNUSABLE_SECTION_REJECTED not in self:
            return []
        from aiortc import RTCRtpSender

        known = {c.mimeType.split("/")[1].lower() for c in RTCRtpSender.getCapabilities("video").codecs}
        return sorted({c.name for m in desc.media if m.kind == "video" for c in m.codecs if c.name.lower() not in known})

    async def answered(self, session: "Session") -> None:
        """Hook: the session's answer is made (answer-unreachable-candidates shuts its ICE agent)."""
        if F.ANSWER_UNREACHABLE_CANDIDATES in self:
            await session.pc.close()  # a media server that is not where its answer says

    def ends_when_closed(self) -> bool:
        """Hook: whether a session whose DTLS closed or whose ICE failed is ended."""
        return F.DTLS_CLOSE_IGNORED not in self

    def offer_deadline(self, expires: int, timeout_s: float) -> tuple[int | None, float]:
        """Hook: a server offer's Expires time and how long its session waits for the answer."""
        if F.SERVER_OFFER_NEVER_EXPIRES in self:
            return None, 3600.0
        return expires, timeout_s

    def session_opened(self, session: "Session") -> None:
        """Hook: a session's peer connection is set up (consent-answered-briefly starts its clock)."""
        if F.CONSENT_ANSWERED_BRIEFLY in self:
            session.spawn(_stop_answering_checks(session, FAULT_CONSENT_FOR_S))

    # ---- extensions ------------------------------------------------------------------------------

    def extension_links(self, protocol: str, session_path: str, correct: list[str], on_201: bool = True) -> list[str]:
        """The EXTENSIONS step: the extension Links a 201 (`on_201`) or a session's OPTIONS sends."""
        if protocol == "whep":
            return _whep_extension_links(session_path, self.active) if self.active & WHEP_LINK_FAULTS else correct
        return correct + whip_extension_links(session_path, self.active, on_201)

    def restarted(self, session: "Session", restart, old_etag: str) -> RestartPlan:
        """Hook: an ICE restart was answered (session.etag is the new one): what follows it."""
        if F.RESTART_KEEPS_ETAG in self:
            session.etag = old_etag
        if F.RESTART_FAKED in self:
            session.spawn(restart.abandon())  # new credentials on paper; the old agent carries on
            return RestartPlan(completes=False)
        return RestartPlan(retire_old=F.RESTART_OLD_CANDIDATES_KEPT not in self)

    def session_ended(self, session: "Session") -> None:
        """Hook: `session` ended; its fault-only state goes with it."""
        self._trickled.pop(session.id, None)
        self._patching.discard(session.id)

    # ---- answers instead of the correct handler ---------------------------------------------------

    async def instead(self, route: Route, exchange: Exchange) -> web.StreamResponse | None:
        """A response a fault gives instead of the correct handler's, before the handler acts; None: go on."""
        step = _INSTEAD.get(route)
        return await step(self, exchange) if step is not None else None

    # ---- response shaping ------------------------------------------------------------------------

    async def shape(self, route: Route, response: web.Response, exchange: Exchange) -> web.StreamResponse:
        """The shaping step of `route` applied to the correct `response`."""
        if not self.active:
            return response
        step = _SHAPE.get(route)
        return await step(self, response, exchange) if step is not None else response

    async def _created(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        session, request = ex.session, ex.request
        assert session is not None
        location = response.headers["Location"]
        if F.BROKEN_RELATIVE_LOCATION in self:
            location = session.id  # resolves to /{key}/webRTC/{session.id}: no such session
        if F.LOCATION_PLAIN_HTTP in self:
            location = f"http://{request.host}{location}"  # an absolute URL that drops TLS
        if F.NO_LOCATION in self:
            del response.headers["Location"]
        else:
            response.headers["Location"] = location
        if F.ANSWER_CONTENT_TYPE in self:
            response.headers["Content-Type"] = "text/plain"
        if F.ETAG_CARRIES_ICE_CREDENTIALS in self:
            ufrag, pwd = (re.search(rf"^a=ice-{name}:(\S+)", ex.answer, re.MULTILINE) for name in ("ufrag", "pwd"))
            session.etag = f'"{ufrag.group(1) if ufrag else ""}:{pwd.group(1) if pwd else ""}"'
            response.headers["ETag"] = session.etag
        if F.ETAG_WEAK in self:
            response.headers["ETag"] = "W/" + session.etag
        if F.NO_ACCEPT_PATCH in self:
            response.headers.pop("Accept-Patch", None)
        if F.POST_STATUS_200 in self:
            response.set_status(200)
        response.body = rewrite_answer(ex.answer, self.active).encode()
        return response

    async def _server_offered(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if response.status == 406:
            if F.COUNTER_OFFER_NO_VALID_UNTIL in self:
                response.headers["Content-Type"] = headers.SDP
            if F.COUNTER_OFFER_VALID_UNTIL_SECONDS in self:
                response.headers["Content-Type"] = f'{headers.SDP}; valid-until="30"'
            if F.COUNTER_OFFER_NO_LOCATION in self:
                del response.headers["Location"]
        elif F.SERVER_OFFER_NO_EXPIRES in self:
            del response.headers["Expires"]
        if not self.active & {F.SERVER_OFFER_RECVONLY, F.SERVER_OFFER_NO_BUNDLE_ONLY, F.SERVER_OFFER_NO_RTCP_MUX_ONLY}:
            return response
        offer = ex.answer  # the offer before the correct bundle-only / rtcp-mux-only marking
        if F.SERVER_OFFER_RECVONLY in self:
            offer = sdp.with_direction(offer, "recvonly")
        if F.SERVER_OFFER_NO_BUNDLE_ONLY not in self:
            offer = sdp.as_bundle_only(offer)
        if F.SERVER_OFFER_NO_RTCP_MUX_ONLY not in self:
            offer = sdp.with_media_attribute(offer, "rtcp-mux-only")
        response.body = offer.encode()
        return response

    async def _redirect(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.REDIRECT_302 in self:
            response.set_status(302)
        return response

    async def _options(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.PREFLIGHT_REFUSED in self and "Access-Control-Request-Method" in ex.request.headers:
            return self.error(403, "CORS preflight refused", ex.base)
        if F.NO_ACCEPT_POST in self:
            response.headers.pop("Accept-Post", None)
        return response

    async def _get(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if ex.request.method == "HEAD" and F.HEAD_DIFFERS in self:
            return web.Response(status=404, headers=ex.base)
        if ex.request.method != "HEAD" or ex.protocol != "whep" or ex.session is not None or response.status != 200:
            return response
        # HEAD on a WHEP endpoint that answers it (the discoverability faults; GET keeps the correct answer)
        if F.HEAD_405 in self:
            return self.error(405, "HEAD is not allowed here", {**ex.base, "Allow": "POST, OPTIONS, GET"})
        if F.HEAD_WRONG_TYPE in self:
            response.headers["Content-Type"] = "text/html"
        if F.HEAD_MISSING_HEADER in self:
            response.headers.pop("Access-Control-Allow-Origin", None)
        if F.HEAD_WITH_BODY in self:
            return await _stray_content(ex.request, 200, {**response.headers, "Content-Length": "0"}, b"v=0\r\n")
        return response

    async def _not_allowed(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        method = ex.request.method
        if F.UNSUPPORTED_METHOD_404 in self and method in ("POST", "PUT"):
            return self.error(404, f"no {method} route here", ex.base)  # as a router without that route answers
        if response.status == 501 and F.UNKNOWN_METHOD_400 in self:
            return self.error(400, f"bad method {method}", ex.base)
        if response.status == 405 and F.S405_WITHOUT_ALLOW in self:
            response.headers.pop("Allow", None)
        return response

    async def _no_such_session(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        method = ex.request.method
        if method == "DELETE" and F.UNKNOWN_SESSION_200 in self:
            return web.Response(status=200, headers=ex.base)
        if method == "PATCH" and F.PATCH_AFTER_DELETE_204 in self:
            return web.Response(status=204, headers=ex.base)
        if method == "PATCH" and F.PATCH_AFTER_DELETE_500 in self:
            return self.error(500, "internal error", ex.base)
        return response

    async def _instead_of_restart(self, ex: Exchange) -> web.StreamResponse | None:
        if F.RESTART_500 in self:
            return self.error(500, "internal error", ex.base)
        return None

    async def _instead_of_delete(self, ex: Exchange) -> web.StreamResponse | None:
        session, request = ex.session, ex.request
        assert session is not None and ex.end_session is not None and ex.viewers is not None
        if F.SESSION_REDIRECTS in self:
            return web.Response(status=307, headers={**ex.base, "Location": str(request.url)})
        if F.DELETE_REFUSED in self:
            response = self.error(405, "method DELETE is not allowed here", {**ex.base, "Allow": "PATCH, OPTIONS"})
            return await self.shape(Route.NOT_ALLOWED, response, ex)
        if F.DELETE_CHECKS_IF_MATCH in self and request.headers.get("If-Match", session.etag) != session.etag:
            return self.error(412, "If-Match does not match the session's entity-tag", ex.base)
        if F.DELETE_KEEPS_SESSION in self:
            return web.Response(status=200, headers=ex.base)
        if F.VIEWER_DELETE_ENDS_ALL in self and session.kind == "whep":
            await ex.end_session(session)
            for viewer in ex.viewers():
                await ex.end_session(viewer)
            return web.Response(status=200, headers=ex.base)
        return None

    async def _instead_of_trickle(self, ex: Exchange) -> web.StreamResponse | None:
        session, frag, if_match = ex.session, ex.frag, ex.if_match
        assert session is not None and frag is not None
        if if_match is not None and F.TRICKLE_IGNORES_IF_MATCH not in self and (
                F.TRICKLE_ALWAYS_412 in self or (F.WILDCARD_IF_MATCH_REFUSED in self and if_match.strip() == "*")):
            return self.error(412, "If-Match does not name the session's current entity-tag", ex.base)
        if F.CONCURRENT_PATCH_409 in self:
            if session.id in self._patching:
                return self.error(409, "another PATCH for this session is in progress", ex.base)
            self._patching.add(session.id)
            try:
                await asyncio.sleep(0.3)  # the fault: a slow, exclusive PATCH handler
            finally:
                self._patching.discard(session.id)
        if F.TRICKLE_REPEAT_400 in self:
            seen = self._trickled.setdefault(session.id, set())
            lines = {line for m in frag.media for line in m.candidates}
            if lines & seen:
                return self.error(400, "a candidate this session already has was sent again", ex.base)
            seen |= lines
        if F.TRICKLE_REJECTS_ODD_CANDIDATES in self:
            for media in frag.media:
                for line in media.candidates:
                    if usable_candidate(line, media.mid or session.first_mid) is None:
                        return self.error(400, f"unsupported candidate {line!r}", ex.base)
        if F.TRICKLE_CANDIDATES_DISCARDED in self:
            return await self._trickle(web.Response(status=204, headers=ex.base), ex)  # answered, not applied
        return None

    async def _patch_wrong_type(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        content_type = headers.media_type(ex.request.headers.get("Content-Type"))
        if content_type == headers.SDP and ex.protocol == "whep" and F.SDP_PATCH_422 in self:
            return self.error(422, "no offer of this session waits for an answer", ex.base)
        if F.PATCH_WRONG_TYPE_400 in self:
            return self.error(400, f"a PATCH must be typed {headers.SDPFRAG}", ex.base)
        return response

    async def _patch_malformed(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.MALFORMED_PATCH_ACCEPTED in self:
            return web.Response(status=204, headers=ex.base)
        if F.PATCH_MALFORMED_500 in self:
            return self.error(500, "internal error", ex.base)
        if F.MALFORMED_PATCH_ENDS_SESSION in self:
            assert ex.end_session is not None and ex.session is not None
            await ex.end_session(ex.session)
        if F.PATCH_MALFORMED_422 in self:
            return self.error(422, ex.reason, ex.base)
        return response

    async def _restart_refused(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.RESTART_REFUSED_501 in self:
            return self.error(501, "ICE restart is not supported by this session; trickle ICE is", ex.base)
        return response

    async def _restart(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        answer, session = ex.frag, ex.session
        assert answer is not None and session is not None
        if F.RESTART_ANSWER_OLD_CREDENTIALS in self:
            old = sdp.SessionDescription.parse(session.pc.localDescription.sdp).media[0]
            answer.ice_ufrag, answer.ice_pwd = old.ice_ufrag, old.ice_pwd
        answer.ice_lite = answer.ice_lite or F.RESTART_ANSWER_CLAIMS_ICE_LITE in self
        body = str(answer).replace("a=candidate:", "a=candidate:x ") if F.RESTART_ANSWER_MALFORMED in self else str(answer)
        response.body = body.encode("utf-8")
        return response

    async def _trickle(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        assert ex.session is not None
        if F.TRICKLE_STATUS_200 in self:
            return responses.text(200, "candidates applied", ex.base)
        extra = {"ETag": ex.session.etag} if F.TRICKLE_204_WITH_ETAG in self else {}
        if F.S204_WITH_CONTENT in self:
            return await _stray_content(ex.request, 204, {**ex.base, **extra}, b"candidates applied\r\n")
        if extra:
            return web.Response(status=204, headers={**ex.base, **extra})
        return response

    async def _not_published(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.CONFLICT_WITHOUT_RETRY_AFTER in self:
            response.headers.pop("Retry-After", None)
        elif F.RETRY_AFTER_JUNK in self:
            response.headers["Retry-After"] = "soon"
        elif F.RETRY_AFTER_HTTP_DATE in self:
            response.headers["Retry-After"] = formatdate(time.time() + int(response.headers["Retry-After"]), usegmt=True)
        return response

    async def _offer_malformed(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.MALFORMED_SDP_500 in self:
            return self.error(500, "internal error", ex.base)
        return response

    async def _no_patch(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.NO_PATCH_400 in self:
            return self.error(400, "PATCH is not supported", ex.base)
        return response

    async def _answer_patch(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        assert ex.session is not None
        if F.ANSWER_PATCH_REFUSED in self:
            return self.error(400, "the answer to the server's offer is refused", ex.base)
        etag = {} if F.ANSWER_PATCH_NO_ETAG in self else {"ETag": ex.session.etag}
        if F.ANSWER_PATCH_200 in self:
            return responses.text(200, "answer applied", {**ex.base, **etag})
        if not etag:
            response.headers.pop("ETag", None)
        return response

    async def _answer_refused(self, response: web.Response, ex: Exchange) -> web.StreamResponse:
        if F.MALFORMED_ANSWER_ACCEPTED in self:
            assert ex.session is not None
            return web.Response(status=204, headers={**ex.base, "ETag": ex.session.etag})
        return response


# The faults that switch each of the server's checks off.
_WAIVED_BY: dict[Check, frozenset[Fault]] = {
    Check.OFFER_TYPE: frozenset({F.ACCEPT_ANY_CONTENT_TYPE}),
    Check.PATCH_TYPE: frozenset({F.PATCH_ANY_CONTENT_TYPE}),
    Check.IF_MATCH_PRESENT: frozenset({F.TRICKLE_NO_428}),
    Check.IF_MATCH: frozenset({F.TRICKLE_IGNORES_IF_MATCH}),
    Check.RESTART: frozenset({F.RESTART_AS_TRICKLE}),
    Check.SERVER_OFFER: frozenset({F.NO_SERVER_OFFER}),
    Check.TOKEN_ON_OPTIONS: frozenset({F.PREFLIGHT_NEEDS_AUTH}),
    Check.ONE_PUBLISHER: frozenset({F.SECOND_PUBLISHER_ACCEPTED}),
    Check.SIMULCAST: frozenset({F.SIMULCAST_UNSUPPORTED}),
    Check.ANSWERED_VIEWER_FORWARDED: frozenset({F.SERVER_OFFERED_MEDIA_NEVER_FORWARDED}),
    Check.DELETE_ENDS_PUBLISHER: frozenset({F.PUBLISH_URL_DELETE_KEEPS_PUBLISHER}),
    Check.ICE_RESTART: frozenset({F.RESTART_UNSUPPORTED, F.RESTART_REFUSED_501}),
    Check.NO_EXTENSION_RESOURCE: frozenset(PROBE_RESOURCE_FAULTS),
}
# Steps by route kind (a kind without a step is passed through).
_SHAPE = {
    Route.CREATED: FaultLayer._created,
    Route.SERVER_OFFER: FaultLayer._server_offered,
    Route.COUNTER_OFFER: FaultLayer._server_offered,
    Route.REDIRECT: FaultLayer._redirect,
    Route.OPTIONS: FaultLayer._options,
    Route.GET: FaultLayer._get,
    Route.NOT_ALLOWED: FaultLayer._not_allowed,
    Route.NO_SUCH_SESSION: FaultLayer._no_such_session,
    Route.OFFER_MALFORMED: FaultLayer._offer_malformed,
    Route.NOT_PUBLISHED: FaultLayer._not_published,
    Route.NO_PATCH: FaultLayer._no_patch,
    Route.ANSWER_PATCH: FaultLayer._answer_patch,
    Route.ANSWER_REFUSED: FaultLayer._answer_refused,
    Route.PATCH_WRONG_TYPE: FaultLayer._patch_wrong_type,
    Route.PATCH_MALFORMED: FaultLayer._patch_malformed,
    Route.RESTART_REFUSED: FaultLayer._restart_refused,
    Route.RESTART: FaultLayer._restart,
    Route.TRICKLE: FaultLayer._trickle,
}
# Faults that answer instead of the correct handler, by route kind.
_INSTEAD = {
    Route.DELETE: FaultLayer._instead_of_delete,
    Route.RESTART: FaultLayer._instead_of_restart,
    Route.TRICKLE: FaultLayer._instead_of_trickle,
}


FAULT_CONSENT_FOR_S = 2.0  # how long the consent-answered-briefly fault answers consent checks


async def _stop_answering_checks(session: "Session", after_s: float) -> None:
    """The consent-answered-briefly fault: `after_s` after connecting, the session's ICE agent drops every
    STUN Binding request (consent checks, RFC 7675) while media keeps flowing."""
    await session.connected.wait()
    await asyncio.sleep(after_s)  # the fault's schedule, not a synchronisation
    connections = {}  # under BUNDLE every transceiver shares one ICE agent: wrap each agent once
    for transceiver in session.pc.getTransceivers():
        dtls_transport = transceiver.sender.transport
        connection = getattr(getattr(dtls_transport, "transport", None), "_connection", None)
        if connection is not None:
            connections[id(connection)] = connection
    for connection in connections.values():
        def drop(message, addr, protocol, original=connection.request_received) -> None:
            if message.message_method == stun.Method.BINDING:
                return
            original(message, addr, protocol)

        connection.request_received = drop


WHEP_LINK_FAULTS = frozenset({F.SSE_EVENTS_WITHOUT_LAYERS, F.SSE_URL_MISSING, F.SSE_LINK_NO_EVENTS,
                              F.EXTENSION_LINKS_COMBINED, F.LAYER_WITHOUT_SSE, F.LAYER_LINK_NAMES_THE_URN})


def _whep_extension_links(session_url: str, active: ActiveFaults) -> list[str]:
    """A WHEP 201's extension Links as the sse-*/layer-* link faults distort them (events.links is the correct set)."""
    kinds = [e for e in events.SUPPORTED if not (e == "layers" and F.SSE_EVENTS_WITHOUT_LAYERS in active)]
    sse = Link(f"{session_url}/sse{'-missing' if F.SSE_URL_MISSING in active else ''}",
               {"rel": ext.SSE_REL} if F.SSE_LINK_NO_EVENTS in active else {"rel": ext.SSE_REL, "events": ",".join(kinds)})
    layer = Link(ext.LAYER_REL if F.LAYER_LINK_NAMES_THE_URN in active else f"{session_url}/layer", {"rel": ext.LAYER_REL})
    if F.EXTENSION_LINKS_COMBINED in active:
        return [format_link(Link(sse.target, {**sse.params, "rel": f"{ext.SSE_REL} {ext.LAYER_REL}"}))]
    if F.LAYER_WITHOUT_SSE in active:
        return [format_link(layer)]
    return [format_link(sse), format_link(layer)]


async def _stray_content(request: web.Request, status: int, response_headers: dict[str, str], stray: bytes
                         ) -> web.StreamResponse:
    """The faults that send content where none may go (a 204's, a HEAD answer's): aiohttp never writes
    such a body, so the stray bytes go to the socket after the header section."""
    response = web.StreamResponse(status=status, headers=response_headers)
    await response.prepare(request)
    assert request.transport is not None
    request.transport.write(stray)
    return response
