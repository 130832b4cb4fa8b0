"""What one scenario saw a client do: its HTTP requests (through the recording front), what the
server saw of its sessions, and how it ended. Plain data: a scenario is run once per profile pair and
graded by many cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from whip_whep_conformance.protocol import sdp

from .client_process import Stopped
from .observatory import Request
from .scenario import Scenario


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

    def created(self) -> Request | None:
        """The endpoint POST whose answer made a session (201; 406 counter-offer under WHEP -03)."""
        return next((r for r in self.endpoint_posts() if r.status in (201, 406) and r.response_header("Location")), None)

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

    def patches(self) -> list[Request]:
        return self.to_session("PATCH")

    def deletes(self) -> list[Request]:
        return self.to_session("DELETE")

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

    def seen(self) -> str:
        """Every request, one per line, for failure messages."""
        return "; ".join(r.line() for r in self.requests) or "no request at all"
