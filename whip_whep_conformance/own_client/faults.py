"""Named client defects (`--fault NAME`), each breaking one observable client behaviour.

Typed as the server's are: code names a fault as a member (`ClientFault.NO_DELETE`), so a misspelt
one is an AttributeError, and the command refuses an unknown name. The `clients` self-tests
(tests/test_client_faults.py) say which client case each one must fail.
"""

from __future__ import annotations

import enum


class ClientFault(enum.Enum):
    """One named client defect: `value` is its --fault name, `help` what it breaks."""

    help: str

    def __new__(cls, name: str, help: str) -> "ClientFault":
        member = object.__new__(cls)
        member._value_ = name
        member.help = help
        return member

    # the POST and its offer
    POST_CONTENT_TYPE = ("post-content-type", "type the offer POST text/plain instead of application/sdp")
    SENDRECV_OFFER = ("sendrecv-offer", "mark the offer's media sendrecv (WHIP: not sendonly; WHEP: not recvonly)")
    WRONG_DIRECTION_OFFER = ("wrong-direction-offer", "mark the offer's media recvonly (WHIP) / sendonly (WHEP)")
    NO_RTCP_MUX_ONLY = ("no-rtcp-mux-only", "leave a=rtcp-mux-only out of the offer")
    STREAM_PER_TRACK = ("stream-per-track", "give each m-section's msid a MediaStream of its own")
    SETUP_ACTIVE = ("setup-active", "offer a=setup:active instead of actpass")
    ICE_LITE_OFFER = ("ice-lite-offer", "declare a=ice-lite in the offer")
    WRONG_FINGERPRINT = ("wrong-fingerprint", "offer the a=fingerprint of another certificate than the one it presents in DTLS")
    OPTIONS_FIRST = ("options-first", "ask the endpoint for its ICE servers with OPTIONS before the POST")
    HEAD_FIRST = ("head-first", "(not a defect) WHEP: send HEAD to the endpoint URL before the POST, as a player that "
                  "discovers WHEP endpoints does (the editor's copy after draft-ietf-wish-whep-03, §4.2)")
    EMPTY_POST = ("empty-post", "POST the endpoint with an empty body instead of the offer")
    SECOND_VIDEO_TRACK = ("second-video-track", "WHIP: publish a second video track in the stream")
    # HTTP
    NO_REDIRECTS = ("no-redirects", "do not follow redirects (a 307 ends the client)")
    REDIRECT_AS_GET = ("redirect-as-get", "follow a 307 with a GET without the offer")
    LOCATION_FROM_ROOT = ("location-from-root", "resolve a relative Location against the host root, not the request URI")
    EMPTY_AUTHORIZATION = ("empty-authorization", "send an Authorization header even without a token")
    NO_TOKEN_ON_DELETE = ("no-token-on-delete", "leave the Bearer token off the DELETE")
    UNKNOWN_LINK_FATAL = ("unknown-link-fatal", "give up when the 201 carries a Link whose rel it does not know")
    IGNORE_LINK_ICE_SERVERS = ("ignore-link-ice-servers", "never use the STUN/TURN servers of the 201's Link "
                               "rel=\"ice-server\" headers (no ICE restart to gather with them)")
    CREDENTIAL_CUT_AT_EQUALS = ("credential-cut-at-equals", "read a Link's username and credential only up to their "
                                "first '=' (a naive split(\"=\") parser), so TURN authentication fails")
    CREDENTIAL_KEEPS_QUOTES = ("credential-keeps-quotes", "keep the quotes of a Link's quoted-string username and "
                               "credential as part of the values, so TURN authentication fails")
    UNKNOWN_STATUS_AS_CREATED = ("unknown-status-as-created", "take any 2xx-5xx answer to the POST as a session and DELETE the endpoint")
    # the session
    NO_DELETE = ("no-delete", "exit without a DELETE")
    DELETE_TO_ENDPOINT = ("delete-to-endpoint", "send the DELETE to the endpoint URL, not the session's Location")
    IF_MATCH_ON_DELETE = ("if-match-on-delete", "put If-Match with the session's ETag on the DELETE")
    NO_CONSENT_ANSWERS = ("no-consent-answers", "once connected, answer no more STUN Binding requests (the server's "
                          "consent checks), as FFmpeg 8's WHIP muxer does")
    SILENT_AUDIO = ("silent-audio", "WHIP: offer audio sendonly but never send RTP on it (video only)")
    # trickle and restart
    TRICKLE = ("trickle", "(not a defect) offer without candidates (WHIP: with only its first one), then trickle "
               "them in one PATCH after the 201")
    PATCH_CONTENT_TYPE = ("patch-content-type", "type trickle PATCHes application/sdp")
    ETAG_NOT_IF_MATCH = ("etag-not-if-match", "send the entity-tag in an ETag request header instead of If-Match")
    RESTART_WITHOUT_STAR = ("restart-without-star", "send a restart PATCH with If-Match of the ETag, not \"*\"")
    RESTART_OLD_CREDENTIALS = ("restart-old-credentials", "send the old ice-ufrag/ice-pwd in the restart PATCH")
    NO_RESTART = ("no-restart", "never restart ICE (a dropped path is not recovered)")
    EARLY_TRICKLE = ("early-trickle", "WHIP, with trickle: PATCH the candidates to the endpoint before the POST's 201")
    TRICKLE_SPLIT = ("trickle-split", "WHIP, with trickle: send the buffered candidates in one PATCH per "
                     "m-section, not one aggregated PATCH")
    TRICKLE_SPREAD = ("trickle-spread", "(not a defect as seen from outside) WHIP, with trickle: an offer without "
                      "candidates, then one PATCH per m-section, as a client gathering only after the 201 sends them")
    # WHEP
    SERVER_OFFER = ("server-offer", "(not a defect) WHEP: ask for the server's offer with a bodiless POST (draft-murillo-"
                    "whep-01 §4.2) and answer it by PATCH; an endpoint that refuses that POST gets the player's own offer")
    SERVER_OFFER_NO_ACCEPT = ("server-offer-no-accept", "WHEP, with server-offer: leave Accept: application/sdp off the "
                              "bodiless POST (httpx then sends its default Accept: */*)")
    IGNORE_COUNTER_OFFER = ("ignore-counter-offer", "take a 406 counter-offer as a failure")
    COUNTER_ANSWER_SENDRECV = ("counter-answer-sendrecv", "answer a counter-offer (or a server offer) with sendrecv media")
    ANSWER_PATCH_CONTENT_TYPE = ("answer-patch-content-type", "PATCH the answer to a counter-offer (or a server offer) "
                                 "typed text/plain")
    COUNTER_ANSWER_REOFFER = ("counter-answer-reoffer", "PATCH its own first offer back instead of answering a counter-offer")
    NO_RETRY_ON_503 = ("no-retry-on-503", "give up at a 503 with Retry-After instead of trying again after it")
    RETRY_AT_ONCE = ("retry-at-once", "retry a 503/409 at once, not waiting the Retry-After")
    NO_RETRY_ON_409 = ("no-retry-on-409", "give up at a WHEP 409 (nobody publishing yet) instead of retrying after its Retry-After")
    EARLY_CANDIDATES = ("early-candidates", "trickle, but PATCH the candidates to the endpoint URL before the POST, "
                        "not holding them back until the 201")

    def __str__(self) -> str:
        return self.value


def named(names: list[str]) -> frozenset[ClientFault]:
    """The faults of these names; a ValueError naming each unknown one."""
    unknown = [n for n in names if n not in {f.value for f in ClientFault}]
    if unknown:
        raise ValueError(f"unknown client fault(s) {unknown} (--fault list)")
    return frozenset(ClientFault(n) for n in names)
