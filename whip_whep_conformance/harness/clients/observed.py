"""What one scenario saw a client do: its HTTP requests (through the recording front), what the
server saw of its sessions, and how it ended. Plain data: a scenario is run once per profile pair and
graded by many cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from whip_whep_conformance.protocol import headers, sdp, sdpfrag

from .client_process import Stopped
from .observatory import Request
from .scenario import Scenario
from .turn import TurnAttempt


# RFC 9725 §4.3.3 asks for If-Match "*" and its own example (Figure 4) writes `If-Match: "*"` quoted; RFC
# 9110 §13.1.1's wildcard is the bare `*`. A client that copies the RFC's example is not failed for it.
RESTART_MARKERS = ("*", '"*"')


def fragment_of(request: Request) -> sdpfrag.SdpFrag | None:
    """The request's body as a trickle-ice-sdpfrag, or None when it is not one."""
    try:
        return sdpfrag.parse(request.text)
    except (sdpfrag.SdpFragError, ValueError, IndexError):
        return None


@dataclass
class Observed:
    scenario: Scenario
    client: str  # the command line (or "manual")
    url: str  # the endpoint URL the client was given (through the front)
    token: str | None
    urls: dict[str, str]  # the front's listeners: name -> base URL
    requests: list[Request]
    sessions: list[dict]  # the server's view of the client's sessions (GET /client/v4/sessions), at the end
    sessions_before_stop: list[dict]
    stopped: Stopped
    up: bool  # a session of the client's came up (ICE + DTLS connected) before the deadline
    up_after_s: float | None = None
    notes: list[str] = field(default_factory=list)  # what went wrong arranging the scenario
    turn: list[TurnAttempt] = field(default_factory=list)  # what the scenario's TURN server saw (turn scenarios)
    turn_link: tuple[str, str] | None = None  # the (username, credential) the TURN Link gave
    unavailable: str | None = None  # why the scenario cannot run here at all (no TURN server): the cases skip

    # --- the requests ---------------------------------------------------------------------
    @property
    def endpoint_path(self) -> str:
        return urlsplit(self.url).path

    def absolute(self, request: Request) -> str:
        return self.urls[request.listener] + request.path

    def endpoint_posts(self) -> list[Request]:
        """POSTs to the endpoint URL, or to where a redirect sent them (the server's /via/ form)."""
        path = self.endpoint_path
        return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0] in (path, f"/via{path}")]

    def makes_a_session(self, post: Request) -> bool:
        """The POST's answer made a session: a 201 (or a WHEP -03 406 counter-offer) naming its Location."""
        return post.status in (201, 406) and bool(post.response_header("Location"))

    def endpoint_requests_after_a_refusal(self) -> list[Request]:
        """PATCHes and DELETEs to the endpoint URL sent while the client's latest answered POST had been
        refused (no session): the client took a refusal for a session (RFC 9725 §4.1). One sent after a
        later POST made a session is that session's request sent to the wrong URL, which the Location
        rows grade (WHIP-4.2-14, WHEPL-4.3-1), not this one."""
        posts = self.endpoint_posts()
        endpoints = {self.endpoint_path, f"/via{self.endpoint_path}"}
        found = []
        for r in self.requests:
            if r.method not in ("PATCH", "DELETE") or r.path.split("?")[0] not in endpoints:
                continue
            answered = [p for p in posts if p.answered_at is not None and p.answered_at <= r.sent_at]
            if answered and not self.makes_a_session(answered[-1]):
                found.append(r)
        return found

    def created(self) -> Request | None:
        """The endpoint POST whose answer made a session (201; 406 counter-offer under WHEP -03)."""
        return next((r for r in self.endpoint_posts() if self.makes_a_session(r)), None)

    def location(self) -> tuple[str, str] | None:
        """The session URL the 201 named, resolved against the URL of the POST it answered
        (RFC 9110 §10.2.2), as (listener, path) of the front, or None if it names no listener of ours."""
        post = self.created()
        if post is None:
            return None
        resolved = urljoin(self.absolute(post), post.response_header("Location") or "")
        for name, base in self.urls.items():
            if resolved.startswith(base + "/"):
                return name, resolved[len(base):]
        return None

    def session_url(self) -> str | None:
        """The session URL the client should use, absolute (None: no 201 named one of ours)."""
        where = self.location()
        return self.urls[where[0]] + where[1] if where else None

    def to_session(self, method: str | None = None) -> list[Request]:
        """Requests to the session URL (any method, or `method`)."""
        where = self.location()
        if where is None:
            return []
        return [r for r in self.requests if (r.listener, r.path) == where and (method is None or r.method == method)]

    def session_requests_aimed(self) -> list[Request]:
        """The PATCHes and DELETEs the client sent, wherever they went, and the CORS preflights of ones the
        browser did not send after them (Fetch §4.8: a refused preflight stops the request): where the
        client's code aimed its session requests."""
        sent = [r for r in self.requests if r.method in ("PATCH", "DELETE")]
        aimed = list(sent)
        for p in self.requests:
            method = (p.header("Access-Control-Request-Method") or "").strip().upper() if p.is_preflight() else ""
            if method in ("PATCH", "DELETE") and not any(
                    r.method == method and (r.listener, r.path) == (p.listener, p.path) and r.sent_at >= p.sent_at
                    for r in sent):
                aimed.append(p)
        return sorted(aimed, key=lambda r: r.sent_at)

    def patches(self) -> list[Request]:
        return self.to_session("PATCH")

    def deletes(self) -> list[Request]:
        return self.to_session("DELETE")

    def offer_credentials(self) -> tuple[str | None, str | None]:
        """The ice-ufrag and ice-pwd of the client's offer (its first m-section's)."""
        offer = self.offer()
        first = offer.media[0] if offer is not None and offer.media else None
        return (first.ice_ufrag, first.ice_pwd) if first is not None else (None, None)

    def is_restart(self, request: Request) -> bool:
        """A restart PATCH: If-Match "*" (the restart's marker), or a fragment with credentials other than
        the offer's (new credentials are a restart, whatever the headers say). An application/sdp PATCH
        answers a WHEP counter-offer (draft-ietf-wish-whep-03 §4.2.2): not a restart."""
        if headers.media_type(request.header("Content-Type")) == headers.SDP:
            return False
        if (request.header("If-Match") or "").strip() in RESTART_MARKERS:
            return True
        frag = fragment_of(request)
        ufrag, _ = frag.credentials() if frag is not None else (None, None)
        return ufrag is not None and ufrag != self.offer_credentials()[0]

    def restarts(self) -> list[Request]:
        return [p for p in self.patches() if self.is_restart(p)]

    def restarts_without_fresh_ice(self) -> list[str]:
        """The restart PATCHes that lack new ice-ufrag/ice-pwd (other than the offer's) or any candidate,
        each described (RFC 9725 §4.3.3, draft-ietf-wish-whep-03 §4.4.3)."""
        old = self.offer_credentials()
        bad = []
        for p in self.restarts():
            frag = fragment_of(p)
            creds = frag.credentials() if frag is not None else (None, None)
            candidates = sum(len(m.candidates) for m in frag.media) if frag is not None else 0
            if None in creds or creds[0] == old[0] or creds[1] == old[1] or not candidates:
                bad.append(f"ufrag {creds[0]!r} (offer's {old[0]!r}), {candidates} candidates")
        return bad

    def trickles(self) -> list[Request]:
        """PATCHes to the session that are no restart (trickle ones, and under WHEP -03 a counter-offer's answer)."""
        return [p for p in self.patches() if not self.is_restart(p)]

    def by_method(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def offer(self) -> sdp.SessionDescription | None:
        """The client's offer: the body of its first endpoint POST with one (None: no POST had SDP)."""
        for post in self.endpoint_posts():
            if post.body.strip():
                try:
                    return sdp.SessionDescription.parse(post.text)
                except (sdp.SdpSyntaxError, ValueError, KeyError, IndexError):
                    return None
        return None

    def session_view(self) -> dict | None:
        """The server's record of the session the client made (the one whose URL the 201 named)."""
        where = self.location()
        path = where[1] if where else None
        return next((s for s in self.sessions if s.get("url") == path), None)

    def retry_after(self, status: int) -> tuple[Request | None, bool, str]:
        """The first endpoint POST answered `status` with a Retry-After (409 in WHEP, 503 anywhere), whether
        the client tried again no sooner than it said (RFC 9110 §10.2.3: the time it "ought to wait"),
        and an account of the POSTs' timing. The front sets answered_at before it writes the answer out,
        so the client's wait is at least the gap; 0.2 s of slack is for the client's own clock
        granularity (a retry "at" the Retry-After)."""
        posts = self.endpoint_posts()
        refused = next((p for p in posts if p.status == status), None)
        if refused is None:
            return None, False, f"no POST of the client's got the scenario's {status}: {self.seen()}"
        wait_s = headers.delay_seconds(refused.response_header("Retry-After"))
        after = posts[posts.index(refused):]
        gaps = [round(b.sent_at - (a.answered_at or a.sent_at), 2) for a, b in zip(after, after[1:])]
        honoured = bool(gaps) and wait_s is not None and gaps[0] >= wait_s - 0.2
        return refused, honoured, (f"{len(posts)} POST(s) to the endpoint; the {status} said Retry-After {wait_s}; "
                                   f"seconds from each answer to the next POST: {gaps or 'no retry'}"
                                   + ("" if len(gaps) < 2 else
                                      f" ({'backing off' if _backs_off(gaps) else 'not backing off'})"))

    def answer(self) -> sdp.SessionDescription | None:
        """The SDP the server answered the client's offer with (the 201's body; None: no such answer)."""
        created = self.created()
        text = created.response_body.decode("utf-8", "replace") if created is not None else ""
        if created is None or created.status != 201 or not text.strip():
            return None
        try:
            return sdp.SessionDescription.parse(text)
        except (sdp.SdpSyntaxError, ValueError, KeyError, IndexError):
            return None

    def consent_lapses(self) -> tuple[dict | None, str]:
        """The server's consent checks (RFC 7675) to the client's session, and what they show: None with
        the reason when too few were sent to tell (the session ended early, or the server is ICE-lite),
        else the counts and whether two in a row went unanswered (~10 s deaf: one lost packet is not).
        The WHIP and WHEP consent cases grade the same reading under their own rows."""
        view = self.session_view()
        consent = (view or {}).get("consent") or {}
        wanted = self.scenario.consent_checks
        if view is None or consent.get("sent", 0) < wanted:
            return None, (f"the server sent {consent.get('sent', 0)} consent check(s) to the client's session, "
                          f"fewer than the {wanted} needed to tell (session {'not found' if view is None else 'ended early'}; "
                          f"it was held {self.stopped.how}): {self.seen()}")
        return consent, (f"the server sent {consent['sent']} consent checks while the session ran; the client answered "
                         f"{consent['answered']}, and at most {consent.get('most_unanswered_in_a_row', 0)} in a row went "
                         f"unanswered; it sent {view.get('checks_received', 0)} checks of its own")

    def seen(self) -> str:
        """Every request, one per line, for failure messages."""
        return "; ".join(r.line() for r in self.requests) or "no request at all"


def _backs_off(gaps: list[float]) -> bool:
    """Each wait longer than the one before (beyond 0.2 s of clock slack): equal waits are no back-off."""
    return all(b > a + 0.2 for a, b in zip(gaps, gaps[1:]))
