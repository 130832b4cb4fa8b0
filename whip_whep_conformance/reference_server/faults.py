"""Named defects the server can be started with (`--fault NAME`), to prove the suite catches them.

Each fault breaks one observable behaviour; `tests/fault_map.toml` says which conformance
tests must fail under it.
"""

from __future__ import annotations

import re

from whip_whep_conformance.protocol import sdp
from whip_whep_conformance.protocol.link import WHIP_EXTENSIONS, Link, format_link

FAULTS: dict[str, str] = {
    # WHIP / WHEP POST
    "post-status-200": "answer a successful WHIP/WHEP POST with 200 instead of 201",
    "no-location": "leave the Location header out of the 201",
    "location-plain-http": "send an absolute http:// Location (under --tls: a downgrade from the https POST)",
    "broken-relative-location": "send a relative Location that resolves to no session",
    "answer-content-type": "type the SDP answer text/plain",
    "etag-weak": "send a weak entity-tag (W/\"...\") in ETag",
    "etag-carries-ice-credentials": "make a session's ETag \"ice-ufrag:ice-pwd\" of its answer (a real server did)",
    "answer-wrong-direction": "answer with a=sendrecv instead of recvonly (WHIP) / sendonly (WHEP)",
    "answer-drops-mline": "leave the last m-section out of the answer",
    "answer-no-bundle": "leave a=group:BUNDLE out of the answer",
    "answer-no-rtcp-mux": "leave a=rtcp-mux out of the answer",
    "answer-rtcp-mux-only": "add a=rtcp-mux-only to the answer's m-sections (RFC 8858 keeps it to offers)",
    "answer-msid-split": "give each m-section of the answer its own msid stream id",
    "answer-setup-actpass": "answer with a=setup:actpass",
    "answer-no-candidates": "leave every a=candidate out of the answer",
    "answer-unreachable-candidates": "advertise candidates on a port nobody listens on, and shut the ICE agent after answering",
    "accept-any-content-type": "accept a POST whatever its Content-Type",
    "malformed-sdp-500": "answer malformed SDP with 500 instead of a 4xx",
    "answer-unspecified-candidate": "add a candidate on 0.0.0.0 port 0 to the answer's first m-section",
    "answer-single-codec": "cut each answer's video section down to its first codec (and that codec's RTX)",
    "offer-without-candidates-refused": "refuse (400) an offer that carries no candidates",
    "conflict-without-retry-after": "with --require-publisher, refuse playback before publication with 409 but no Retry-After",
    "retry-after-http-date": "with --require-publisher, give the 409's Retry-After as an HTTP-date, not seconds",
    # WHEP extensions (server-sent events, layer selection)
    "extension-links-combined": "announce both WHEP extensions in one Link with two rels",
    "layer-without-sse": "announce layer selection without the server-sent-events extension",
    "sse-events-without-layers": "leave layers out of the SSE Link's events while announcing layer selection",
    "sse-post-no-location": "answer the POST that opens an event stream 201 without a Location",
    "sse-unknown-event-accepted": "open an event stream for event types the server does not support",
    "sse-ignores-subscription": "send every event on every stream, whatever types it was opened for",
    "sse-multiline-data": "spread each event's JSON over two data lines",
    "sse-initial-inactive": "send an inactive event to a new stream when nothing is being published",
    "sse-stream-survives-delete": "answer DELETE on an event stream 200 but keep serving it",
    "sse-url-missing": "point the SSE Link at a URL that does not exist",
    "sse-link-no-events": "leave the events parameter out of the SSE Link",
    "sse-data-not-json": "send event data as plain text, not JSON",
    "sse-no-inactive": "never send inactive when the publication stops",
    "viewercount-as-text": "send the viewer count as a JSON string",
    "sse-open-after-session-end": "leave open event streams hanging when their WHEP session ends",
    "layers-without-ids": "send layer objects with none of rid, spatialLayerId, temporalLayerId",
    "layer-selection-accepts-anything": "answer 200 to a request for a layer that does not exist",
    "whip-ext-announced-late": "announce a WHIP extension on the session URL's OPTIONS response but not on the 201",
    "whip-ext-link-dangling": "announce a WHIP extension on the 201 whose Link target does not exist (404)",
    "whip-ext-link-two-rels": "announce two WHIP extensions on the 201 in one Link (rel with two URNs)",
    "whip-ext-required": "announce a WHIP extension on the 201 and forward no media until its URL has been requested",
    "simulcast-unsupported": "answer a simulcast offer without a=simulcast (one stream), as a server without simulcast does",
    "simulcast-answer-not-reversed": "accept simulcast with a=simulcast:send and a=rid ... send in the answer, as offered",
    "simulcast-answer-adds-rid": "accept simulcast with an extra rid-id the offer did not send",
    "playback-needs-sse": "send a viewer no media until it has an event stream open",
    "bearer-refused": "refuse every request with 401, the right Bearer token included",
    "turn-link-no-credential": "advertise the TURN server in Link without its credential",
    "no-ice-server-links": "send no ice-server Links on the 201",
    "no-links-on-options": "send no ice-server Links on plain OPTIONS either",
    "no-accept-patch": "leave Accept-Patch out of the 201",
    "counter-offer-no-valid-until": "type the 406 counter-offer application/sdp without valid-until",
    "patch-after-delete-204": "answer 204 to a PATCH on a session that does not exist (any more)",
    "answer-ice-lite": "mark the answer a=ice-lite (a lite ICE implementation)",
    "answer-is-offer": "answer WHIP/WHEP offers with an SDP offer: a=setup:actpass and a format-less m=video 9",
    "needs-publisher-500": "answer a WHEP POST for an input nobody publishes 500 instead of 409 + Retry-After "
                           "(as janus-whep-server in VideoRoom mode does)",
    "whep-post-500": "answer every WHEP offer POST with 500 Internal Server Error",
    "counter-offer-always": "under draft-ietf-wish-whep-03, refuse every WHEP offer with a 406 counter-offer "
                            "(as janus-whep-server in VideoRoom mode does)",
    "counter-offer-unread": "under draft-ietf-wish-whep-03, answer every WHEP POST whose body has 'v=0' with a 406 "
                            "counter-offer without reading the offer, malformed ones included (janus-whep-server "
                            "1.1.0 in VideoRoom mode: src/whep.js:257 looks for 'v=0' only, :316 always server-offers)",
    "needs-media-500": "answer a WHEP POST 500 until the input's publisher has connected its media (janus-whep-server "
                       "in VideoRoom mode: a room feed exists only once the publisher's PeerConnection is up)",
    "active-offer-refused-403": "refuse WHIP offers with a=setup:active with 403 instead of 422/400",
    "retry-after-junk": "with --require-publisher, give the 409 a Retry-After that is neither seconds nor a date",
    "redirect-302": "with --redirect, send endpoint POSTs on with 302 Found instead of 307",
    "errors-plain-text": "explain 4xx/5xx in plain text instead of RFC 9457 problem details",
    "problem-status-mismatch": "give problem details a 'status' member other than the response's status",
    "dies-after-12-posts": "exit the server process on the 13th WHIP/WHEP endpoint POST (a target that dies mid-run)",
    # methods, OPTIONS, CORS, Link
    "get-405-everywhere": "answer GET/HEAD with 405 whatever the profile (RFC 9725 wants 2xx)",
    "get-2xx-everywhere": "answer GET/HEAD with 2xx whatever the profile (the drafts want 405)",
    "405-without-allow": "send 405 without an Allow header",
    "allow-lists-get": "list GET and HEAD in Allow and Access-Control-Allow-Methods even where they get 405 (the drafts)",
    "unsupported-method-404": "answer POST on a session URL and PUT anywhere 404, as a router without that route does",
    "head-differs": "answer HEAD with 404 while GET succeeds",
    "preflight-needs-auth": "refuse CORS preflights without the Bearer token",
    "no-accept-post": "leave Accept-Post out of OPTIONS responses",
    "cors-no-expose": "expose no response headers to browsers (no Access-Control-Expose-Headers)",
    "links-on-preflight": "send ice-server Links on CORS preflights too",
    "broken-link-syntax": "send ice-server Links without <> and with name: value parameters",
    "delete-checks-if-match": "refuse a DELETE whose If-Match does not match with 412",
    # trickle ICE by PATCH
    "trickle-ignores-if-match": "apply a trickle PATCH whatever its If-Match says",
    "trickle-candidates-discarded": "answer a valid trickle PATCH 204 but throw its candidates away",
    "trickle-no-428": "apply a trickle PATCH that has no If-Match",
    "wildcard-if-match-refused": "answer a trickle PATCH with If-Match: * with 412",
    "trickle-204-with-etag": "send an ETag on the 204 to a trickle PATCH",
    "trickle-status-200": "answer a trickle PATCH with 200 and a body",
    "patch-any-content-type": "accept a PATCH whatever its Content-Type",
    "patch-malformed-500": "answer a malformed sdpfrag with 500",
    "trickle-rejects-odd-candidates": "refuse (400) a fragment holding a TCP or mDNS candidate",
    "restart-as-trickle": "answer a PATCH with new ICE credentials 204, as if it were a trickle",
    "restart-faked": "answer an ICE restart 200 with new credentials and candidates, but keep the old ICE agent",
    "restart-unsupported": "refuse ICE restarts as a trickle-only session does (422, or 405 under the drafts)",
    "restart-refused-501": "refuse ICE restarts with 501 whatever the profile (RFC 9725 and whep-03 want 422)",
    "restart-500": "answer every ICE restart PATCH 500 (Meetecho's simple-whip-server when Janus refuses the restart)",
    "trickle-always-412": "answer every trickle PATCH 412, the session's own entity-tag included",
    "restart-answer-old-credentials": "answer an ICE restart 200 with the answer's old ice-ufrag/ice-pwd",
    "restart-old-candidates-kept": "after an ICE restart connects, keep the old sockets open and answering checks",
    "restart-keeps-etag": "answer an ICE restart 200 with the session's old ETag, which stays current",
    "restart-answer-malformed": "answer an ICE restart 200 with a body whose candidate lines break the sdpfrag grammar",
    "restart-answer-claims-ice-lite": "put a=ice-lite in the restart's 200 although the answer had none",
    "patch-after-delete-500": "answer a PATCH of a deleted (or never-issued) session with 500",
    "204-with-content": "write bytes after the header section of a trickle PATCH's 204 No Content",
    "sdp-patch-422": "answer a WHEP PATCH typed application/sdp on a session with no offer pending 422 (as janus-whep-server does)",
    "patch-wrong-type-400": "answer a PATCH of another media type with 400 (no Accept-Patch) instead of 415",
    "patch-malformed-422": "answer a malformed trickle-ice-sdpfrag with 422 instead of 400",
    "concurrent-patch-409": "hold each trickle PATCH 300 ms and refuse (409) another one for the session meanwhile",
    "trickle-repeat-400": "refuse (400) a trickle PATCH that repeats a candidate the session already has",
    "no-patch-400": "with PATCH switched off (--no-patch), answer PATCH with 400 instead of the profile's 501/405",
    "malformed-patch-ends-session": "end the session when a PATCH body is malformed (a failed restart must not)",
    # codecs
    "answer-unoffered-codec": "add a video format the offer did not have (AV1, payload type 119) to the answer",
    "answer-h264-profile-changed": "answer H.264 42e01f offers with profile-level-id 640c1f (High)",
    "answer-renumbers-payload-types": "answer video formats under payload types 10 above the offer's",
    "no-vp9": "treat VP9 as an unknown codec (drop it from offers before negotiating)",
    "vp9-never-forwarded": "negotiate VP9 but forward none of its packets to viewers",
    "media-delayed": "hold every forwarded packet back 700 ms (a relay with a deep buffer)",
    "video-pauses": "drop the publisher's video for 0.6 s in every 3 s (about 20% of frames lost, a freeze each time)",
    "media-stops-after-5s": "stop forwarding media to a viewer 5 s after it connected (its session stays up)",
    "consent-answered-briefly": "stop answering ICE consent checks (STUN Binding requests) 2 s after a session connected",
    # WHEP server offer (draft-murillo-whep-01 §4.2) and counter-offer (draft-ietf-wish-whep-03 §4.2.2)
    "no-server-offer": "treat an empty POST as an untyped offer (415) instead of answering it with a server offer",
    "server-offer-no-expires": "leave Expires out of the 201 that carries a server offer",
    "counter-offer-no-location": "leave Location out of the 406 that carries a counter-offer",
    "server-offer-recvonly": "make the server's offers (201 or 406) say a=recvonly",
    "server-offer-no-bundle-only": "leave a=bundle-only out of the server's offers",
    "server-offer-no-rtcp-mux-only": "leave a=rtcp-mux-only out of the server's offers",
    "answer-patch-200": "answer the PATCH that carries the player's SDP answer with 200 instead of 204",
    "answer-patch-no-etag": "send no ETag with the reply to the PATCH that carries the player's SDP answer",
    "malformed-answer-accepted": "answer a PATCH of malformed SDP to a server offer with 204",
    "server-offer-never-expires": "keep an unanswered server offer's session past its Expires time",
    "server-offered-media-never-forwarded": "after the answer to a server offer, forward no media to that viewer",
    # offers the endpoint must judge
    "sendrecv-refused": "refuse WHIP offers that say a=sendrecv (400)",
    "track-limit-403": "refuse offers with too many tracks with 403 instead of 422/400",
    "unusable-offer-403": "refuse a WHIP offer it cannot negotiate (e.g. an unknown codec) with 403 instead of 422/400",
    "unusable-section-rejected": "answer a WHIP offer whose video codec is unknown 201, with the video m-section rejected (port 0)",
    "active-answered-active": "answer an a=setup:active offer with a=setup:active",
    "unknown-method-400": "answer a request with a method nobody defined (e.g. WHIPCHECK) 400 instead of 501",
    "sequential-session-ids": "number sessions 1, 2, 3… instead of using random ids",
    # teardown
    "delete-refused": "answer DELETE on a session with 405",
    "session-redirects": "answer DELETE on a session with a 307 to the same URL",
    "dtls-close-ignored": "keep a session whose client closed DTLS (close_notify) or whose ICE failed, instead of ending it",
    "delete-keeps-session": "answer DELETE with 200 but keep the session (a second DELETE succeeds)",
    "unknown-session-200": "answer DELETE on a never-issued session with 200",
    # media relay
    "media-never-forwarded": "negotiate viewers but forward no RTP to them",
    "audio-never-forwarded": "forward the publisher's video to viewers but none of its audio",
    "no-keyframe-on-join": "neither request a keyframe for a joining viewer nor pass viewers' PLI/FIR upstream",
    "wrong-ssrc-rewrite": "forward RTP with the publisher's SSRC instead of the one signalled to the viewer",
    "wrong-payload-type": "forward video under the payload type of another codec the viewer offered",
    "viewer-delete-ends-all": "a DELETE of one viewer ends every viewer of the live input",
    "nack-ignored": "drop viewers' NACKs instead of retransmitting from the history",
    "nack-needs-reports": "ignore a viewer's NACKs until its second RTCP receiver report (Janus 1.4.2 keeps no "
                          "retransmission buffer until an RR gives it a round-trip time: src/ice.c:3140-3155, 5009)",
    # auth
    "auth-ignored": "accept WHIP/WHEP requests without the Bearer token",
    "no-www-authenticate": "send 401 without WWW-Authenticate",
    "basic-challenge": "challenge with WWW-Authenticate: Basic instead of Bearer",
    "auth-403-no-challenge": "refuse a missing or wrong Bearer token with 403 and no WWW-Authenticate (as simple-whip-server does)",
    "wrong-token-403": "refuse a wrong Bearer token with 403 and error=\"insufficient_scope\" instead of 401 invalid_token",
    # product brief
    "second-publisher-accepted": "accept a second publisher while one is live",
    "no-protocol-version": "send no protocol-version header",
    "api-no-envelope": "return the live input without the v4 envelope",
    "api-list-missing": "leave new live inputs out of the collection listing",
    "api-delete-keeps-input": "answer DELETE on a live input with 200 but keep it",
    "secret-is-uid": "use the input's uid as the publish secret",
    "publish-url-delete-keeps-publisher": "answer DELETE on the publish URL 200 (Cloudflare profile) but keep the publisher live",
}


def check(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return names


def rewrite_answer(answer: str, active: set[str]) -> str:
    """Apply the answer-shaping faults to an SDP answer the server built correctly."""
    if "answer-wrong-direction" in active:
        answer = re.sub(r"^a=(recvonly|sendonly)\r?$", "a=sendrecv\r", answer, flags=re.MULTILINE)
    if "answer-drops-mline" in active:
        parts = re.split(r"(?=^m=)", answer, flags=re.MULTILINE)
        if len(parts) > 2:
            answer = "".join(parts[:-1])
    if "answer-no-bundle" in active:
        answer = re.sub(r"^a=group:BUNDLE[^\r\n]*\r?\n", "", answer, flags=re.MULTILINE)
    if "answer-no-rtcp-mux" in active:
        answer = re.sub(r"^a=rtcp-mux\r?\n", "", answer, flags=re.MULTILINE)
    if "answer-setup-actpass" in active:
        answer = re.sub(r"^a=setup:\w+", "a=setup:actpass", answer, flags=re.MULTILINE)
    if "answer-no-candidates" in active:
        answer = re.sub(r"^a=(candidate:|end-of-candidates)[^\r\n]*\r?\n", "", answer, flags=re.MULTILINE)
    if "answer-unreachable-candidates" in active:
        answer = re.sub(
            r"^(a=candidate:\S+ \d+ \S+ \d+ \S+ )(\d+)",
            lambda m: m.group(1) + "9",
            answer,
            flags=re.MULTILINE,
        )
    if "answer-is-offer" in active:  # seen from a real server: its own offer sent back as the "answer"
        answer = re.sub(r"^a=setup:\w+", "a=setup:actpass", answer, flags=re.MULTILINE)
        answer = re.sub(r"^m=video \S+ (\S+)[^\r\n]*", r"m=video 9 \1", answer, flags=re.MULTILINE)
    if "answer-ice-lite" in active:
        answer = re.sub(r"^(t=[^\r\n]*\r?\n)", r"\1a=ice-lite\r\n", answer, count=1, flags=re.MULTILINE)
    if "simulcast-answer-not-reversed" in active:
        answer = re.sub(r"^a=(simulcast:|rid:\S+ )recv", r"a=\1send", answer, flags=re.MULTILINE)
    if "simulcast-answer-adds-rid" in active:
        answer = re.sub(r"^a=simulcast:recv ([^\r\n]*)", r"a=rid:extra recv\r\na=simulcast:recv \1;extra", answer, flags=re.MULTILINE)
    if "answer-rtcp-mux-only" in active:
        answer = re.sub(r"^a=rtcp-mux\r?$", "a=rtcp-mux\r\na=rtcp-mux-only\r", answer, flags=re.MULTILINE)
    if "answer-msid-split" in active:
        count = iter(range(1000))
        answer = re.sub(r"^a=msid:(\S+)", lambda m: f"a=msid:{m.group(1)}-{next(count)}", answer, flags=re.MULTILINE)
    if "answer-unoffered-codec" in active:
        answer = re.sub(r"^(m=video \S+ \S+)([^\r\n]*)(\r?\n)", r"\1\2 119\3a=rtpmap:119 AV1/90000\3", answer, count=1, flags=re.MULTILINE)
    if "answer-h264-profile-changed" in active:
        answer = re.sub(r"profile-level-id=42e01f", "profile-level-id=640c1f", answer, flags=re.IGNORECASE)
    if "answer-renumbers-payload-types" in active:
        answer = _renumber_video(answer, 10)
    if "answer-unspecified-candidate" in active:
        answer = re.sub(r"^(a=candidate:[^\r\n]*)(\r?\n)", r"\1\2a=candidate:99 1 udp 1 0.0.0.0 0 typ host\2", answer,
                        count=1, flags=re.MULTILINE)
    if "answer-single-codec" in active:
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
PROBE_RESOURCE_FAULTS = {"whip-ext-announced-late", "whip-ext-link-two-rels", "whip-ext-required"}  # `/ext` exists


def whip_extension_links(session_path: str, active: set[str], on_201: bool) -> list[str]:
    """The WHIP extension Links the whip-ext-* faults send: on the 201 (`on_201`) or on the session's OPTIONS."""
    if not on_201:
        return [format_link(Link(f"{session_path}/ext", {"rel": PROBE_EXTENSION}))] if "whip-ext-announced-late" in active else []
    if "whip-ext-link-dangling" in active:
        return [format_link(Link(f"{session_path}/no-such-extension", {"rel": PROBE_EXTENSION}))]
    if "whip-ext-link-two-rels" in active:
        return [format_link(Link(f"{session_path}/ext", {"rel": f"{PROBE_EXTENSION} {PROBE_EXTENSION}-2"}))]
    if "whip-ext-required" in active:
        return [format_link(Link(f"{session_path}/ext", {"rel": PROBE_EXTENSION}))]
    return []
