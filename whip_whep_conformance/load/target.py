"""What the load is pointed at, and the publishers it needs there.

The two target modes of the suite: `--live-inputs=URL --api-token=T` (a Cloudflare-shaped API mints one
input per publisher; each is published over WHIP and played over WHEP, and deleted at the end) or
`--endpoint=WHIP --whep-endpoint=WHEP --token=T` (one publisher on the fixed endpoint; `--whep-endpoint`
alone plays what is live). No target option: the embedded reference server, started as the suite does.
Everything created is registered with the suite's leftovers (harness.leftovers) until it is deleted.
"""

from __future__ import annotations

import asyncio

import httpx

from whip_whep_conformance.harness.client import LiveInputsApi
from whip_whep_conformance.harness.embedded import EmbeddedServer, ServerStartError
from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness.target import Target
from whip_whep_conformance.harness.wire import redact_text, url_secrets
from whip_whep_conformance.load.publisher import Publication, PublishFailed, publish, unpublish
from whip_whep_conformance.protocol import profiles

TEARDOWN_TIMEOUT_S = 30.0


class Unreachable(RuntimeError):
    """The target is unreachable or cannot be load-tested (exit 6); the message says why."""


class LoadTarget:
    def __init__(self, *, live_inputs: str | None, api_token: str | None, endpoint: str | None,
                 whep_endpoint: str | None, token: str | None, publishers: int, codec: str,
                 ice_servers: list[str], timeout_s: float) -> None:
        self.publishers, self.codec, self.timeout_s = publishers, codec, timeout_s
        self.ice_servers = ice_servers
        self.server: EmbeddedServer | None = None
        self.target = Target(whip_profile=profiles.AUTO, whep_profile=profiles.AUTO, endpoint=endpoint,
                             whep_endpoint=whep_endpoint, live_inputs=live_inputs, token=token,
                             api_token=api_token, ice_servers=ice_servers, timeout_s=timeout_s, label="remote")
        self.inputs: list[str] = []  # live inputs created (their API resource URLs)
        self.publications: list[Publication] = []
        self.http = httpx.AsyncClient(timeout=timeout_s)
        self.secrets: list[str] = []  # beside the target's own (tokens, a fixed publish URL's secret)

    @property
    def embedded(self) -> bool:
        return not (self.target.live_inputs or self.target.endpoint or self.target.whep_endpoint)

    def describe(self) -> str:
        if self.embedded and self.server is None:
            return "the embedded reference server"
        return self.target.describe()

    def redact(self, text: str) -> str:
        return redact_text(text, (*self.target.secrets, *self.secrets))

    def _api_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.target.api_token}"} if self.target.api_token else {}

    async def setup(self) -> list[str]:
        """Start the publishers; the WHEP URLs the viewers play, one per publisher (round robin)."""
        if self.embedded:
            self.server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[], ice_servers=self.ice_servers)
            try:
                started = await asyncio.to_thread(self.server.start)
            except ServerStartError as exc:
                raise Unreachable(str(exc)) from None
            started.timeout_s = self.timeout_s
            self.target = started
        try:
            if self.target.live_inputs:
                return [await self._input() for _ in range(self.publishers)]
            if self.target.endpoint:
                await self._publish(self.target.endpoint)
            else:  # nothing is published: one request says whether the WHEP endpoint answers at all
                await self.http.options(self.target.whep_endpoint)
            return [self.target.whep_endpoint]
        except httpx.HTTPError as exc:
            raise Unreachable(f"target {self.describe()} is unreachable: {type(exc).__name__}: {exc or 'no answer'}") from None
        except PublishFailed as exc:
            raise Unreachable(f"target {self.describe()} cannot be load-tested: {exc}") from None

    async def _input(self) -> str:
        collection = self.target.live_inputs
        assert collection is not None
        response = await self.http.post(collection, json={"meta": {"name": LEFTOVERS.live_input_name}},
                                        headers=self._api_auth())
        if response.status_code in (401, 403):
            raise Unreachable(f"the live inputs API answered {response.status_code} to creating an input: "
                              f"{'check --api-token' if self.target.api_token else 'give --api-token'}")
        try:
            urls = LiveInputsApi.urls(response, collection)
        except ValueError as exc:
            raise Unreachable(f"{self.describe()} is not a live inputs API: {exc}") from None
        if urls.resource_url:
            LEFTOVERS.add(urls.resource_url, self._api_auth())
            self.inputs.append(urls.resource_url)
        self.secrets += url_secrets(urls.whip_url, public=(urls.whep_url,))  # a publish URL is a credential
        await self._publish(urls.whip_url)
        if not urls.whep_url:
            raise Unreachable("the live input has no WHEP playback URL (webRTCPlayback)")
        return urls.whep_url

    async def _publish(self, whip_url: str) -> None:
        auth = {"Authorization": f"Bearer {self.target.token}"} if self.target.token else {}
        publication = await publish(self.http, whip_url, self.target.token, self.codec, self.ice_servers, self.timeout_s,
                                    created=lambda url: LEFTOVERS.add(url, auth))  # swept if its ICE/DTLS is cut short
        self.publications.append(publication)

    async def packets_sent(self) -> int:
        """RTP packets the publishers have sent so far (aiortc's outbound-rtp stats): the publisher encodes
        live in this process, so a step where it slowed is the load tool's, not the target's."""
        sent = 0
        for publication in self.publications:
            for sender in publication.pc.getSenders():
                for stats in (await sender.getStats()).values():
                    if getattr(stats, "type", "") == "outbound-rtp":
                        sent += stats.packetsSent
        return sent

    async def teardown(self) -> list[str]:
        """Delete the publishers' sessions and the live inputs, then sweep what is left; stop the embedded
        server. Returns what could not be deleted."""
        try:
            for publication in self.publications:
                try:
                    if await asyncio.wait_for(unpublish(self.http, publication, self.target.token), self.timeout_s):
                        LEFTOVERS.discard(publication.session_url or "")
                except (asyncio.TimeoutError, httpx.HTTPError):
                    pass
            for url in self.inputs:
                try:
                    status = (await self.http.delete(url, headers=self._api_auth())).status_code
                    if status < 300 or status == 404:
                        LEFTOVERS.discard(url)
                except httpx.HTTPError:
                    pass
            await self.http.aclose()
            failed = await asyncio.to_thread(LEFTOVERS.sweep, self.timeout_s, self.target.verify)
            if self.target.live_inputs:
                _, more = await asyncio.to_thread(LEFTOVERS.sweep_collection, self.target.live_inputs,
                                                  self._api_auth(), self.timeout_s, self.target.verify)
                failed += more
            return failed
        finally:
            if self.server is not None:
                await asyncio.to_thread(self.server.stop)
