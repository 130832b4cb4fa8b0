"""The `client_case` fixture: a client case's scenario runs and its checks.

A scenario is run once per profile pair and client (the first case that asks runs it; the others
grade the same observations), so a client is started once per scenario, not once per row.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import sys
import time
from dataclasses import dataclass
from typing import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness import player
from whip_whep_conformance.harness.case import CASE
from whip_whep_conformance.harness.embedded import EmbeddedServer, ServerStartError
from whip_whep_conformance.harness.grading import CaseRecord, NotApplicable
from whip_whep_conformance.harness.target import Target
from whip_whep_conformance.harness.wire import WireLog
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.webrtc.peer import local_offer

from .client_process import VERSION, ClientProcess, Stopped, fill
from .observatory import Observatory
from .observed import Observed
from .scenario import Scenario, scenario
from .turn import CREDENTIAL as TURN_CREDENTIAL
from .turn import USERNAME as TURN_USERNAME
from .turn import TurnNotInstalled, TurnServer, TurnUnavailable

# exec: the client itself gets the stop signals, and its exit code is its own, not the shell's
OWN_CLIENT = f"exec {shlex.quote(sys.executable)} -m whip_whep_conformance.own_client"
RUNS = pytest.StashKey[dict]()  # (scenario id, pair id) -> Observed, per process


class ScenarioNotArranged(RuntimeError):
    """The suite could not set a scenario up (its server or its publisher failed): the case is an Error,
    so a broken run never reads as a clean one."""


@dataclass(frozen=True)
class ClientUnderTest:
    """Which client a run grades for one protocol: a command, or a person (--manual)."""

    protocol: str
    command: str | None  # with {url} and {token}; None: --manual
    label: str

    @classmethod
    def of(cls, config: pytest.Config, protocol: str) -> "ClientUnderTest | None":
        """The client the options name for `protocol`; the project's own when none is named at all;
        None when another protocol's client is named (its cases are then Not applicable)."""
        given = config.getoption(f"{protocol}_client")
        manual = config.getoption("manual")
        if given:
            return cls(protocol, given, given)
        if manual:
            return cls(protocol, None, f"manual {protocol} client") if manual == protocol else None
        if config.getoption("whip_client") or config.getoption("whep_client"):
            return None
        faults = "".join(f" --fault={f}" for f in config.getoption("client_fault") or [])
        own = f"{OWN_CLIENT} {protocol} {{url}} --token={{token}}{faults}"
        return cls(protocol, own, f"the project's own {protocol.upper()} client (aiortc){faults}")


def clients_label(config: pytest.Config) -> str:
    """The run's target in every report: the client command line(s) graded."""
    found = [c.label for p in ("whip", "whep") if (c := ClientUnderTest.of(config, p)) is not None]
    return "; ".join(found) or "no client"


class ClientCase:
    """One client case: runs (or reuses) the scenarios it grades, and records its checks."""

    def __init__(self, request: pytest.FixtureRequest, target: Target, record: CaseRecord) -> None:
        self.config = request.config
        self.target = target
        self.record = record

    def expect(self, ok: bool, *ids: str, message: str) -> bool:
        return self.record.expect(ok, *ids, message=message)

    def info(self, req_id: str, message: str) -> None:
        self.record.info(req_id, message)

    def capability(self, supported: bool, req_id: str, message: str) -> bool:
        return self.record.capability(supported, req_id, message)

    def not_applicable(self, reason: str):
        self.record.not_applicable(reason)

    def consent_kept(self, seen: Observed, *ids: str) -> None:
        """The consent cases' one check (WHIP and WHEP, under their own rows): the client answered the
        server's consent checks while its session was held (Observed.consent_lapses), the counts in figures."""
        consent, account = seen.consent_lapses()
        if consent is None:
            self.not_applicable(account)
        self.record.figures.update({f"consent_{k}": v for k, v in consent.items()})
        self.expect(consent.get("most_unanswered_in_a_row", 0) < 2, *ids, message=account)

    def retried_after(self, seen: Observed, status: int, req_id: str) -> None:
        """The retry cases' one check (409 in WHEP, 503 in WHIP and WHEP): Supported when the client tried
        again no sooner than the Retry-After (Observed.retry_after); Not applicable without the refusal."""
        refused, honoured, account = seen.retry_after(status)
        if refused is None:
            self.not_applicable(account)
        self.capability(honoured, req_id, account)

    async def observe(self, protocol: str, name: str) -> Observed:
        """The scenario's observations, running it first if this process has not yet (per profile pair)."""
        the_scenario = scenario(protocol, name)
        client = ClientUnderTest.of(self.config, protocol)
        if client is None:
            raise NotApplicable(f"no {protocol.upper()} client is graded in this run (give --{protocol}-client=CMD)")
        runs = self.config.stash.setdefault(RUNS, {})
        key = (the_scenario.id, self.target.whip_profile, self.target.whep_profile)
        if key not in runs:
            runs[key] = await ScenarioRun(the_scenario, client, self.target, self.config).run()
        observed = runs[key]
        # what results.json shows of the run behind every verdict (the requests are in the messages)
        self.record.figures.update({
            "scenario": the_scenario.id, "client_stopped_by": observed.stopped.how,
            "client_exit_code": observed.stopped.exit_code if observed.stopped.exit_code is not None else "none",
            "session_up_after_s": observed.up_after_s if observed.up_after_s is not None else -1,
            "client_requests": len(observed.requests),
        })
        if (version := VERSION.search(observed.stopped.output)) is not None:
            self.record.figures["client_version"] = version.group(1)
        if observed.unavailable:  # this machine cannot run the scenario at all (no TURN server)
            pytest.skip(f"scenario {the_scenario.id} cannot run here: {observed.unavailable}")
        if observed.notes:  # the suite's own side failed (server, publisher): an Error, never a clean verdict
            raise ScenarioNotArranged(f"scenario {the_scenario.id} could not be arranged: {'; '.join(observed.notes)}")
        return observed


class ScenarioRun:
    """Server, front, (for WHEP) a publisher, then the client; everything stopped at the end."""

    def __init__(self, the_scenario: Scenario, client: ClientUnderTest, target: Target, config: pytest.Config) -> None:
        self.scenario = the_scenario
        self.client = client
        self.pair = profiles.ProfilePair(target.whip_profile, target.whep_profile)
        self.timeout_s = target.timeout_s
        self.grace_s = config.getoption("client_grace_s")
        self.manual_timeout_s = config.getoption("manual_timeout_s")
        self.fixed_token = target.token
        self.config = config
        self.turn: TurnServer | None = None  # the scenario's TURN server, while it runs

    def _server(self, other_base: str, turn: TurnServer | None) -> EmbeddedServer:
        extra = list(self.scenario.server)
        if self.scenario.other_host:
            extra += ["--location-base", other_base]
        for url in list(self.scenario.links) + (turn.link_urls if turn is not None else []):
            extra += ["--link-ice-server", url]
        if turn is not None:
            extra += ["--ice-only-from", turn.relays]
        server = EmbeddedServer(self.pair, token=self.scenario.token, faults=list(self.scenario.faults), ice_servers=[],
                                extra_args=extra, linked_turn=False,
                                ice_hosts=self.config.getoption("server_ice_host"))
        if self.scenario.token and self.fixed_token:
            server.token = self.fixed_token  # --token: the one a person configured in their client (--manual)
        return server

    async def _turn_server(self) -> TurnServer | None:
        """The scenario's TURN server, on the server's (first) ICE address: a client that gathers no
        loopback candidates (libnice) runs with --server-ice-host, and has to reach the TURN server too."""
        if not self.scenario.turn:
            return None
        hosts = self.config.getoption("server_ice_host") or ["127.0.0.1"]
        return await TurnServer(hosts[0], self.config.getoption("turnserver")).start()

    async def run(self) -> Observed:
        """Everything the scenario starts is stopped on the way out, in reverse order, whatever fails."""
        async with contextlib.AsyncExitStack() as started:
            front = await Observatory("").start()
            started.push_async_callback(front.stop)
            try:
                turn = await self._turn_server()
            except TurnNotInstalled as exc:  # this machine cannot run the scenario at all: the cases skip
                observed = self._unarranged(front, "")
                observed.notes, observed.unavailable = [], str(exc)
                return observed
            except TurnUnavailable as exc:  # installed but would not start: the suite's failure, an Error
                return self._unarranged(front, str(exc))
            self.turn = turn
            if turn is not None:
                started.push_async_callback(turn.stop)
            server = self._server(front.urls["other"], turn)
            started.push_async_callback(asyncio.to_thread, server.stop)
            try:
                target = await asyncio.to_thread(server.start)
            except ServerStartError as exc:
                return self._unarranged(front, f"the reference server did not start: {exc}")
            front.upstream = server.base_url
            async with httpx.AsyncClient(timeout=self.timeout_s) as api:
                made = await api.post(target.live_inputs, json={"meta": {"name": f"client {self.scenario.id}"}},
                                      headers={"Authorization": f"Bearer {target.api_token}"})
                result = made.json()["result"]
                uid = result["uid"]
                upstream_url = result["webRTC" if self.scenario.protocol == "whip" else "webRTCPlayback"]["url"]
                if self.scenario.protocol == "whep" and self.scenario.publish_first:
                    publisher, note = await self._publish(api, result["webRTC"]["url"], target.token, turn)
                    if publisher is not None:
                        started.push_async_callback(publisher.close)
                    if note:
                        return self._unarranged(front, note)
                url = front.url(upstream_url)
                observed = await self._watch_client(api, target, uid, url, front)
                if turn is not None:
                    observed.turn, observed.turn_link = turn.attempts(), (TURN_USERNAME, TURN_CREDENTIAL)
                return observed

    def _unarranged(self, front: Observatory, note: str) -> Observed:
        return Observed(self.scenario, self.client.label, "", None, dict(front.urls), list(front.requests), [], [],
                        Stopped(None, "never started", 0.0, ""), False, notes=[note])

    async def _publish(self, api: httpx.AsyncClient, whip_url: str, token: str | None, turn: TurnServer | None):
        """A publisher of the suite's own on the live input, so the player under test has media to play;
        where the server is reachable only through a TURN server, through it (as a user of its own)."""
        pc = player.publisher("vp8", [turn.publisher_url] if turn is not None else None)
        offer = await local_offer(pc)
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        # follow_redirects: a --redirect scenario sends the publisher's POST on with 307 too (RFC 9725 §4.5)
        answer = await api.post(whip_url, content=offer, headers={"Content-Type": "application/sdp", **auth},
                                follow_redirects=True)
        if answer.status_code != 201:
            await pc.close()
            return None, f"the suite's publisher got {answer.status_code} from the reference server"
        await pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        return pc, None

    async def _sessions(self, api: httpx.AsyncClient, target: Target, uid: str) -> list[dict]:
        """The server's view of the sessions of this scenario's protocol on the live input."""
        base = target.live_inputs.split("/accounts/")[0]  # .../client/v4
        try:
            got = await api.get(f"{base}/sessions", headers={"Authorization": f"Bearer {target.api_token}"})
            entries = got.json().get("result", []) if got.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            return []
        return [s for s in entries if s.get("live_input") == uid and s.get("protocol") == self.scenario.protocol]

    async def _wait_up(self, api, target, uid, running, timeout_s: float) -> float | None:
        """Seconds until a client session of ours is connected, by the server's account; None if never.
        Polls another process's state (no event crosses the boundary), every 0.2 s, to a deadline."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if any(s.get("connected") for s in await self._sessions(api, target, uid)):
                return time.monotonic() - t0
            if not running() or self._turn_unused(time.monotonic() - t0):
                return None
            await asyncio.sleep(0.2)
        return None

    def _turn_unused(self, waited_s: float) -> bool:
        """In a TURN-only scenario, where nothing but the TURN server leads to the server: the client has
        not authenticated there within --timeout-s of starting, so it does not use the Link's TURN server
        and its session cannot come up; waiting out the whole deadline would show nothing more."""
        return self.turn is not None and waited_s > self.timeout_s and not self.turn.attempts()

    async def _wait_consent(self, api, target: Target, uid: str, running) -> None:
        """Until the server has sent the scenario's number of consent checks to a session of the client's
        and each has settled (answered, or timed out). aioice checks every 4-6 s, so the deadline gives
        each check 7 s and the setup one more timeout; polled every 0.5 s, as _wait_up polls."""
        wanted = self.scenario.consent_checks
        deadline = time.monotonic() + 7.0 * wanted + self.timeout_s
        while time.monotonic() < deadline and running():
            counts = [s.get("consent", {}) for s in await self._sessions(api, target, uid) if s.get("connected")]
            if any(c.get("sent", 0) >= wanted and c.get("answered", 0) + c.get("unanswered", 0) >= c.get("sent", 0)
                   for c in counts):
                return
            await asyncio.sleep(0.5)

    async def _watch_client(self, api, target: Target, uid: str, url: str, front: Observatory) -> Observed:
        token = target.token
        deadline_s = self.timeout_s * 3 if self.client.command else self.manual_timeout_s
        if self.client.command is None:
            process = None
            self._say(f"scenario {self.scenario.id} ({self.scenario.title}): point your {self.scenario.protocol.upper()} "
                      f"client at {url}" + (f" with Bearer token {token}" if token else "") +
                      f"; waiting up to {deadline_s:g} s for its session")
            running = lambda: True  # noqa: E731
        else:
            process = ClientProcess(fill(self.client.command, url, token),
                                    env={"WHIP_WHEP_URL": url, "WHIP_WHEP_TOKEN": token or ""})
            await process.start()
            running = lambda: process.running  # noqa: E731
        try:
            return await self._graded_run(api, target, uid, url, front, process, running, deadline_s)
        finally:
            if process is not None:
                process.kill_group()  # an error or Ctrl-C on the way: the client (its own session) goes too

    async def _graded_run(self, api, target: Target, uid: str, url: str, front: Observatory,
                          process: ClientProcess | None, running, deadline_s: float) -> Observed:
        token = target.token
        up_after = await self._wait_up(api, target, uid, running, deadline_s)
        if up_after is not None and process is not None:
            await process.wait_exit(self.scenario.hold_s)  # the client holds its session (or ends it itself)
        elif up_after is not None:
            await asyncio.sleep(self.scenario.hold_s)  # a person's client: nothing to wait on but the clock
        if up_after is not None and self.scenario.consent_checks:
            await self._wait_consent(api, target, uid, running)
        before = await self._sessions(api, target, uid)
        if process is not None:
            stopped = await process.stop(self.grace_s)
        else:
            self._say(f"scenario {self.scenario.id}: now stop your client (it should DELETE its session); "
                      f"waiting up to {self.grace_s * 2:g} s")
            t0 = time.monotonic()
            await front.wait_for(lambda rs: any(r.method == "DELETE" for r in rs), self.grace_s * 2)
            stopped = Stopped(None, "manual", round(time.monotonic() - t0, 2), "")
        await front.wait_for(lambda rs: all(r.answered_at is not None for r in rs), self.timeout_s)
        after = await self._sessions(api, target, uid)
        return Observed(self.scenario, self.client.label, url, token, dict(front.urls), list(front.requests),
                        after, before, stopped, up_after is not None,
                        round(up_after, 2) if up_after is not None else None)

    def _say(self, text: str) -> None:
        """A line to the person at the terminal (--manual), past pytest's output capture."""
        capture = self.config.pluginmanager.getplugin("capturemanager")
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if capture is not None and reporter is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(text)
        else:
            print(text, flush=True)


@pytest_asyncio.fixture
async def client_case(request: pytest.FixtureRequest, target: Target) -> AsyncIterator[ClientCase]:
    record = CaseRecord(target.whip_profile, target.whep_profile, WireLog(target.secrets), product_in_scope=
                        (target.whip_profile, target.whep_profile) == (profiles.CLOUDFLARE.whip, profiles.CLOUDFLARE.whep))
    request.node.stash[CASE] = record
    yield ClientCase(request, target, record)
