"""The suite's WHIP/WHEP client verbs: POST an offer, DELETE a session, read a live input.

Like h2spec's shared verbs, every case calls these rather than building requests itself; the
HTTP plumbing (auth header, Location resolution, content types) lives here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from . import headers
from .leftovers import LEFTOVERS
from .wire import WireClient, url_secrets


class CreationRefused(Exception):
    """The run is read-only (--no-create): a case tried to create a session or live input."""


@dataclass
class Posted:
    """The response to an offer POST, with its Location resolved against the request URL."""

    response: httpx.Response
    request_url: str

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

    def _auth(self, with_token: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token and with_token else {}

    async def post_offer(
        self,
        url: str,
        offer: str | bytes,
        content_type: str | None = headers.SDP,
        with_token: bool = True,
    ) -> Posted:
        if not self.may_create:
            raise CreationRefused("this run is read-only (--no-create): the case would create a session")
        request_headers = self._auth(with_token)
        if content_type is not None:
            request_headers["Content-Type"] = content_type
        body = offer.encode() if isinstance(offer, str) else offer
        response = await self.http.request("POST", url, content=body, headers=request_headers)
        return self._posted(response, url)

    async def post_for_offer(self, url: str) -> Posted:
        """An empty POST asking the endpoint for its offer (draft-murillo-whep-01 §4.2 server-offer mode)."""
        if not self.may_create:
            raise CreationRefused("this run is read-only (--no-create): the case would create a session")
        response = await self.http.request("POST", url, content=b"", headers={**self._auth(True), "Accept": headers.SDP})
        return self._posted(response, url)

    def _posted(self, response: httpx.Response, url: str) -> Posted:
        posted = Posted(response, url)
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
            "POST", self.collection_url, json={"meta": meta or {"name": "whip-whep-conformance"}}, headers=self._auth()
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
