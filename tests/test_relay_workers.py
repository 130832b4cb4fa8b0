"""`--relay-workers=2`: viewers spread over two worker processes behind one API port, each worker fed
from the process that holds the publisher (real processes, real media; no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from aiortc import RTCSessionDescription

from whip_whep_conformance.harness import player
from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.webrtc import peer

SDP = {"Content-Type": "application/sdp"}
DEADLINE_S = 20.0


@pytest.fixture
def server():
    peer.restrict_host_addresses(["127.0.0.1"])
    started = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[], extra_args=["--relay-workers=2"],
                             start_timeout_s=90)
    started.start()
    yield started
    started.stop()
    peer.restrict_host_addresses(None)


class Audience:
    """A live input with a publisher, and the API's account of the workers (GET /client/v4/relay_workers)."""

    def __init__(self, server: EmbeddedServer, http: httpx.AsyncClient) -> None:
        self.server, self.http = server, http
        self.auth = {"Authorization": f"Bearer {server.api_token}"}
        self.publisher = player.publisher("vp8")
        self.viewers: list[tuple[player.Player, str]] = []  # with its session URL

    async def publish(self) -> None:
        created = await self.http.post(f"{self.server.base_url}/client/v4/accounts/t/stream/live_inputs", headers=self.auth)
        self.urls = created.json()["result"]
        answer = await self.http.post(self.urls["webRTC"]["url"], content=await peer.local_offer(self.publisher), headers=SDP)
        await self.publisher.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        assert await peer.wait_connected(self.publisher, DEADLINE_S) == "connected"

    async def view(self) -> tuple[player.Player, str]:
        viewer, url, _ = await self.view_with_links()
        return viewer, url

    async def view_with_links(self) -> tuple[player.Player, str, httpx.Response]:
        viewer = player.Player([])
        posted = await self.http.post(self.urls["webRTCPlayback"]["url"], content=await peer.local_offer(viewer.pc), headers=SDP)
        assert posted.status_code == 201, posted.text
        await viewer.pc.setRemoteDescription(RTCSessionDescription(posted.text, "answer"))
        url = str(httpx.URL(self.urls["webRTCPlayback"]["url"]).join(posted.headers["Location"]))
        self.viewers.append((viewer, url))
        return viewer, url, posted

    async def workers(self) -> list[dict]:
        return (await self.http.get(f"{self.server.base_url}/client/v4/relay_workers", headers=self.auth)).json()["result"]

    async def until(self, condition, what: str) -> list[dict]:
        """The workers' account once `condition(account)` holds, within DEADLINE_S (polled: it is another process's state)."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            account = await self.workers()
            if condition(account):
                return account
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {DEADLINE_S} s: {account}")
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        for viewer, _ in self.viewers:
            await viewer.close()
        await self.publisher.close()


def _scenario(server: EmbeddedServer, act) -> object:
    async def run() -> object:
        async with httpx.AsyncClient(timeout=DEADLINE_S) as http:
            audience = Audience(server, http)
            try:
                await audience.publish()
                return await act(audience)
            finally:
                await audience.close()

    return asyncio.run(run())


def _worker_of(account: list[dict], session_url: str) -> int | None:
    sid = session_url.rstrip("/").rsplit("/", 1)[-1]
    return next((w["index"] for w in account if sid in w["sessions"]), None)


def test_viewers_on_both_workers_each_decode_frames(server):
    async def act(audience: Audience) -> dict:
        joined = [await audience.view() for _ in range(4)]
        frames = await asyncio.gather(*(viewer.wait_frames("video", 5, DEADLINE_S) for viewer, _ in joined))
        account = await audience.workers()
        return {"frames": frames, "workers": sorted({_worker_of(account, url) for _, url in joined})}

    seen = _scenario(server, act)
    assert seen == {"frames": [True] * 4, "workers": [0, 1]}, f"every viewer decodes video, and both workers hold some: {seen}"


SSE = "urn:ietf:params:whep:ext:core:server-sent-events"


def test_viewercount_counts_the_viewers_of_every_worker(server):
    async def act(audience: Audience) -> dict:
        _, first_url, posted = await audience.view_with_links()
        sse = next(link for link in posted.headers.get_list("link") if SSE in link).split(">")[0].lstrip("<")
        opened = await audience.http.post(str(posted.url.join(sse)), json=["viewercount"])
        counts: list[int] = []
        async with audience.http.stream("GET", str(posted.url.join(opened.headers["Location"]))) as stream:
            lines = stream.aiter_lines()

            async def until_two() -> None:
                async for line in lines:
                    if line.startswith("data:"):
                        counts.append(json.loads(line[5:])["viewercount"])
                        if counts[-1] == 1 and len(counts) == 1:
                            await audience.view()  # the second viewer: the other worker (fewest viewers)
                        if counts[-1] >= 2:
                            return

            await asyncio.wait_for(until_two(), DEADLINE_S)
        account = await audience.workers()
        return {"counts": counts[-1], "workers": sorted(_worker_of(account, url) for _, url in audience.viewers)}

    seen = _scenario(server, act)
    assert seen == {"counts": 2, "workers": [0, 1]}, f"a viewer on one worker counts the viewer on the other: {seen}"


def test_delete_through_the_api_port_ends_the_workers_session_and_its_feed(server):
    async def act(audience: Audience) -> dict:
        viewer, url = await audience.view()
        assert await viewer.wait_frames("video", 3, DEADLINE_S)
        account = await audience.workers()
        worker = _worker_of(account, url)
        fed = account[worker]["feeds"]
        deleted = await audience.http.delete(url)
        after = await audience.until(lambda a: not a[worker]["feeds"], "the worker's feed ended")
        again = await audience.http.delete(url)
        return {"fed before": bool(fed), "delete": deleted.status_code, "again": again.status_code,
                "viewers after": after[worker]["viewers"].get(audience.urls["uid"])}

    seen = _scenario(server, act)
    assert seen == {"fed before": True, "delete": 200, "again": 404, "viewers after": 0}, (
        f"DELETE through the API port ends the session at its worker, and the worker's last viewer takes the feed along: {seen}")


def test_a_worker_that_dies_is_reported_and_gets_no_new_viewers(server):
    async def act(audience: Audience) -> dict:
        os.kill((await audience.workers())[0]["pid"], signal.SIGKILL)
        await audience.until(lambda account: not account[0]["alive"], "worker 0 shown dead")
        viewer, url = await audience.view()
        return {"frames": await viewer.wait_frames("video", 3, DEADLINE_S), "worker": _worker_of(await audience.workers(), url)}

    seen = _scenario(server, act)
    server._stderr.seek(0)  # the server's log (EmbeddedServer keeps it for its start-up errors)
    logged = [line for line in server._stderr.read().splitlines() if "relay worker 0" in line and "died (signal 9)" in line]
    assert seen == {"frames": True, "worker": 1} and logged, (
        f"a killed worker is logged as dead and the next viewer plays from the other one: {seen}, log {logged}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    return status != "Z"


def test_killing_the_server_leaves_no_worker(server):
    async def act(audience: Audience) -> list[int]:
        return [w["pid"] for w in await audience.workers()]

    pids = _scenario(server, act)
    assert server.proc is not None
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    deadline = time.monotonic() + DEADLINE_S
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)], f"workers {pids} outlive their SIGKILLed server"


def test_faults_are_refused_with_workers():
    refused = subprocess.run([sys.executable, "-m", "whip_whep_conformance.reference_server", "--relay-workers=2",
                              "--fault", "nack-ignored"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--relay-workers > 1 cannot be combined with --fault" in refused.stderr, refused.stderr


def test_dot_segments_never_reach_a_workers_internal_routes(server):
    """A WHEP URL with ".." is refused 400 at the API port: forwarded, the client side would normalise it to
    a worker's internal /_relay/ routes (which end an input's viewers without a token)."""
    import http.client
    from urllib.parse import urlsplit

    with httpx.Client(timeout=DEADLINE_S) as api:
        created = api.post(f"{server.base_url}/client/v4/accounts/t/stream/live_inputs",
                            headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]
    play = urlsplit(created["webRTCPlayback"]["url"])
    uid = created["uid"]
    answers = {}
    for dots in ("..", "%2e%2e"):
        connection = http.client.HTTPConnection(play.hostname, play.port, timeout=DEADLINE_S)
        # http.client sends the path as written (httpx and aiohttp's client would normalise it first)
        connection.request("DELETE", f"{play.path}/x/{dots}/{dots}/{dots}/{dots}/_relay/inputs/{uid}")
        answers[dots] = connection.getresponse().status
        connection.close()
    assert answers == {"..": 400, "%2e%2e": 400}, f"a dot-segment WHEP URL is refused 400 at the API port; got {answers}"


def test_sessions_are_listed_across_the_workers(server):
    """GET /client/v4/sessions on the API port lists the publisher (the origin's) and each viewer (its
    worker's), as one process would: the client conformance suite reads its observations there."""
    async def act(audience: Audience) -> dict:
        joined = [await audience.view() for _ in range(2)]
        listed = await audience.http.get(f"{audience.server.base_url}/client/v4/sessions", headers=audience.auth)
        ids = {s["id"] for s in listed.json()["result"]} if listed.status_code == 200 else set()
        account = await audience.workers()
        return {"status": listed.status_code, "workers": sorted(_worker_of(account, url) for _, url in joined),
                "viewers listed": sum(url.rstrip("/").rsplit("/", 1)[-1] in ids for _, url in joined)}

    seen = _scenario(server, act)
    assert seen == {"status": 200, "workers": [0, 1], "viewers listed": 2}, (
        f"GET /client/v4/sessions through the API port lists the viewers of both workers: {seen}")


def test_an_ended_session_is_forgotten_by_the_routing(server):
    """The API process keeps a session -> worker entry per viewer while the session lives; a DELETEd one is
    dropped (else every viewer ever served stays in memory, and in GET /client/v4/relay_workers)."""
    async def act(audience: Audience) -> dict:
        _, url = await audience.view()
        sid = url.rstrip("/").rsplit("/", 1)[-1]
        before = any(sid in w["sessions"] for w in await audience.workers())
        deleted = await audience.http.delete(url)
        after = any(sid in w["sessions"] for w in await audience.workers())
        return {"listed while live": before, "delete": deleted.status_code, "listed after DELETE": after}

    seen = _scenario(server, act)
    assert seen == {"listed while live": True, "delete": 200, "listed after DELETE": False}, (
        f"the routing forgets a session its DELETE ended: {seen}")


def test_a_session_ended_by_its_viewer_closing_is_forgotten_by_the_routing(server):
    """No DELETE: the viewer closes its peer connection (DTLS close_notify), the worker ends the session
    and its report to the API process drops the route."""
    async def act(audience: Audience) -> dict:
        viewer, url = await audience.view()
        sid = url.rstrip("/").rsplit("/", 1)[-1]
        assert await viewer.wait_frames("video", 3, DEADLINE_S)
        before = any(sid in w["sessions"] for w in await audience.workers())
        await viewer.close()
        await audience.until(lambda account: not any(sid in w["sessions"] for w in account), "the route forgotten")
        return {"listed while live": before, "forgotten": True}

    seen = _scenario(server, act)
    assert seen == {"listed while live": True, "forgotten": True}, f"the routing forgets a session its viewer ended: {seen}"


def test_a_hung_worker_gets_its_viewer_a_504_not_a_wait():
    """A worker that stops answering (SIGSTOP here) costs its next viewer --relay-answer-timeout and a 504,
    not a request that never ends."""
    answer_timeout_s = 3.0
    peer.restrict_host_addresses(["127.0.0.1"])
    started_server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[], start_timeout_s=90,
                                    extra_args=["--relay-workers=2", f"--relay-answer-timeout={answer_timeout_s}"])
    started_server.start()

    async def act(audience: Audience) -> dict:
        first = (await audience.workers())[0]["pid"]  # with no viewers yet, the next POST goes to worker 0
        os.kill(first, signal.SIGSTOP)
        try:
            viewer = player.Player([])
            started = time.monotonic()
            async with httpx.AsyncClient(timeout=answer_timeout_s + DEADLINE_S) as http:
                posted = await http.post(audience.urls["webRTCPlayback"]["url"], content=await peer.local_offer(viewer.pc),
                                         headers=SDP)
            waited = time.monotonic() - started
            await viewer.close()
        finally:
            os.kill(first, signal.SIGCONT)
        return {"status": posted.status_code, "answered in time": waited < answer_timeout_s + 5}

    try:
        seen = _scenario(started_server, act)
    finally:
        started_server.stop()
        peer.restrict_host_addresses(None)
    assert seen == {"status": 504, "answered in time": True}, f"a hung worker's viewer gets 504 after {answer_timeout_s} s: {seen}"


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its socket fds, matched in /proc/net/tcp)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for line in open(f"/proc/{pid}/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_internal_routes_refuse_a_request_without_the_relay_secret(server):
    """The workers' and the origin's /_relay/ routes listen on loopback ports any local user reaches: a
    request without the secret the processes share (relay_secret.py) is refused, and the viewers stay."""
    async def act(audience: Audience) -> dict:
        viewer, url = await audience.view()
        assert await viewer.wait_frames("video", 3, DEADLINE_S)
        account = await audience.workers()
        worker = _worker_of(account, url)
        uid = audience.urls["uid"]
        assert server.proc is not None
        api_port = httpx.URL(server.base_url).port
        origin_ports = _listening_ports(server.proc.pid) - {api_port}
        worker_ports = _listening_ports(account[worker]["pid"])
        answers = {}
        for port in worker_ports:
            answers[f"worker DELETE {port}"] = (await audience.http.delete(f"http://127.0.0.1:{port}/_relay/inputs/{uid}")).status_code
        for port in origin_ports:
            answers[f"origin PUT {port}"] = (await audience.http.put(f"http://127.0.0.1:{port}/_relay/workers/{worker}/viewers",
                                                                     json={"viewers": {uid: 0}, "ended": []})).status_code
        frames_before = viewer.streams["video"].frames
        still = await viewer.wait_for("video", lambda s: s.frames >= frames_before + 10, DEADLINE_S)
        after = await audience.workers()
        return {"refused": sorted(set(answers.values())), "ports": bool(worker_ports) and bool(origin_ports),
                "still playing": still, "viewers counted": after[worker]["viewers"].get(uid)}

    seen = _scenario(server, act)
    assert seen == {"refused": [403], "ports": True, "still playing": True, "viewers counted": 1}, (
        f"internal routes without the relay secret are refused 403, the viewer plays on: {seen}")


def test_viewers_joining_one_after_another_are_spread_evenly(server):
    """Each POST goes to the worker with the fewest live sessions the routing knows of (each 201 counts
    before the client has it; each reported end drops one) and POSTs on their way: six joiners POSTing
    back to back end three on each worker, whenever the workers' own reports arrive."""
    async def act(audience: Audience) -> list[int]:
        viewers = [player.Player([]) for _ in range(6)]
        offers = [await peer.local_offer(v.pc) for v in viewers]  # made first: the POSTs follow one another at once
        try:
            urls = []
            for offer in offers:
                posted = await audience.http.post(audience.urls["webRTCPlayback"]["url"], content=offer, headers=SDP)
                assert posted.status_code == 201, posted.text
                urls.append(posted.headers["Location"])
            account = await audience.workers()
        finally:
            for viewer in viewers:
                await viewer.close()
        return sorted(sum(_worker_of(account, url) == w for url in urls) for w in (0, 1))

    seen = _scenario(server, act)
    assert seen == [3, 3], f"six viewers joining one after another: three on each worker; got {seen}"
