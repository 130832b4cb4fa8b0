"""The suite's WHIP/WHEP client verbs: POST an offer, DELETE a session, read a live input.

Like h2spec's shared verbs, every case calls these rather than building requests itself; the
HTTP plumbing (auth header, Location resolution, content types) lives here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from whip_whep_conformance.protocol import headers
from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness.outcome import CaseOutcome
from whip_whep_conformance.harness.wire import PipelinedReply, WireClient, url_secrets
from whip_whep_conformance.verdicts import Verdict


class CreationRefused(CaseOutcome, Exception):
    """The run is read-only (--no-create): a case tried to create a session or live input, so it
    is Not applicable (an ordinary Exception to pytest, as before)."""

    verdict = Verdict.NOT_APPLICABLE


# Redirects a client follows with the same POST (RFC 9110 §15.4.8-9); 301/302/303 may become a GET
# (RFC 9725 §4.5 forbids them for WHIP), so the suite stops there and the case sees them.
FOLLOWED_REDIRECTS = (307, 308)
MAX_REDIRECTS = 5


def _same_origin(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.hostname, x.port) == (y.scheme, y.hostname, y.port)


@dataclass
class Posted:
    """The response to an offer POST, with its Location resolved against the request URL."""

    response: httpx.Response
    request_url: str  # the URL that answered: after redirects, what a relative Location resolves against
    redirects: list[tuple[int, str]] = field(default_factory=list)  # (status, URL redirected from)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def location(self) -> str | None:
        value = self.response.headers.get("Location")
        return urljoin(self.request_url, value) if value else None

    @property
    def etag(self) -> str | None:
        return self.response.headers.get("ETag")

    @property
    def media_type(self) -> str | None:
        return headers.media_type(self.response.headers.get("Content-Type"))

    @property
    def body(self) -> str:
        return self.response.text

    def describe(self) -> str:
        return f"{self.status} {self.response.reason_phrase}"


class SignallingClient:
    """Requests to WHIP/WHEP endpoints and sessions, with the configured Bearer token."""

    def __init__(self, http: WireClient, token: str | None, may_create: bool = True) -> None:
        self.http = http
        self.token = token
        self.may_create = may_create
        self.created: list[str] = []  # session URLs to DELETE when the case ends
        # Called with a URL whose POST got 409 (a WHEP endpoint that plays only what is being
        # published, WHEP §4.2.8) and the offer sent (empty: a server offer was asked for); True
        # when it made the stream live, so the POST is sent again.
        self.on_conflict: Callable[[str, bytes], Awaitable[bool]] | None = None

    def _auth(self, with_token: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token and with_token else {}

    async def post_offer(
        self,
        url: str,
        offer: str | bytes,
        content_type: str | None = headers.SDP,
        with_token: bool = True,
        extra_headers: dict[str, str] | None = None,
        arrange_publisher: bool = True,
    ) -> Posted:
        """POST an offer; `arrange_publisher` False shows the case a 409 rather than publishing and retrying."""
        if not self.may_create:
            raise CreationRefused("this run is read-only (--no-create): the case would create a session")
        request_headers = self._auth(with_token)
        if content_type is not None:
            request_headers["Content-Type"] = content_type
        body = offer.encode() if isinstance(offer, str) else offer
        return await self._post_or_publish(url, body, {**request_headers, **(extra_headers or {})}, arrange_publisher)

    async def post_for_offer(self, url: str) -> Posted:
        """An empty POST asking the endpoint for its offer (draft-murillo-whep-01 §4.2 server-offer mode)."""
        if not self.may_create:
            raise CreationRefused("this run is read-only (--no-create): the case would create a session")
        return await self._post_or_publish(url, b"", {**self._auth(True), "Accept": headers.SDP}, True)

    async def _post_or_publish(self, url: str, body: bytes, request_headers: dict[str, str], arrange_publisher: bool) -> Posted:
        posted = await self._post(url, body, request_headers)
        # 409: nothing is being published (WHEP §4.2.8); a 5xx may mean the same from a server that says it
        # badly (janus-whep-server in VideoRoom mode): the case's rule is then graded after publishing, and
        # the 5xx once, by test_playback_before_publication_is_409_with_retry_after.
        if (posted.status == 409 or posted.status >= 500) and arrange_publisher and self.on_conflict is not None \
                and await self.on_conflict(url, body):
            posted = await self._post(url, body, request_headers)
        return posted

    async def _post(self, url: str, body: bytes, request_headers: dict[str, str]) -> Posted:
        """POST, following 307/308 with the same request as a WHIP/WHEP client must (RFC 9725 §4.5);
        the Bearer token goes only to the origin it was given for."""
        redirects: list[tuple[int, str]] = []
        while True:
            response = await self.http.request("POST", url, content=body, headers=request_headers)
            location = response.headers.get("Location")
            if response.status_code not in FOLLOWED_REDIRECTS or not location or len(redirects) == MAX_REDIRECTS:
                return self._posted(response, url, redirects)
            redirects.append((response.status_code, url))
            following = urljoin(url, location)
            if not _same_origin(url, following):
                request_headers = {k: v for k, v in request_headers.items() if k.lower() != "authorization"}
            url = following

    def _posted(self, response: httpx.Response, url: str, redirects: list[tuple[int, str]] | None = None) -> Posted:
        posted = Posted(response, url, redirects or [])
        # A 406 counter-offer's Location names a session that exists until it expires: ours to DELETE too.
        if (200 <= posted.status < 300 or posted.status == 406) and posted.location:
            self.created.append(posted.location)
            LEFTOVERS.add(posted.location, self._auth(True))
        return posted

    async def delete(self, session_url: str, with_token: bool = True) -> httpx.Response:
        response = await self.http.request("DELETE", session_url, headers=self._auth(with_token))
        if response.status_code < 300 or response.status_code in (404, 410):
            if session_url in self.created:
                self.created.remove(session_url)
            LEFTOVERS.discard(session_url)
        return response

    async def patch(self, session_url: str, body: str | bytes, if_match: str | None,
                    content_type: str | None = headers.SDPFRAG) -> httpx.Response:
        """A trickle or restart PATCH (RFC 9725 §4.3.1); `if_match` None sends no If-Match."""
        request_headers = self._auth(True)
        if content_type is not None:
            request_headers["Content-Type"] = content_type
        if if_match is not None:
            request_headers["If-Match"] = if_match
        content = body.encode() if isinstance(body, str) else body
        return await self.http.request("PATCH", session_url, content=content, headers=request_headers)

    async def patch_pipelined(self, session_url: str, body: str, if_match: str | None) -> PipelinedReply:
        """A trickle PATCH read off the wire, with an OPTIONS pipelined behind it (see WireClient.pipelined)."""
        request_headers = {**self._auth(True), "Content-Type": headers.SDPFRAG}
        if if_match is not None:
            request_headers["If-Match"] = if_match
        return await self.http.pipelined("PATCH", session_url, content=body.encode(), headers=request_headers)

    async def pipelined(self, method: str, url: str) -> PipelinedReply:
        """A bodiless request read off the wire, with an OPTIONS pipelined behind it (WireClient.pipelined):
        what follows its header section, which httpx never reads for a HEAD."""
        return await self.http.pipelined(method, url, headers=self._auth(True))

    async def request(self, method: str, url: str, with_token: bool = True, **kwargs) -> httpx.Response:
        request_headers = {**self._auth(with_token), **kwargs.pop("headers", {})}
        return await self.http.request(method, url, headers=request_headers, **kwargs)

    async def cleanup(self) -> None:
        """DELETE every session this case created and did not end itself."""
        for url in list(self.created):
            try:
                await self.delete(url)
            except Exception:
                pass
        self.created.clear()


@dataclass
class LiveInputUrls:
    uid: str | None
    whip_url: str
    whep_url: str | None
    resource_url: str | None = None  # the live input in the API, DELETEd at the end


class LiveInputsApi:
    """A Cloudflare-shaped live inputs collection that mints publish/play URL pairs."""

    def __init__(self, http: WireClient, collection_url: str, api_token: str | None, may_create: bool = True) -> None:
        self.http = http
        self.collection_url = collection_url.rstrip("/")
        self.api_token = api_token
        self.may_create = may_create

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"} if self.api_token else {}

    async def create(self, meta: dict | None = None) -> httpx.Response:
        if not self.may_create:
            raise CreationRefused("this run is read-only (--no-create): the case would create a live input")
        response = await self.http.request(
            "POST", self.collection_url, json={"meta": meta or {"name": LEFTOVERS.live_input_name}}, headers=self._auth()
        )
        try:  # the publish URL is a credential: keep it out of every report from now on
            urls = self.urls(response, self.collection_url)
            self.http.log.add_secrets(url_secrets(urls.whip_url, public=(urls.whep_url,)))
            LEFTOVERS.add(urls.resource_url, self._auth())
        except ValueError:
            pass
        return response

    async def get(self, uid: str) -> httpx.Response:
        return await self.http.request("GET", f"{self.collection_url}/{uid}", headers=self._auth())

    async def list(self) -> httpx.Response:
        return await self.http.request("GET", self.collection_url, headers=self._auth())

    async def delete(self, uid: str) -> httpx.Response:
        url = f"{self.collection_url}/{uid}"
        response = await self.http.request("DELETE", url, headers=self._auth())
        if response.status_code < 300 or response.status_code == 404:
            LEFTOVERS.discard(url)
        return response

    @staticmethod
    def urls(response: httpx.Response, collection_url: str) -> LiveInputUrls:
        """The publish/play URLs of a create response; raises ValueError when it is not one."""
        try:
            result = response.json()["result"]
            uid = result["uid"]
            return LiveInputUrls(
                uid=uid,
                whip_url=result["webRTC"]["url"],
                whep_url=result["webRTCPlayback"]["url"],
                resource_url=f"{collection_url.rstrip('/')}/{uid}",
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a live input in a v4 envelope: {response.text[:200]!r}") from exc
