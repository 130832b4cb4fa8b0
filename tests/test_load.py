"""`whip-whep-conformance load`: a ramp against the reference server, with real peers and generator processes.

The load tool runs as the user runs it (the console script, its own processes); the reference server is
started here so that what it holds and counts after the run can be asked (GET /client/v4/stats and
/client/v4/sessions, the observations the server already keeps).
"""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles

LOAD = [sys.executable, "-m", "whip_whep_conformance.cli", "load"]
RUN_TIMEOUT_S = 90


def load(*args: str, timeout_s: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([*LOAD, *args], capture_output=True, text=True, timeout=timeout_s)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    started = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[], ice_servers=[])
    started.start()
    yield started
    started.stop()


def api(server: EmbeddedServer, path: str):
    response = httpx.get(f"{server.base_url}/client/v4/{path}", headers={"Authorization": f"Bearer {server.api_token}"})
    return response.json()["result"]


def live_inputs(server: EmbeddedServer) -> str:
    return f"--live-inputs={server.base_url}/client/v4/accounts/conformance/stream/live_inputs"


@pytest.fixture(scope="module")
def ramp(server: EmbeddedServer, tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict, Path]:
    """One small ramp (2 then 4 viewers, 2 s each) over two local generator processes."""
    reports = tmp_path_factory.mktemp("load")
    run = load(live_inputs(server), f"--api-token={server.api_token}", "--viewers=2:4:2", "--hold-s=2",
               "--generators=popen,popen", f"--reports-dir={reports}")
    doc = json.loads((reports / "results.json").read_text())
    return run, doc, reports


def test_a_ramp_writes_a_load_section_with_each_step(ramp) -> None:
    run, doc, _ = ramp
    steps = doc["load"]["steps"]
    assert run.returncode == 0 and [(s["viewers"], s["connected"]) for s in steps] == [(2, 2), (4, 4)], \
        f"two steps, every viewer connected (exit {run.returncode}):\n{run.stdout}\n{run.stderr[-2000:]}"


def test_the_load_section_has_the_step_figures_and_the_knee(ramp) -> None:
    _, doc, _ = ramp
    last = doc["load"]["steps"][-1]
    measured = {key: last[key]["p95"] for key in ("setup_ms", "ttff_ms", "loss_pct", "latency_ms")}
    assert None not in measured.values() and "knee" in doc["load"], \
        f"set-up, TTFF, loss and latency measured, the knee reported: {measured}, knee {doc['load'].get('knee')}"


def test_the_html_report_plots_viewers_against_loss_ttff_and_latency(ramp) -> None:
    _, _, reports = ramp
    html = (reports / "conformance.html").read_text()
    plots = re.findall(r'<svg class="load-plot (\w+)"', html)
    assert plots == ["loss_pct", "ttff_ms", "latency_ms"], f"the load section's three plots, found {plots}"


def test_a_ramp_deletes_every_session_and_live_input_it_created(ramp, server: EmbeddedServer) -> None:
    stats = api(server, "stats")
    assert (stats["live_inputs"], stats["sessions"]) == (0, 0), f"the server still holds: {stats}"


def test_the_viewers_count_the_packets_the_relay_sent_them(ramp, server: EmbeddedServer) -> None:
    """Honesty: each viewer's packet count (every RTP packet, counted from the clear header after DTLS-SRTP)
    against what the relay counted as sent to that session (per mid, only packets its transport took).
    Tolerance: max(3 packets, 0.5%): on loopback nothing is lost, but a packet the relay sends before the
    viewer's SRTP keys are set, or one in flight when the viewer's DELETE is answered, is counted on one
    side only."""
    _, doc, _ = ramp
    sent = {o["url"]: sum(o["rtp_packets"].values()) for o in api(server, "sessions") if o["protocol"] == "whep"}
    counted = {v["session"]: v["packets"] for v in doc["load"]["viewers"]}
    off = {s: (n, sent.get(s)) for s, n in counted.items() if sent.get(s) is None or abs(n - sent[s]) > max(3, sent[s] // 200)}
    assert len(counted) == 4 and not off, f"viewer count against the relay's (counted, sent): {off or counted}"


def test_a_breached_slo_ends_the_ramp_and_exits_1(server: EmbeddedServer, tmp_path: Path) -> None:
    run = load(live_inputs(server), f"--api-token={server.api_token}", "--viewers=1:3:1", "--hold-s=1",
               "--slo-ttff-ms=1", "--generators=popen", f"--reports-dir={tmp_path}")
    steps = json.loads((tmp_path / "results.json").read_text())["load"]["steps"]
    assert (run.returncode, len(steps)) == (1, 1), f"exit 1 after the first step: exit {run.returncode}, {len(steps)} steps\n{run.stdout}"


def test_an_unreachable_target_exits_6(tmp_path: Path) -> None:
    run = load("--live-inputs=http://127.0.0.1:9/client/v4/accounts/x/stream/live_inputs", "--api-token=t",
               "--generators=popen", f"--reports-dir={tmp_path}")
    assert run.returncode == 6 and "unreachable" in run.stderr, f"exit {run.returncode}: {run.stderr[-1000:]}"


def test_a_generator_that_cannot_start_exits_7_and_says_so(tmp_path: Path) -> None:
    """The load tool's own failure, not the target's: a distinct exit code and message."""
    run = load("--viewers=1", "--hold-s=1", "--generators=socket=127.0.0.1:9", f"--reports-dir={tmp_path}")
    html = (tmp_path / "conformance.html").read_text()
    assert (run.returncode, "Load generator failed" in html, "Target unreachable" in html) == (7, True, False), \
        f"exit {run.returncode}: {run.stderr[-1000:]}"


@pytest.mark.parametrize("viewers", ["10:5:1", "many", "0", "1:2"])
def test_bad_viewers_is_a_usage_error(viewers: str, tmp_path: Path) -> None:
    run = load(f"--viewers={viewers}", f"--reports-dir={tmp_path}")
    assert run.returncode == 4 and "--viewers" in run.stderr, f"exit {run.returncode}: {run.stderr}"


def test_a_misspelt_option_is_a_usage_error_naming_the_right_one(tmp_path: Path) -> None:
    run = load("--hold=3", f"--reports-dir={tmp_path}")
    assert run.returncode == 4 and "did you mean --hold-s" in run.stderr, f"exit {run.returncode}: {run.stderr}"


@pytest.fixture
def socket_servers() -> Iterator[list[str]]:
    """Two execnet socket servers on loopback, standing in for two load machines."""
    started, specs = [], []
    try:
        for _ in range(2):
            proc = subprocess.Popen([sys.executable, "-u", "-m", "execnet.script.socketserver", "127.0.0.1:0"],
                                    stdout=subprocess.PIPE, text=True)
            started.append(proc)
            line = proc.stdout.readline()  # "... Entering Accept loop ('127.0.0.1', PORT)"
            port = re.search(r"'127\.0\.0\.1', (\d+)\)", line)
            assert port, f"the socket server said {line!r}"
            specs.append(f"socket=127.0.0.1:{port.group(1)}")
        yield specs
    finally:
        for proc in started:
            proc.terminate()
            proc.wait(10)


def test_two_generator_machines_make_one_merged_report(server: EmbeddedServer, socket_servers: list[str], tmp_path: Path) -> None:
    run = load(live_inputs(server), f"--api-token={server.api_token}", "--viewers=4", "--hold-s=2",
               f"--generators={','.join(socket_servers)}", f"--reports-dir={tmp_path}")
    doc = json.loads((tmp_path / "results.json").read_text())["load"]
    by_generator = sorted({v["generator"] for v in doc["viewers"]})
    step = doc["steps"][0] if doc["steps"] else {}
    assert (run.returncode, by_generator, step.get("connected"), len(step.get("generator_cpu", []))) == (0, [0, 1], 4, 2), \
        f"one step of 4 viewers from both generators (exit {run.returncode}):\n{run.stdout}\n{run.stderr[-2000:]}"


def started_load(tmp_path: Path, *args: str) -> subprocess.Popen:
    """The load tool as a process whose stdout is read line by line (stderr to a file: never an unread pipe)."""
    return subprocess.Popen([*LOAD, *args, f"--reports-dir={tmp_path}"], stdout=subprocess.PIPE,
                            stderr=(tmp_path / "stderr.txt").open("w"), text=True)


def wait_for_line(proc: subprocess.Popen, wanted: Callable[[str], bool], deadline_s: float = 60.0) -> str:
    """The first line of the process's stdout that `wanted` takes, within a deadline (AssertionError if none)."""
    deadline = time.monotonic() + deadline_s
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if wanted(line):
            return line
    raise AssertionError(f"no such line within {deadline_s:g} s; the load tool said: {''.join(seen)[-2000:]}")


def wait_until(condition: Callable[[], bool], deadline_s: float = 30.0, what: str = "") -> None:
    """Poll `condition` (a question to the server) until it holds, within a deadline."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {deadline_s:g} s: {what}"
        time.sleep(0.1)  # the poll's interval, not a synchronisation: the condition is what is waited on


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_deletes_what_the_run_created_and_exits_2(stop: signal.Signals, server: EmbeddedServer, tmp_path: Path) -> None:
    """SIGINT (or SIGTERM) during a step's hold: the generators delete their viewers, the run its publisher and input."""
    proc = started_load(tmp_path, live_inputs(server), f"--api-token={server.api_token}", "--viewers=2:4:2",
                        "--hold-s=30", "--generators=popen")
    try:
        wait_for_line(proc, lambda line: line.startswith("step 1:") and "holding" in line)  # the hold is 30 s
    finally:
        proc.send_signal(stop)
        code = proc.wait(90)
    stats = api(server, "stats")
    assert (code, stats["live_inputs"], stats["sessions"]) == (2, 0, 0), f"exit {code}, the server holds {stats}"


def test_ctrl_c_while_viewers_join_deletes_every_session(server: EmbeddedServer, tmp_path: Path) -> None:
    """SIGINT during step 1's join (--max-rate=1: 1000 viewers would take 1000 s, past any stop deadline): the
    generator takes the stop at once, and the viewers set up so far, whose "add" reply never came, are deleted."""
    proc = started_load(tmp_path, live_inputs(server), f"--api-token={server.api_token}", "--viewers=1000",
                        "--hold-s=30", "--max-rate=1", "--generators=popen")
    try:
        wait_for_line(proc, lambda line: line.startswith("generators:"))
        wait_until(lambda: api(server, "stats")["sessions"] >= 2, what="the publisher's and a viewer's sessions")
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(90)
    stats = api(server, "stats")
    assert (code, stats["live_inputs"], stats["sessions"]) == (2, 0, 0), \
        f"exit {code}, the server holds {stats}; {(tmp_path / 'stderr.txt').read_text()[-1500:]}"


def test_fixed_endpoints_mode_plays_the_whep_endpoint(server: EmbeddedServer, tmp_path: Path) -> None:
    created = httpx.post(f"{server.base_url}/client/v4/accounts/conformance/stream/live_inputs",
                         headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]
    try:
        run = load(f"--endpoint={created['webRTC']['url']}", f"--whep-endpoint={created['webRTCPlayback']['url']}",
                   "--viewers=2", "--hold-s=2", "--generators=popen", f"--reports-dir={tmp_path}")
        steps = json.loads((tmp_path / "results.json").read_text())["load"]["steps"]
    finally:
        httpx.delete(f"{server.base_url}/client/v4/accounts/conformance/stream/live_inputs/{created['uid']}",
                     headers={"Authorization": f"Bearer {server.api_token}"})
    assert run.returncode == 0 and steps and steps[0]["connected"] == 2 and steps[0]["loss_pct"]["max"] is not None, \
        f"exit {run.returncode}: {steps}\n{run.stdout}\n{run.stderr[-1500:]}"


def test_without_a_target_option_the_embedded_reference_server_is_loaded(tmp_path: Path) -> None:
    run = load("--viewers=1", "--hold-s=1", "--generators=popen", f"--reports-dir={tmp_path}")
    doc = json.loads((tmp_path / "results.json").read_text())
    assert (run.returncode, doc["load"]["target"].startswith("embedded reference server"), doc["load"]["steps"][0]["connected"]) \
        == (0, True, 1), f"exit {run.returncode}: {doc['load']}\n{run.stderr[-1500:]}"


def test_viewers_answer_a_406_counter_offer_by_patch_and_count_what_the_relay_sent(tmp_path: Path) -> None:
    """A server that always counter-offers (draft-ietf-wish-whep-03 §4.2.2; the reference server's
    --counter-offer, as janus-whep-server in VideoRoom mode does): every viewer connects through the PATCH."""
    server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[], extra_args=["--counter-offer"])
    server.start()
    try:
        run = load(live_inputs(server), f"--api-token={server.api_token}", "--viewers=2", "--hold-s=2",
                   "--generators=popen", f"--reports-dir={tmp_path}")
        doc = json.loads((tmp_path / "results.json").read_text())["load"]
        sent = {o["url"]: sum(o["rtp_packets"].values()) for o in api(server, "sessions") if o["protocol"] == "whep"}
    finally:
        server.stop()
    seen = [(v["status"], v["packets"] > 0 and abs(v["packets"] - sent.get(v["session"], -10**6)) <= 3) for v in doc["viewers"]]
    assert run.returncode == 0 and doc["steps"][0]["counter_offers"] == 2 and seen == [(406, True)] * 2, \
        f"exit {run.returncode}: {seen} {doc['steps']}\n{run.stderr[-1500:]}"


def test_merge_refuses_a_load_run_by_name(ramp, tmp_path: Path) -> None:
    _, _, reports = ramp
    run = subprocess.run([sys.executable, "-m", "whip_whep_conformance.cli", "merge", str(reports / "results.json"),
                          "-o", str(tmp_path / "matrix.html")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "a load run" in run.stderr, f"exit {run.returncode}: {run.stderr}"
