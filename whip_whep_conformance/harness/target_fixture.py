"""The `target` fixture: the embedded reference server per profile pair, or the user's endpoint."""

from __future__ import annotations

import asyncio
from typing import Iterator
from urllib.parse import urljoin

import httpx
import pytest

from whip_whep_conformance.protocol import headers, profiles
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness.client import LiveInputsApi
from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness.target import Target
from whip_whep_conformance.verdicts import EXIT_UNREACHABLE
from whip_whep_conformance.harness.wire import redact_text, url_secrets

from whip_whep_conformance.harness.embedded import EmbeddedServer, ServerStartError


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Parametrized by the plugin: a ProfilePair in embedded mode, None for a remote target."""
    config = request.config
    pair: profiles.ProfilePair | None = request.param
    if pair is not None:
        server = EmbeddedServer(
            pair,
            token=pair == profiles.STANDARD,  # Cloudflare's pair puts the secret in the URL instead
            redirect=pair == profiles.STANDARD,  # POSTs go through a 307, so the redirect cases apply; Cloudflare's pair answers directly
            faults=config.getoption("server_fault") or [],
            ice_servers=config.getoption("ice_server") or [],
            extra_args=config.getoption("server_option") or [],
        )
        try:
            found = server.start()
        except ServerStartError as exc:
            config.stash[UNREACHABLE] = str(exc)
            pytest.exit(str(exc), returncode=EXIT_UNREACHABLE)
        found.timeout_s = config.getoption("timeout_s")
        found.may_create = not config.getoption("no_create")
        found.slow_cases = config.getoption("slow_cases")
        found.verify = config.getoption("ca_bundle") or not config.getoption("insecure")  # --server-option=--tls
        try:
            yield found
        finally:
            server.stop()
        return
    found = probed_target(config)
    if isinstance(found, str):
        config.stash[UNREACHABLE] = found
        pytest.exit(found, returncode=EXIT_UNREACHABLE)
    yield found


UNREACHABLE = pytest.StashKey[str]()
PROBED = pytest.StashKey["Target | str"]()
# Passed from the process that probed to pytest-xdist workers: they take its findings, never POST again.
PROBE_INPUT = "whip_whep_probe"


def probed_target(config: pytest.Config) -> Target | str:
    """The user's target, probed once per run (the plugin probes before it starts any worker);
    a string is why it cannot be tested."""
    if PROBED not in config.stash:
        found = remote_target(config)
        config.stash[PROBED] = found if isinstance(found, Target) else redact_text(found, option_secrets(config))
    return config.stash[PROBED]


def option_secrets(config: pytest.Config) -> list[str]:
    """What the options give that no console line or report may show: the tokens, and a fixed
    publish URL's secret (the reason a target cannot be tested names its URL)."""
    found = [config.getoption("token"), config.getoption("api_token"),
             *url_secrets(config.getoption("endpoint"), public=(config.getoption("whep_endpoint"),))]
    return [s for s in found if s]


def remote_target(config: pytest.Config) -> Target | str:
    """The user's target; one probe decides that it answers as a WHIP/WHEP endpoint at all, that the
    token is taken, and the profile (auto). A worker process takes the probing process's findings."""
    verify: bool | str = config.getoption("ca_bundle") or not config.getoption("insecure")
    found = Target(
        whip_profile=config.getoption("whip_profile"),
        whep_profile=config.getoption("whep_profile"),
        endpoint=config.getoption("endpoint"),
        whep_endpoint=config.getoption("whep_endpoint"),
        live_inputs=config.getoption("live_inputs"),
        token=config.getoption("token"),
        api_token=config.getoption("api_token"),
        ice_servers=config.getoption("ice_server") or [],
        timeout_s=config.getoption("timeout_s"),
        verify=verify,
        label="remote",
        may_create=not config.getoption("no_create"),
        slow_cases=config.getoption("slow_cases"),
    )
    workerinput = getattr(config, "workerinput", None)
    if workerinput and PROBE_INPUT in workerinput:
        found.whip_profile, found.whep_profile = workerinput[PROBE_INPUT]
        return found
    probe_url = found.live_inputs or found.endpoint or found.whep_endpoint
    deadline_s = found.timeout_s * 6  # OPTIONS and POST to each endpoint, the DELETEs, a live input's create
    try:
        whip_version, whep_version = asyncio.run(asyncio.wait_for(_probe_target(found), timeout=deadline_s))
    except NotAnEndpoint as exc:
        return str(exc)
    except httpx.TooManyRedirects as exc:
        return f"target {probe_url} is not a WHIP/WHEP endpoint: its answers redirect in a loop ({exc})"
    except (httpx.HTTPError, ValueError, asyncio.TimeoutError) as exc:
        reason = str(exc) or f"no complete answer within {deadline_s:g} s"
        return f"target {probe_url} is unreachable or not a WHIP/WHEP endpoint: {reason}"
    if found.whip_profile == profiles.AUTO:
        found.whip_profile = profiles.from_protocol_version(whip_version, profiles.WHIP_PROFILES, profiles.DEFAULT_WHIP)
    if found.whep_profile == profiles.AUTO:
        found.whep_profile = profiles.from_protocol_version(whep_version, profiles.WHEP_PROFILES, profiles.DEFAULT_WHEP)
    return found


class NotAnEndpoint(Exception):
    """The probe's answer shows the target cannot be tested; the message says why and what to do."""


async def _probe_target(found: Target) -> tuple[str | None, str | None]:
    """One look at the target before any case: does it answer as WHIP/WHEP, and which revision does it name?"""
    async with httpx.AsyncClient(timeout=found.timeout_s, verify=found.verify,
                                 follow_redirects=True, max_redirects=MAX_REDIRECTS) as http:
        whip_url, whep_url, cleanup, auth = found.endpoint, found.whep_endpoint, None, {}
        if found.live_inputs and found.may_create:
            auth = {"Authorization": f"Bearer {found.api_token}"} if found.api_token else {}
            response = await http.post(found.live_inputs, json={"meta": {"name": LEFTOVERS.live_input_name}}, headers=auth)
            if response.status_code in (401, 403):
                raise NotAnEndpoint(f"the live inputs API answered {response.status_code} to creating an input: "
                                    f"{'check --api-token' if found.api_token else 'give --api-token'}")
            urls = LiveInputsApi.urls(response, found.live_inputs)
            whip_url, whep_url, cleanup = urls.whip_url, urls.whep_url, urls.resource_url
        if found.live_inputs and not found.may_create:
            # read-only: no live input is minted, so only the collection itself is probed
            response = await http.get(found.live_inputs, headers={"Authorization": f"Bearer {found.api_token}"} if found.api_token else {})
            if response.status_code in (404, 405) or response.status_code >= 500:
                raise ValueError(f"GET {found.live_inputs} answered {response.status_code}: not a live inputs collection")
            return None, None
        if cleanup:
            LEFTOVERS.add(cleanup, auth)
        try:
            whip_version = await _probe(http, whip_url, "WHIP", found) if whip_url else None
            whep_version = await _probe(http, whep_url, "WHEP", found) if whep_url else None
        finally:
            if cleanup and (await http.delete(cleanup, headers=auth)).status_code < 300:
                LEFTOVERS.discard(cleanup)
    return whip_version, whep_version


MAX_REDIRECTS = 5  # RFC 9725 §4.5 lets an endpoint redirect; more hops than this is a loop
# Answers to a valid offer that say the URL is no WHIP/WHEP endpoint (POST not taken there at all).
NOT_AN_ENDPOINT = {404: "nothing at this URL", 405: "POST is not allowed at this URL", 501: "the server does not implement POST"}


async def _probe(http: httpx.AsyncClient, url: str, what: str, found: Target) -> str | None:
    """OPTIONS (answered by every WHIP/WHEP endpoint, for CORS) names the revision; then a valid
    offer is POSTed, as every case will, and the session it creates is DELETEd at once. An offer
    answered 201, or a 4xx that is not about the URL or the credentials, is WHIP/WHEP-like; an HTML
    page, 404/405/501 or any 5xx (a WHEP 5xx excepted, below), a 401/403 (the token) is not testable.
    With --no-create only OPTIONS."""
    options = await http.options(url)
    version = options.headers.get("protocol-version")
    if not found.may_create:
        if options.status_code in NOT_AN_ENDPOINT or _is_html(options):
            raise NotAnEndpoint(f"target {url} is not a {what} endpoint: OPTIONS answered {_described(options)}"
                                f"{' (' + NOT_AN_ENDPOINT[options.status_code] + ')' if options.status_code in NOT_AN_ENDPOINT else ''}")
        return version
    pc = peer.publisher(found.ice_servers) if what == "WHIP" else peer.viewer(found.ice_servers)
    try:
        offer = await peer.local_offer(pc)
    finally:
        await pc.close()
    auth = {"Authorization": f"Bearer {found.token}"} if found.token else {}
    response = await http.post(url, content=offer.encode(), headers={"Content-Type": "application/sdp", **auth})
    status = response.status_code
    if status == 201:
        location = response.headers.get("Location")
        if location:
            session = urljoin(str(response.url), location)
            LEFTOVERS.add(session, auth)
            if (await http.delete(session, headers=auth)).status_code < 500:
                LEFTOVERS.discard(session)
        return response.headers.get("protocol-version") or version
    if status in (401, 403):
        hint = "check --token" if found.token else "the endpoint wants a token: give --token"
        raise NotAnEndpoint(f"the {what} POST was answered {status}: {hint}")
    if what == "WHEP" and status >= 500 and status not in NOT_AN_ENDPOINT and not _is_html(response):
        # Nothing is published when the probe plays: a WHEP endpoint may fail then (janus-whep-server in
        # VideoRoom mode answers 500 with no live feed) where it should say 409 (WHEPL-4.2.8-1). That is a
        # defect for the cases to grade once, with a publisher live (they publish first), not proof that
        # the URL is no WHEP endpoint.
        return version
    if _is_html(response) or status in NOT_AN_ENDPOINT or status >= 500 or not 400 <= status < 500:
        why = NOT_AN_ENDPOINT.get(status) or ("a web page, not a WHIP/WHEP answer" if _is_html(response) else
                                              "the target cannot set up a session" if status >= 500 else
                                              "a WHIP/WHEP endpoint answers an offer 201 Created")
        raise NotAnEndpoint(f"target {url} is not a {what} endpoint: the {what} POST of an SDP offer was answered "
                            f"{_described(response)}: {why}")
    return response.headers.get("protocol-version") or version  # a 4xx about the offer or the moment: WHIP-like


def _is_html(response: httpx.Response) -> bool:
    return headers.media_type(response.headers.get("Content-Type")) in ("text/html", "application/xhtml+xml")


def _described(response: httpx.Response) -> str:
    kind = headers.media_type(response.headers.get("Content-Type"))
    return f"{response.status_code} {response.reason_phrase}".strip() + (f" ({kind})" if kind else "")
