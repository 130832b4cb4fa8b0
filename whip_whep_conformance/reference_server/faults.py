"""Named defects the server can be started with (`--fault NAME`), to prove the suite catches them.

Each fault breaks one observable behaviour; `tests/fault_map.toml` says which conformance tests
must fail under it. The catalogue is typed: code names a fault as an attribute (`Fault.ETAG_WEAK`),
so a misspelt one is an AttributeError at import, and `ActiveFaults` refuses a plain string.
Every fault declares its `Kind`: the route kind whose correct response it distorts (applied by
`fault_layer.FaultLayer`), or the behaviour hook it acts at. The names after `--fault` and in
`--fault list` are the member values (a contract: fault_map.toml, interop tests, benchmarks).
"""

from __future__ import annotations

import enum
import re
from typing import Iterable

from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.protocol.link import WHIP_EXTENSIONS, Link, format_link


class Kind(enum.Enum):
    """Where a fault acts: a route kind whose correct response the fault layer rewrites, or a hook."""

    # response shaping (fault_layer.FaultLayer, one step per route kind)
    HEADERS = "headers every WHIP/WHEP response carries"
    ERRORS = "4xx/5xx bodies (problem details)"
    AUTH = "Bearer token checks and their challenges"
    LINKS = "ice-server Link headers"
    METHODS = "GET/HEAD, OPTIONS, 405/501 and Allow"
    CREATED = "the 201 to an endpoint POST"
    ANSWER = "the SDP answer in the 201"
    SERVER_OFFER = "the 201/406 that carries the server's offer"
    TRICKLE = "session PATCH (trickle ICE) and its reply"
    RESTART = "session PATCH that restarts ICE, and its 200"
    ANSWER_PATCH = "session PATCH carrying the player's SDP answer"
    DELETE = "DELETE on a session or the publish URL"
    EXTENSION_LINKS = "extension Links (WHIP extensions, WHEP events/layers) and their resources"
    # behaviour hooks
    OFFER = "how an endpoint POST's offer is judged (hook: offer checks)"
    SESSION = "session life cycle: ids, ICE agent, consent, expiry (hook: session)"
    EVENTS = "WHEP server-sent events and layer selection (hook: events)"
    RELAY = "media forwarding (hook: relay)"
    API = "the live-input API (hook: api)"


class Fault(enum.Enum):
    """One named defect: `value` is its `--fault` name, `kind` where it acts, `help` what it breaks."""

    kind: Kind
    help: str

    def __new__(cls, name: str, kind: Kind, help: str) -> "Fault":
        member = object.__new__(cls)
        member._value_ = name
        member.kind = kind
        member.help = help
        return member

    def __str__(self) -> str:
        return self.value

    # WHIP / WHEP POST
    POST_STATUS_200 = ('post-status-200', Kind.CREATED,
        'answer a successful WHIP/WHEP POST with 200 instead of 201')
    NO_LOCATION = ('no-location', Kind.CREATED,
        'leave the Location header out of the 201')
    LOCATION_PLAIN_HTTP = ('location-plain-http', Kind.CREATED,
        'send an absolute http:// Location (under --tls: a downgrade from the https POST)')
    BROKEN_RELATIVE_LOCATION = ('broken-relative-location', Kind.CREATED,
        'send a relative Location that resolves to no session')
    ANSWER_CONTENT_TYPE = ('answer-content-type', Kind.CREATED,
        'type the SDP answer text/plain')
    ETAG_WEAK = ('etag-weak', Kind.CREATED,
        'send a weak entity-tag (W/"...") in ETag')
    ETAG_CARRIES_ICE_CREDENTIALS = ('etag-carries-ice-credentials', Kind.CREATED,
        'make a session\'s ETag "ice-ufrag:ice-pwd" of its answer (a real server did)')
    ANSWER_WRONG_DIRECTION = ('answer-wrong-direction', Kind.ANSWER,
        'answer with a=sendrecv instead of recvonly (WHIP) / sendonly (WHEP)')
    ANSWER_DROPS_MLINE = ('answer-drops-mline', Kind.ANSWER,
        'leave the last m-section out of the answer')
    ANSWER_NO_BUNDLE = ('answer-no-bundle', Kind.ANSWER,
        'leave a=group:BUNDLE out of the answer')
    ANSWER_NO_RTCP_MUX = ('answer-no-rtcp-mux', Kind.ANSWER,
        'leave a=rtcp-mux out of the answer')
    ANSWER_RTCP_MUX_ONLY = ('answer-rtcp-mux-only', Kind.ANSWER,
        "add a=rtcp-mux-only to the answer's m-sections (RFC 8858 keeps it to offers)")
    ANSWER_MSID_SPLIT = ('answer-msid-split', Kind.ANSWER,
        'give each m-section of the answer its own msid stream id')
    ANSWER_SETUP_ACTPASS = ('answer-setup-actpass', Kind.ANSWER,
        'answer with a=setup:actpass')
    ANSWER_NO_CANDIDATES = ('answer-no-candidates', Kind.ANSWER,
        'leave every a=candidate out of the answer')
    ANSWER_UNREACHABLE_CANDIDATES = ('answer-unreachable-candidates', Kind.ANSWER,
        'advertise candidates on a port nobody listens on, and shut the ICE agent after answering')
    ACCEPT_ANY_CONTENT_TYPE = ('accept-any-content-type', Kind.OFFER,
        'accept a POST whatever its Content-Type')
    MALFORMED_SDP_500 = ('malformed-sdp-500', Kind.OFFER,
        'answer malformed SDP with 500 instead of a 4xx')
    ANSWER_UNSPECIFIED_CANDIDATE = ('answer-unspecified-candidate', Kind.ANSWER,
        "add a candidate on 0.0.0.0 port 0 to the answer's first m-section")
    ANSWER_SINGLE_CODEC = ('answer-single-codec', Kind.ANSWER,
        "cut each answer's video section down to its first codec (and that codec's RTX)")
    OFFER_WITHOUT_CANDIDATES_REFUSED = ('offer-without-candidates-refused', Kind.OFFER,
        'refuse (400) an offer that carries no candidates')
    CONFLICT_WITHOUT_RETRY_AFTER = ('conflict-without-retry-after', Kind.OFFER,
        'with --require-publisher, refuse playback before publication with 409 but no Retry-After')
    RETRY_AFTER_HTTP_DATE = ('retry-after-http-date', Kind.OFFER,
        "with --require-publisher, give the 409's Retry-After as an HTTP-date, not seconds")
    # WHEP extensions (server-sent events, layer selection)
    EXTENSION_LINKS_COMBINED = ('extension-links-combined', Kind.EXTENSION_LINKS,
        'announce both WHEP extensions in one Link with two rels')
    LAYER_WITHOUT_SSE = ('layer-without-sse', Kind.EXTENSION_LINKS,
        'announce layer selection without the server-sent-events extension')
    SSE_EVENTS_WITHOUT_LAYERS = ('sse-events-without-layers', Kind.EXTENSION_LINKS,
        "leave layers out of the SSE Link's events while announcing layer selection")
    SSE_POST_NO_LOCATION = ('sse-post-no-location', Kind.EVENTS,
        'answer the POST that opens an event stream 201 without a Location')
    SSE_UNKNOWN_EVENT_ACCEPTED = ('sse-unknown-event-accepted', Kind.EVENTS,
        'open an event stream for event types the server does not support')
    SSE_IGNORES_SUBSCRIPTION = ('sse-ignores-subscription', Kind.EVENTS,
        'send every event on every stream, whatever types it was opened for')
    SSE_MULTILINE_DATA = ('sse-multiline-data', Kind.EVENTS,
        "spread each event's JSON over two data lines")
    SSE_INITIAL_INACTIVE = ('sse-initial-inactive', Kind.EVENTS,
        'send an inactive event to a new stream when nothing is being published')
    SSE_STREAM_SURVIVES_DELETE = ('sse-stream-survives-delete', Kind.EVENTS,
        'answer DELETE on an event stream 200 but keep serving it')
    SSE_URL_MISSING = ('sse-url-missing', Kind.EXTENSION_LINKS,
        'point the SSE Link at a URL that does not exist')
    SSE_LINK_NO_EVENTS = ('sse-link-no-events', Kind.EXTENSION_LINKS,
        'leave the events parameter out of the SSE Link')
    SSE_DATA_NOT_JSON = ('sse-data-not-json', Kind.EVENTS,
        'send event data as plain text, not JSON')
    SSE_NO_INACTIVE = ('sse-no-inactive', Kind.EVENTS,
        'never send inactive when the publication stops')
    VIEWERCOUNT_AS_TEXT = ('viewercount-as-text', Kind.EVENTS,
        'send the viewer count as a JSON string')
    SSE_OPEN_AFTER_SESSION_END = ('sse-open-after-session-end', Kind.EVENTS,
        'leave open event streams hanging when their WHEP session ends')
    LAYERS_WITHOUT_IDS = ('layers-without-ids', Kind.EVENTS,
        'send layer objects with none of rid, spatialLayerId, temporalLayerId')
    LAYER_SELECTION_ACCEPTS_ANYTHING = ('layer-selection-accepts-anything', Kind.EVENTS,
        'answer 200 to a request for a layer that does not exist')
    WHIP_EXT_ANNOUNCED_LATE = ('whip-ext-announced-late', Kind.EXTENSION_LINKS,
        "announce a WHIP extension on the session URL's OPTIONS response but not on the 201")
    WHIP_EXT_LINK_DANGLING = ('whip-ext-link-dangling', Kind.EXTENSION_LINKS,
        'announce a WHIP extension on the 201 whose Link target does not exist (404)')
    WHIP_EXT_LINK_TWO_RELS = ('whip-ext-link-two-rels', Kind.EXTENSION_LINKS,
        'announce two WHIP extensions on the 201 in one Link (rel with two URNs)')
    WHIP_EXT_REQUIRED = ('whip-ext-required', Kind.EXTENSION_LINKS,
        'announce a WHIP extension on the 201 and forward no media until its URL has been requested')
    SIMULCAST_UNSUPPORTED = ('simulcast-unsupported', Kind.ANSWER,
        'answer a simulcast offer without a=simulcast (one stream), as a server without simulcast does')
    SIMULCAST_ANSWER_NOT_REVERSED = ('simulcast-answer-not-reversed', Kind.ANSWER,
        'accept simulcast with a=simulcast:send and a=rid ... send in the answer, as offered')
    SIMULCAST_ANSWER_ADDS_RID = ('simulcast-answer-adds-rid', Kind.ANSWER,
        'accept simulcast with an extra rid-id the offer did not send')
    PLAYBACK_NEEDS_SSE = ('playback-needs-sse', Kind.RELAY,
        'send a viewer no media until it has an event stream open')
    BEARER_REFUSED = ('bearer-refused', Kind.AUTH,
        'refuse every request with 401, the right Bearer token included')
    TURN_LINK_NO_CREDENTIAL = ('turn-link-no-credential', Kind.LINKS,
        'advertise the TURN server in Link without its credential')
    NO_ICE_SERVER_LINKS = ('no-ice-server-links', Kind.LINKS,
        'send no ice-server Links on the 201')
    NO_LINKS_ON_OPTIONS = ('no-links-on-options', Kind.LINKS,
        'send no ice-server Links on plain OPTIONS either')
    NO_ACCEPT_PATCH = ('no-accept-patch', Kind.CREATED,
        'leave Accept-Patch out of the 201')
    COUNTER_OFFER_NO_VALID_UNTIL = ('counter-offer-no-valid-until', Kind.SERVER_OFFER,
        'type the 406 counter-offer application/sdp without valid-until')
    PATCH_AFTER_DELETE_204 = ('patch-after-delete-204', Kind.TRICKLE,
        'answer 204 to a PATCH on a session that does not exist (any more)')
    ANSWER_ICE_LITE = ('answer-ice-lite', Kind.ANSWER,
        'mark the answer a=ice-lite (a lite ICE implementation)')
    ANSWER_IS_OFFER = ('answer-is-offer', Kind.ANSWER,
        'answer WHIP/WHEP offers with an SDP offer: a=setup:actpass and a format-less m=video 9')
    NEEDS_PUBLISHER_500 = ('needs-publisher-500', Kind.OFFER,
        'answer a WHEP POST for an input nobody publishes 500 instead of 409 + Retry-After (as janus-whep-server in VideoRoom mode does)')
    WHEP_POST_500 = ('whep-post-500', Kind.OFFER,
        'answer every WHEP offer POST with 500 Internal Server Error')
    COUNTER_OFFER_ALWAYS = ('counter-offer-always', Kind.OFFER,
        'under draft-ietf-wish-whep-03, refuse every WHEP offer with a 406 counter-offer (as janus-whep-server in VideoRoom mode does)')
    COUNTER_OFFER_UNREAD = ('counter-offer-unread', Kind.OFFER,
        "under draft-ietf-wish-whep-03, answer every WHEP POST whose body has 'v=0' with a 406 counter-offer without reading the offer, malformed ones included (janus-whep-server 1.1.0 in VideoRoom mode: src/whep.js:257 looks for 'v=0' only, :316 always server-offers)")
    BARE_406 = ('bare-406', Kind.OFFER,
        'refuse every WHEP offer with a bare 406 Not Acceptable: problem details, no SDP counter-offer (WHEP PR #40 keeps 406 for counter-offers)')
    ANSWER_SHAPED_OFFER_500 = ('answer-shaped-offer-500', Kind.OFFER,
        'answer a WHEP POST whose m-sections do not receive (sendonly/inactive, as an answer of the server\'s is) 500 instead of 400')
    NEEDS_MEDIA_500 = ('needs-media-500', Kind.OFFER,
        "answer a WHEP POST 500 until the input's publisher has connected its media (janus-whep-server in VideoRoom mode: a room feed exists only once the publisher's PeerConnection is up)")
    ACTIVE_OFFER_REFUSED_403 = ('active-offer-refused-403', Kind.OFFER,
        'refuse WHIP offers with a=setup:active with 403 instead of 422/400')
    RETRY_AFTER_JUNK = ('retry-after-junk', Kind.OFFER,
        'with --require-publisher, give the 409 a Retry-After that is neither seconds nor a date')
    REDIRECT_302 = ('redirect-302', Kind.OFFER,
        'with --redirect, send endpoint POSTs on with 302 Found instead of 307')
    ERRORS_PLAIN_TEXT = ('errors-plain-text', Kind.ERRORS,
        'explain 4xx/5xx in plain text instead of RFC 9457 problem details')
    PROBLEM_STATUS_MISMATCH = ('problem-status-mismatch', Kind.ERRORS,
        "give problem details a 'status' member other than the response's status")
    DIES_AFTER_12_POSTS = ('dies-after-12-posts', Kind.OFFER,
        'exit the server process on the 13th WHIP/WHEP endpoint POST (a target that dies mid-run)')
    # methods, OPTIONS, CORS, Link
    GET_405_EVERYWHERE = ('get-405-everywhere', Kind.METHODS,
        'answer GET/HEAD with 405 whatever the profile (RFC 9725 wants 2xx)')
    GET_2XX_EVERYWHERE = ('get-2xx-everywhere', Kind.METHODS,
        'answer GET/HEAD with 2xx whatever the profile (the drafts want 405)')
    S405_WITHOUT_ALLOW = ('405-without-allow', Kind.METHODS,
        'send 405 without an Allow header')
    ALLOW_LISTS_GET = ('allow-lists-get', Kind.METHODS,
        'list GET and HEAD in Allow and Access-Control-Allow-Methods even where they get 405 (the drafts)')
    UNSUPPORTED_METHOD_404 = ('unsupported-method-404', Kind.METHODS,
        'answer POST on a session URL and PUT anywhere 404, as a router without that route does')
    HEAD_DIFFERS = ('head-differs', Kind.METHODS,
        'answer HEAD with 404 while GET succeeds')
    # WHEP endpoint URL discoverability (the editor's copy after draft-ietf-wish-whep-03, §4.2)
    HEAD_405 = ('head-405', Kind.METHODS,
        'answer HEAD on a WHEP endpoint 405 (Allow without HEAD) while GET gets its 200')
    HEAD_WRONG_TYPE = ('head-wrong-type', Kind.METHODS,
        'type the answer to HEAD on a WHEP endpoint text/html, not application/sdp (GET keeps application/sdp)')
    HEAD_MISSING_HEADER = ('head-missing-header', Kind.METHODS,
        'leave Access-Control-Allow-Origin, which GET carries, off the answer to HEAD on a WHEP endpoint '
        '(a CORS layer set up for GET and POST only)')
    HEAD_WITH_BODY = ('head-with-body', Kind.METHODS,
        'write bytes after the header section of the answer to HEAD on a WHEP endpoint')
    PREFLIGHT_NEEDS_AUTH = ('preflight-needs-auth', Kind.AUTH,
        'refuse CORS preflights without the Bearer token')
    NO_ACCEPT_POST = ('no-accept-post', Kind.METHODS,
        'leave Accept-Post out of OPTIONS responses')
    CORS_NO_EXPOSE = ('cors-no-expose', Kind.HEADERS,
        'expose no response headers to browsers (no Access-Control-Expose-Headers)')
    LINKS_ON_PREFLIGHT = ('links-on-preflight', Kind.LINKS,
        'send ice-server Links on CORS preflights too')
    BROKEN_LINK_SYNTAX = ('broken-link-syntax', Kind.LINKS,
        'send ice-server Links without <> and with name: value parameters')
    DELETE_CHECKS_IF_MATCH = ('delete-checks-if-match', Kind.DELETE,
        'refuse a DELETE whose If-Match does not match with 412')
    # trickle ICE by PATCH
    TRICKLE_IGNORES_IF_MATCH = ('trickle-ignores-if-match', Kind.TRICKLE,
        'apply a trickle PATCH whatever its If-Match says')
    TRICKLE_CANDIDATES_DISCARDED = ('trickle-candidates-discarded', Kind.TRICKLE,
        'answer a valid trickle PATCH 204 but throw its candidates away')
    TRICKLE_NO_428 = ('trickle-no-428', Kind.TRICKLE,
        'apply a trickle PATCH that has no If-Match')
    WILDCARD_IF_MATCH_REFUSED = ('wildcard-if-match-refused', Kind.TRICKLE,
        'answer a trickle PATCH with If-Match: * with 412')
    TRICKLE_204_WITH_ETAG = ('trickle-204-with-etag', Kind.TRICKLE,
        'send an ETag on the 204 to a trickle PATCH')
    TRICKLE_STATUS_200 = ('trickle-status-200', Kind.TRICKLE,
        'answer a trickle PATCH with 200 and a body')
    PATCH_ANY_CONTENT_TYPE = ('patch-any-content-type', Kind.TRICKLE,
        'accept a PATCH whatever its Content-Type')
    PATCH_MALFORMED_500 = ('patch-malformed-500', Kind.TRICKLE,
        'answer a malformed sdpfrag with 500')
    TRICKLE_REJECTS_ODD_CANDIDATES = ('trickle-rejects-odd-candidates', Kind.TRICKLE,
        'refuse (400) a fragment holding a TCP or mDNS candidate')
    RESTART_AS_TRICKLE = ('restart-as-trickle', Kind.RESTART,
        'answer a PATCH with new ICE credentials 204, as if it were a trickle')
    RESTART_FAKED = ('restart-faked', Kind.RESTART,
        'answer an ICE restart 200 with new credentials and candidates, but keep the old ICE agent')
    RESTART_UNSUPPORTED = ('restart-unsupported', Kind.RESTART,
        'refuse ICE restarts as a trickle-only session does (422, or 405 under the drafts)')
    RESTART_REFUSED_501 = ('restart-refused-501', Kind.RESTART,
        'refuse ICE restarts with 501 whatever the profile (RFC 9725 and whep-03 want 422)')
    RESTART_500 = ('restart-500', Kind.RESTART,
        "answer every ICE restart PATCH 500 (Meetecho's simple-whip-server when Janus refuses the restart)")
    TRICKLE_ALWAYS_412 = ('trickle-always-412', Kind.TRICKLE,
        "answer every trickle PATCH 412, the session's own entity-tag included")
    RESTART_ANSWER_OLD_CREDENTIALS = ('restart-answer-old-credentials', Kind.RESTART,
        "answer an ICE restart 200 with the answer's old ice-ufrag/ice-pwd")
    RESTART_OLD_CANDIDATES_KEPT = ('restart-old-candidates-kept', Kind.RESTART,
        'after an ICE restart connects, keep the old sockets open and answering checks')
    RESTART_KEEPS_ETAG = ('restart-keeps-etag', Kind.RESTART,
        "answer an ICE restart 200 with the session's old ETag, which stays current")
    RESTART_ANSWER_MALFORMED = ('restart-answer-malformed', Kind.RESTART,
        'answer an ICE restart 200 with a body whose candidate lines break the sdpfrag grammar')
    RESTART_ANSWER_CLAIMS_ICE_LITE = ('restart-answer-claims-ice-lite', Kind.RESTART,
        "put a=ice-lite in the restart's 200 although the answer had none")
    PATCH_AFTER_DELETE_500 = ('patch-after-delete-500', Kind.TRICKLE,
        'answer a PATCH of a deleted (or never-issued) session with 500')
    S204_WITH_CONTENT = ('204-with-content', Kind.TRICKLE,
        "write bytes after the header section of a trickle PATCH's 204 No Content")
    SDP_PATCH_422 = ('sdp-patch-422', Kind.TRICKLE,
        'answer a WHEP PATCH typed application/sdp on a session with no offer pending 422 (as janus-whep-server does)')
    PATCH_WRONG_TYPE_400 = ('patch-wrong-type-400', Kind.TRICKLE,
        'answer a PATCH of another media type with 400 (no Accept-Patch) instead of 415')
    PATCH_MALFORMED_422 = ('patch-malformed-422', Kind.TRICKLE,
        'answer a malformed trickle-ice-sdpfrag with 422 instead of 400')
    CONCURRENT_PATCH_409 = ('concurrent-patch-409', Kind.TRICKLE,
        'hold each trickle PATCH 300 ms and refuse (409) another one for the session meanwhile')
    TRICKLE_REPEAT_400 = ('trickle-repeat-400', Kind.TRICKLE,
        'refuse (400) a trickle PATCH that repeats a candidate the session already has')
    NO_PATCH_400 = ('no-patch-400', Kind.TRICKLE,
        "with PATCH switched off (--no-patch), answer PATCH with 400 instead of the profile's 501/405")
    MALFORMED_PATCH_ENDS_SESSION = ('malformed-patch-ends-session', Kind.TRICKLE,
        'end the session when a PATCH body is malformed (a failed restart must not)')
    # codecs
    ANSWER_UNOFFERED_CODEC = ('answer-unoffered-codec', Kind.ANSWER,
        'add a video format the offer did not have (AV1, payload type 119) to the answer')
    ANSWER_H264_PROFILE_CHANGED = ('answer-h264-profile-changed', Kind.ANSWER,
        'answer H.264 42e01f offers with profile-level-id 640c1f (High)')
    ANSWER_RENUMBERS_PAYLOAD_TYPES = ('answer-renumbers-payload-types', Kind.ANSWER,
        "answer video formats under payload types 10 above the offer's")
    NO_VP9 = ('no-vp9', Kind.OFFER,
        'treat VP9 as an unknown codec (drop it from offers before negotiating)')
    VP9_NEVER_FORWARDED = ('vp9-never-forwarded', Kind.RELAY,
        'negotiate VP9 but forward none of its packets to viewers')
    MEDIA_DELAYED = ('media-delayed', Kind.RELAY,
        'hold every forwarded packet back 700 ms (a relay with a deep buffer)')
    VIDEO_PAUSES = ('video-pauses', Kind.RELAY,
        "drop the publisher's video for 0.6 s in every 3 s (about 20% of frames lost, a freeze each time)")
    MEDIA_STOPS_AFTER_5S = ('media-stops-after-5s', Kind.RELAY,
        'stop forwarding media to a viewer 5 s after it connected (its session stays up)')
    CONSENT_ANSWERED_BRIEFLY = ('consent-answered-briefly', Kind.SESSION,
        'stop answering ICE consent checks (STUN Binding requests) 2 s after a session connected')
    # WHEP server offer (draft-murillo-whep-01 §4.2) and counter-offer (draft-ietf-wish-whep-03 §4.2.2)
    NO_SERVER_OFFER = ('no-server-offer', Kind.OFFER,
        'treat an empty POST as an untyped offer (415) instead of answering it with a server offer')
    SERVER_OFFER_NO_EXPIRES = ('server-offer-no-expires', Kind.SERVER_OFFER,
        'leave Expires out of the 201 that carries a server offer')
    COUNTER_OFFER_NO_LOCATION = ('counter-offer-no-location', Kind.SERVER_OFFER,
        'leave Location out of the 406 that carries a counter-offer')
    SERVER_OFFER_RECVONLY = ('server-offer-recvonly', Kind.SERVER_OFFER,
        "make the server's offers (201 or 406) say a=recvonly")
    SERVER_OFFER_NO_BUNDLE_ONLY = ('server-offer-no-bundle-only', Kind.SERVER_OFFER,
        "leave a=bundle-only out of the server's offers")
    SERVER_OFFER_NO_RTCP_MUX_ONLY = ('server-offer-no-rtcp-mux-only', Kind.SERVER_OFFER,
        "leave a=rtcp-mux-only out of the server's offers")
    ANSWER_PATCH_200 = ('answer-patch-200', Kind.ANSWER_PATCH,
        "answer the PATCH that carries the player's SDP answer with 200 instead of 204")
    ANSWER_PATCH_NO_ETAG = ('answer-patch-no-etag', Kind.ANSWER_PATCH,
        "send no ETag with the reply to the PATCH that carries the player's SDP answer")
    MALFORMED_ANSWER_ACCEPTED = ('malformed-answer-accepted', Kind.ANSWER_PATCH,
        'answer a PATCH of malformed SDP to a server offer with 204')
    SERVER_OFFER_NEVER_EXPIRES = ('server-offer-never-expires', Kind.SESSION,
        "keep an unanswered server offer's session past its Expires time")
    SERVER_OFFERED_MEDIA_NEVER_FORWARDED = ('server-offered-media-never-forwarded', Kind.SESSION,
        'after the answer to a server offer, forward no media to that viewer')
    # offers the endpoint must judge
    SENDRECV_REFUSED = ('sendrecv-refused', Kind.OFFER,
        'refuse WHIP offers that say a=sendrecv (400)')
    TRACK_LIMIT_403 = ('track-limit-403', Kind.OFFER,
        'refuse offers with too many tracks with 403 instead of 422/400')
    UNUSABLE_OFFER_403 = ('unusable-offer-403', Kind.OFFER,
        'refuse a WHIP offer it cannot negotiate (e.g. an unknown codec) with 403 instead of 422/400')
    UNUSABLE_SECTION_REJECTED = ('unusable-section-rejected', Kind.OFFER,
        'answer a WHIP offer whose video codec is unknown 201, with the video m-section rejected (port 0)')
    ACTIVE_ANSWERED_ACTIVE = ('active-answered-active', Kind.ANSWER,
        'answer an a=setup:active offer with a=setup:active')
    UNKNOWN_METHOD_400 = ('unknown-method-400', Kind.METHODS,
        'answer a request with a method nobody defined (e.g. WHIPCHECK) 400 instead of 501')
    SEQUENTIAL_SESSION_IDS = ('sequential-session-ids', Kind.SESSION,
        'number sessions 1, 2, 3… instead of using random ids')
    # teardown
    DELETE_REFUSED = ('delete-refused', Kind.DELETE,
        'answer DELETE on a session with 405')
    SESSION_REDIRECTS = ('session-redirects', Kind.DELETE,
        'answer DELETE on a session with a 307 to the same URL')
    DTLS_CLOSE_IGNORED = ('dtls-close-ignored', Kind.SESSION,
        'keep a session whose client closed DTLS (close_notify) or whose ICE failed, instead of ending it')
    DELETE_KEEPS_SESSION = ('delete-keeps-session', Kind.DELETE,
        'answer DELETE with 200 but keep the session (a second DELETE succeeds)')
    UNKNOWN_SESSION_200 = ('unknown-session-200', Kind.DELETE,
        'answer DELETE on a never-issued session with 200')
    # media relay
    MEDIA_NEVER_FORWARDED = ('media-never-forwarded', Kind.RELAY,
        'negotiate viewers but forward no RTP to them')
    AUDIO_NEVER_FORWARDED = ('audio-never-forwarded', Kind.RELAY,
        "forward the publisher's video to viewers but none of its audio")
    NO_KEYFRAME_ON_JOIN = ('no-keyframe-on-join', Kind.RELAY,
        "neither request a keyframe for a joining viewer nor pass viewers' PLI/FIR upstream")
    NO_GOP_CACHE = ('no-gop-cache', Kind.RELAY,
        "start a joining viewer at the publisher's next keyframe (requested) instead of from the cached last one")
    WRONG_SSRC_REWRITE = ('wrong-ssrc-rewrite', Kind.RELAY,
        "forward RTP with the publisher's SSRC instead of the one signalled to the viewer")
    WRONG_PAYLOAD_TYPE = ('wrong-payload-type', Kind.RELAY,
        'forward video under the payload type of another codec the viewer offered')
    VIEWER_DELETE_ENDS_ALL = ('viewer-delete-ends-all', Kind.DELETE,
        'a DELETE of one viewer ends every viewer of the live input')
    NACK_IGNORED = ('nack-ignored', Kind.RELAY,
        "drop viewers' NACKs instead of retransmitting from the history")
    NACK_NEEDS_REPORTS = ('nack-needs-reports', Kind.RELAY,
        "ignore a viewer's NACKs until its second RTCP receiver report (Janus 1.4.2 keeps no retransmission buffer until an RR gives it a round-trip time: src/ice.c:3140-3155, 5009)")
    # auth
    AUTH_IGNORED = ('auth-ignored', Kind.AUTH,
        'accept WHIP/WHEP requests without the Bearer token')
    NO_WWW_AUTHENTICATE = ('no-www-authenticate', Kind.AUTH,
        'send 401 without WWW-Authenticate')
    BASIC_CHALLENGE = ('basic-challenge', Kind.AUTH,
        'challenge with WWW-Authenticate: Basic instead of Bearer')
    AUTH_403_NO_CHALLENGE = ('auth-403-no-challenge', Kind.AUTH,
        'refuse a missing or wrong Bearer token with 403 and no WWW-Authenticate (as simple-whip-server does)')
    WRONG_TOKEN_403 = ('wrong-token-403', Kind.AUTH,
        'refuse a wrong Bearer token with 403 and error="insufficient_scope" instead of 401 invalid_token')
    # product brief
    SECOND_PUBLISHER_ACCEPTED = ('second-publisher-accepted', Kind.OFFER,
        'accept a second publisher while one is live')
    NO_PROTOCOL_VERSION = ('no-protocol-version', Kind.HEADERS,
        'send no protocol-version header')
    API_NO_ENVELOPE = ('api-no-envelope', Kind.API,
        'return the live input without the v4 envelope')
    API_LIST_MISSING = ('api-list-missing', Kind.API,
        'leave new live inputs out of the collection listing')
    API_DELETE_KEEPS_INPUT = ('api-delete-keeps-input', Kind.API,
        'answer DELETE on a live input with 200 but keep it')
    SECRET_IS_UID = ('secret-is-uid', Kind.API,
        "use the input's uid as the publish secret")
    PUBLISH_URL_DELETE_KEEPS_PUBLISHER = ('publish-url-delete-keeps-publisher', Kind.DELETE,
        'answer DELETE on the publish URL 200 (Cloudflare profile) but keep the publisher live')
    # proof per requirement (issue 20): requirements a clean run grades that no other fault showed failing
    ANSWER_PATCH_REFUSED = ('answer-patch-refused', Kind.ANSWER_PATCH,
        "refuse (400) the PATCH that carries the player's SDP answer to a server offer")
    PREFLIGHT_REFUSED = ('preflight-refused', Kind.METHODS,
        'answer every CORS preflight 403, whether a token is required or not')
    COUNTER_OFFER_VALID_UNTIL_SECONDS = ('counter-offer-valid-until-seconds', Kind.SERVER_OFFER,
        'type the 406 counter-offer valid-until="30" (seconds) instead of an HTTP-date')
    MALFORMED_PATCH_ACCEPTED = ('malformed-patch-accepted', Kind.TRICKLE,
        'answer a malformed trickle-ice-sdpfrag (e.g. a restart with a 2-character ice-ufrag) 204, as if applied')
    ANSWER_REJECTS_EVERY_SECTION = ('answer-rejects-every-section', Kind.ANSWER,
        'answer every m-section with port 0 (rejected): the answer accepts no track')
    ANSWER_AUDIO_AS_VIDEO = ('answer-audio-as-video', Kind.ANSWER,
        "turn the answer's m=audio into m=video: two tracks of one kind")
    LAYER_LINK_NAMES_THE_URN = ('layer-link-names-the-urn', Kind.EXTENSION_LINKS,
        "point the layer selection Link at its own rel URN instead of the layer-selection URL")
    MEDIA_STOPS_AFTER_RESTART = ('media-stops-after-restart', Kind.RELAY,
        'forward no media of (WHIP) or to (WHEP) a session once it has restarted ICE')


# The `--fault NAME` names and their help (kept for readers of the old mapping: plugin, tests).
FAULTS: dict[str, str] = {fault.value: fault.help for fault in Fault}


class ActiveFaults(frozenset):
    """The faults a server runs with. Membership takes a `Fault` only: a string (a misspelling waiting
    to happen) is a TypeError rather than a silent False."""

    def __contains__(self, fault: object) -> bool:
        if not isinstance(fault, Fault):
            raise TypeError(f"ActiveFaults holds Fault members, not {fault!r}")
        return super().__contains__(fault)

    @classmethod
    def named(cls, names: Iterable[str]) -> "ActiveFaults":
        """The faults `names` (as given to --fault); ValueError names the unknown ones."""
        names = list(names)
        check(names)
        return cls(Fault(name) for name in names)


def check(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return names


def rewrite_answer(answer: str, active: ActiveFaults) -> str:
    """Apply the answer-shaping faults to an SDP answer the server built correctly."""
    if Fault.ANSWER_WRONG_DIRECTION in active:
        answer = re.sub(r"^a=(recvonly|sendonly)\r?$", "a=sendrecv\r", answer, flags=re.MULTILINE)
    if Fault.ANSWER_DROPS_MLINE in active:
        parts = re.split(r"(?=^m=)", answer, flags=re.MULTILINE)
        if len(parts) > 2:
            answer = "".join(parts[:-1])
    if Fault.ANSWER_NO_BUNDLE in active:
        answer = re.sub(r"^a=group:BUNDLE[^\r\n]*\r?\n", "", answer, flags=re.MULTILINE)
    if Fault.ANSWER_NO_RTCP_MUX in active:
        answer = re.sub(r"^a=rtcp-mux\r?\n", "", answer, flags=re.MULTILINE)
    if Fault.ANSWER_SETUP_ACTPASS in active:
        answer = re.sub(r"^a=setup:\w+", "a=setup:actpass", answer, flags=re.MULTILINE)
    if Fault.ANSWER_NO_CANDIDATES in active:
        answer = re.sub(r"^a=(candidate:|end-of-candidates)[^\r\n]*\r?\n", "", answer, flags=re.MULTILINE)
    if Fault.ANSWER_UNREACHABLE_CANDIDATES in active:
        answer = re.sub(
            r"^(a=candidate:\S+ \d+ \S+ \d+ \S+ )(\d+)",
            lambda m: m.group(1) + "9",
            answer,
            flags=re.MULTILINE,
        )
    if Fault.ANSWER_IS_OFFER in active:  # seen from a real server: its own offer sent back as the "answer"
        answer = re.sub(r"^a=setup:\w+", "a=setup:actpass", answer, flags=re.MULTILINE)
        answer = re.sub(r"^m=video \S+ (\S+)[^\r\n]*", r"m=video 9 \1", answer, flags=re.MULTILINE)
    if Fault.ANSWER_ICE_LITE in active:
        answer = re.sub(r"^(t=[^\r\n]*\r?\n)", r"\1a=ice-lite\r\n", answer, count=1, flags=re.MULTILINE)
    if Fault.SIMULCAST_ANSWER_NOT_REVERSED in active:
        answer = re.sub(r"^a=(simulcast:|rid:\S+ )recv", r"a=\1send", answer, flags=re.MULTILINE)
    if Fault.SIMULCAST_ANSWER_ADDS_RID in active:
        answer = re.sub(r"^a=simulcast:recv ([^\r\n]*)", r"a=rid:extra recv\r\na=simulcast:recv \1;extra", answer, flags=re.MULTILINE)
    if Fault.ANSWER_RTCP_MUX_ONLY in active:
        answer = re.sub(r"^a=rtcp-mux\r?$", "a=rtcp-mux\r\na=rtcp-mux-only\r", answer, flags=re.MULTILINE)
    if Fault.ANSWER_REJECTS_EVERY_SECTION in active:
        answer = re.sub(r"^m=(\w+) \d+", r"m=\1 0", answer, flags=re.MULTILINE)
    if Fault.ANSWER_AUDIO_AS_VIDEO in active:
        answer = re.sub(r"^m=audio ", "m=video ", answer, flags=re.MULTILINE)
    if Fault.ANSWER_MSID_SPLIT in active:
        count = iter(range(1000))
        answer = re.sub(r"^a=msid:(\S+)", lambda m: f"a=msid:{m.group(1)}-{next(count)}", answer, flags=re.MULTILINE)
    if Fault.ANSWER_UNOFFERED_CODEC in active:
        answer = re.sub(r"^(m=video \S+ \S+)([^\r\n]*)(\r?\n)", r"\1\2 119\3a=rtpmap:119 AV1/90000\3", answer, count=1, flags=re.MULTILINE)
    if Fault.ANSWER_H264_PROFILE_CHANGED in active:
        answer = re.sub(r"profile-level-id=42e01f", "profile-level-id=640c1f", answer, flags=re.IGNORECASE)
    if Fault.ANSWER_RENUMBERS_PAYLOAD_TYPES in active:
        answer = _renumber_video(answer, 10)
    if Fault.ANSWER_UNSPECIFIED_CANDIDATE in active:
        answer = re.sub(r"^(a=candidate:[^\r\n]*)(\r?\n)", r"\1\2a=candidate:99 1 udp 1 0.0.0.0 0 typ host\2", answer,
                        count=1, flags=re.MULTILINE)
    if Fault.ANSWER_SINGLE_CODEC in active:
        video = next((m for m in sdp.SessionDescription.parse(answer).media if m.kind == "video"), None)
        names = [c.name for c in video.codecs if not c.is_repair] if video else []
        for name in dict.fromkeys(names[1:]):
            if name.lower() != names[0].lower():
                answer = sdp.without_format(answer, name)
    return answer


def _renumber_video(text: str, shift: int) -> str:
    """The video m-section with every payload type number (m= line, a=rtpmap/fmtp/rtcp-fb, apt=) moved by `shift`."""

    def move(section: str) -> str:
        if not section.startswith("m=video"):
            return section
        first, _, rest = section.partition("\n")
        fields = first.rstrip("\r").split(" ")
        moved = " ".join(fields[:3] + [str(int(p) + shift) for p in fields[3:]])
        rest = re.sub(r"^(a=(?:rtpmap|fmtp|rtcp-fb):)(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + shift), rest, flags=re.MULTILINE)
        rest = re.sub(r"apt=(\d+)", lambda m: f"apt={int(m.group(1)) + shift}", rest)
        return moved + ("\r" if first.endswith("\r") else "") + "\n" + rest

    return sdp.rewrite_sections(text, move)


# No WHIP extension is registered yet (RFC 9725 §6.4) and the reference server supports none: only
# a faulty server announces this one, at `<session URL>/ext`.
PROBE_EXTENSION = f"{WHIP_EXTENSIONS}:example:probe"
PROBE_RESOURCE_FAULTS = {Fault.WHIP_EXT_ANNOUNCED_LATE, Fault.WHIP_EXT_LINK_TWO_RELS, Fault.WHIP_EXT_REQUIRED}  # `/ext` exists


def whip_extension_links(session_path: str, active: ActiveFaults, on_201: bool) -> list[str]:
    """The WHIP extension Links the whip-ext-* faults send: on the 201 (`on_201`) or on the session's OPTIONS."""
    if not on_201:
        return [format_link(Link(f"{session_path}/ext", {"rel": PROBE_EXTENSION}))] if Fault.WHIP_EXT_ANNOUNCED_LATE in active else []
    if Fault.WHIP_EXT_LINK_DANGLING in active:
        return [format_link(Link(f"{session_path}/no-such-extension", {"rel": PROBE_EXTENSION}))]
    if Fault.WHIP_EXT_LINK_TWO_RELS in active:
        return [format_link(Link(f"{session_path}/ext", {"rel": f"{PROBE_EXTENSION} {PROBE_EXTENSION}-2"}))]
    if Fault.WHIP_EXT_REQUIRED in active:
        return [format_link(Link(f"{session_path}/ext", {"rel": PROBE_EXTENSION}))]
    return []
