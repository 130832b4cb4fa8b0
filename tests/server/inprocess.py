"""The reference server's aiohttp application, in this process, and a client for it.

`build_app` is the one place the fast layer turns a configuration into the application: when the
server's wiring changes, that is the edit. Only public entry points are used (ServerConfig, make_app),
so restructuring the server's modules does not touch these tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse, ClientTimeout, web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.reference_server.app import make_app
from whip_whep_conformance.reference_server.config import ServerConfig
from whip_whep_conformance.reference_server.faults import ActiveFaults

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
PROBLEM = "application/problem+json"
ACCOUNT = "fast-layer"
TOKEN = "fast-layer-token"
REQUEST_TIMEOUT_S = 10.0  # a whole request, body included: a server that never finishes fails the test, never hangs it


def server_config(pair: profiles.ProfilePair = profiles.STANDARD, faults: tuple[str, ...] = (), **options: Any) -> ServerConfig:
    """Loopback only, no STUN/TURN, the profile pair, the fault names, and any other ServerConfig field
    (token, api_token, patch, ice_restart, require_publisher, link_ice_servers, ...)."""
    return ServerConfig(host="127.0.0.1", port=0, ice_hosts=["127.0.0.1"], ice_servers=[],
                        whip_profile=pair.whip, whep_profile=pair.whep, faults=ActiveFaults.named(faults), **options)


def build_app(config: ServerConfig) -> web.Application:
    """The reference server's application for `config`."""
    return make_app(config)


async def serve(config: ServerConfig) -> "Server":
    """The application served by aiohttp's TestServer on 127.0.0.1 (any free port), with a client."""
    client = TestClient(TestServer(build_app(config), host="127.0.0.1", port=0))
    await client.start_server()
    return Server(client, config)


@dataclass
class LiveInput:
    """A live input made through the API: the paths of its WHIP endpoint (publish) and WHEP endpoint (play)."""

    uid: str
    publish: str
    play: str


@dataclass
class Session:
    """A session the server created: its URL path, its ETag and the body of its 201."""

    path: str
    etag: str
    answer: str
    created: ClientResponse


@dataclass
class Server:
    """One running application and a client bound to it; requests take paths (`/client/v4/...`)."""

    client: TestClient
    config: ServerConfig

    def auth(self) -> dict[str, str]:
        """The Authorization header the server's token asks for (none when it asks for none)."""
        return {"Authorization": f"Bearer {self.config.token}"} if self.config.token else {}

    def api_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_token}"} if self.config.api_token else {}

    async def request(self, method: str, path: str, **kwargs: Any) -> ClientResponse:
        """One request, its body read before it returns (the response stays usable afterwards).
        Redirects are not followed: a 3xx is an answer to assert on."""
        kwargs.setdefault("timeout", ClientTimeout(total=REQUEST_TIMEOUT_S))
        response = await self.client.request(method, path, allow_redirects=False, **kwargs)
        await response.read()
        return response

    async def live_input(self) -> LiveInput:
        """A new live input. The control for everything arranged on it: the API must answer 201."""
        response = await self.request("POST", f"/client/v4/accounts/{ACCOUNT}/stream/live_inputs",
                                      json={"meta": {"name": "fast"}}, headers=self.api_auth())
        assert response.status == 201, f"arranging a live input: POST live_inputs got {response.status}"
        result = (await response.json())["result"]
        return LiveInput(result["uid"], URL(result["webRTC"]["url"]).path, URL(result["webRTCPlayback"]["url"]).path)

    async def post_offer(self, endpoint: str, offer: str, content_type: str | None = SDP, authorized: bool = True,
                         **headers: str) -> ClientResponse:
        """POST `offer` to a WHIP or WHEP endpoint: with the server's token (unless not `authorized`, or
        `headers` name another Authorization) and typed `content_type` (None: untyped)."""
        typed = {"Content-Type": content_type} if content_type else {}
        token = self.auth() if authorized else {}
        untyped = () if content_type else ("Content-Type",)  # aiohttp would type bytes application/octet-stream
        return await self.request("POST", endpoint, data=offer.encode() or None, headers={**token, **typed, **headers},
                                  skip_auto_headers=untyped)

    async def session(self, endpoint: str, offer: str) -> Session:
        """A session set up by POST. The control for what is then done to it: 201 with Location and ETag."""
        response = await self.post_offer(endpoint, offer)
        assert response.status == 201, f"arranging a session: POST {endpoint} got {response.status}: {await response.text()}"
        location, etag = response.headers.get("Location"), response.headers.get("ETag")
        assert location and etag, f"arranging a session: the 201 lacks Location ({location!r}) or ETag ({etag!r})"
        return Session(URL(location).path, etag, await response.text(), response)

    async def patch(self, path: str, body: str, content_type: str = SDPFRAG, if_match: str | None = None,
                    authorized: bool = True, **headers: str) -> ClientResponse:
        """PATCH a session URL (trickle ICE, ICE restart, or an SDP answer to a server offer)."""
        extra = {"If-Match": if_match} if if_match is not None else {}
        token = self.auth() if authorized else {}
        return await self.request("PATCH", path, data=body.encode(),
                                  headers={**token, "Content-Type": content_type, **extra, **headers})

    async def close(self) -> None:
        """Shut the application down: its on_shutdown closes every session's peer connection."""
        await self.client.close()


def described(response: ClientResponse, body: str | None = None) -> str:
    """`201 Created (Location: ..., ETag: ...)`-style text for failure messages: what was received."""
    shown = "; ".join(f"{k}: {v}" for k, v in response.headers.items() if k.lower() not in ("date", "server", "content-length"))
    return f"{response.method} {response.url.path} got {response.status} {response.reason} [{shown}]" + (f" {body[:200]!r}" if body else "")
