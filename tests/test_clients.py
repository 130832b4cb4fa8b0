"""`whip-whep-conformance clients`, as a user runs it: the project's own client passes every client case
in both profile pairs; options that belong to the other mode are usage errors; --manual prints a URL per
scenario and grades whatever client a person points at it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Iterator

import pytest

from .suite_run import CLEAN_RUNS, PAIRS, REPO, assert_graded_as_recorded, at_once, selected_params, suite_job

CLI = [sys.executable, "-m", "whip_whep_conformance.cli"]


def _cli(args: list[str], tmp_path: Path, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args, f"--reports-dir={tmp_path}"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout_s)


# The own client's clean runs: one per protocol and profile pair (together, what the default `clients` run
# does, with no scenario run twice: tests/suite_run.py), and trickling. They mostly wait (a client holding
# its session, the 409 scenario's 12 s; measured: a run alone keeps about a fifth of one core busy), so
# they run AT_ONCE at a time, on one worker, as the client fault runs do (tests/test_client_faults.py).
OWN_CLIENT_RUNS = [name for name in CLEAN_RUNS if name.startswith("clients")]
AT_ONCE = 3


@pytest.fixture(scope="module")
def own_client_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """The clean runs this session selected, started when the first test asks (a future per run)."""
    names = [p["name"] for p in selected_params(request.session, "test_own_client_passes_every_client_case")]
    with at_once({name: suite_job(CLEAN_RUNS[name], 1200) for name in names}, tmp_path_factory, AT_ONCE) as futures:
        yield futures


def test_the_own_client_runs_cover_every_client_case():
    """Split by protocol and pair, the clean runs still reach every client case module, in both pairs."""
    modules = {p.relative_to(REPO / "whip_whep_conformance").as_posix()
               for p in (REPO / "whip_whep_conformance" / "suites" / "clients").glob("test_*.py")}
    for pair in PAIRS:
        run = {a for name in OWN_CLIENT_RUNS if name.endswith(f"-{pair}") for a in CLEAN_RUNS[name]}
        assert modules <= run, f"client case modules no clean {pair} run of the own client reaches: {sorted(modules - run)}"


@pytest.mark.slow
@pytest.mark.xdist_group("own-client-clean-runs")  # one worker starts them all (the module's other tests spread)
@pytest.mark.parametrize("name", OWN_CLIENT_RUNS)
def test_own_client_passes_every_client_case(name, own_client_runs):
    """The default `clients` run grades the project's own aiortc client: nothing fails, in either protocol
    or pair; trickling its candidates (RFC 9725 §4.3.2), it passes the PATCH cases that grade them; asking for
    the server's offer (draft-murillo-whep-01 §4.2), the cases that grade how it answers."""
    run = own_client_runs[name].result(timeout=1300)
    assert run.doc is not None, run.output
    bad = [(c["id"], c["verdict"], c["message"]) for c in run.doc["cases"] if c["verdict"] in ("Fail", "Error", "Warning")]
    assert not bad, f"findings against the project's own client: {bad}"
    assert all(t["label"].startswith("client ") for t in run.doc["targets"]), run.doc["targets"]
    assert_graded_as_recorded(name, run.doc)


@pytest.mark.parametrize("args, says", [
    (["clients", "--endpoint=http://127.0.0.1:9/whip"], "--endpoint names a server to test"),
    (["clients", "--server-fault=no-location"], "--server-fault names a server to test"),
    (["clients", "--manual=whip", "--whip-client=true"], "--manual grades a client a person drives"),
    (["clients", "--client-fault=no-such-fault"], "--client-fault: unknown ['no-such-fault']"),
    (["clients", "--client-grace-s=0"], "--client-grace-s=0.0: give a number of seconds above 0"),
    (["--whip-client=true"], "--whip-client grades a client: run `whip-whep-conformance clients"),
    (["clients", "--ice-host=10.0.0.1"], "--ice-host is an option of a server run"),
    (["clients", "--server-ice-host=999.1.1.1"], "--server-ice-host=999.1.1.1: not an IP address"),
    (["clients", "--manual=whip", "--max-concurrency=2"], "--manual: one scenario at a time"),
    (["clients", "whip/test_4_2_ingest_session_setup.py"], "is a server case"),
])
def test_options_of_the_other_mode_are_usage_errors(args, says, tmp_path):
    """A client option in a server run, or a server target in a client run, is exit 4 naming the option."""
    done = _cli(args, tmp_path)
    assert done.returncode == 4 and says in done.stderr, f"exit {done.returncode}: {done.stderr[-800:]}"


def test_a_client_that_does_nothing_fails_cleanly(tmp_path):
    """A client command that exits at once (`true`) is graded: the offer case Fails naming what was
    (not) sent; nothing is an Error and the run ends by itself."""
    done = _cli(["clients", "--whip-client=true", "--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03",
                 "suites/clients/test_whip_4_2_ingest_session_setup.py::test_client_posts_its_offer_to_the_endpoint"],
                tmp_path)
    doc = json.loads((tmp_path / "results.json").read_text())
    verdicts = {c["id"].split("::")[1].split("[")[0]: (c["verdict"], c["message"]) for c in doc["cases"]}
    assert done.returncode == 1 and verdicts["test_client_posts_its_offer_to_the_endpoint"][0] == "Fail", (done.stdout[-2000:], verdicts)
    assert "no request at all" in verdicts["test_client_posts_its_offer_to_the_endpoint"][1], verdicts


@pytest.mark.slow
def test_manual_mode_grades_the_client_a_person_points_at_it(tmp_path):
    """--manual=whip prints each scenario's URL and waits: the project's own client, started by hand on
    that URL (as a person would start OBS), is graded like a command's."""
    case = "suites/clients/test_whip_4_2_ingest_session_setup.py::test_client_ends_its_session_with_delete_on_the_location"
    proc = subprocess.Popen([*CLI, "clients", "--manual=whip", "--manual-timeout-s=60", "--client-grace-s=5",
                             "--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03", f"--reports-dir={tmp_path}", case],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    person: list[subprocess.Popen] = []
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if (found := re.search(r"point your WHIP client at (\S+)", line)) and not person:
                url = found.group(1).rstrip(";")
                person.append(subprocess.Popen([sys.executable, "-m", "whip_whep_conformance.own_client", "whip", url],
                                               cwd=REPO))
            if "now stop your client" in line and person:
                person[0].send_signal(2)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=180)
    finally:
        for p in person:
            if p.poll() is None:
                p.kill()
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    assert person, f"no URL was printed: {''.join(lines)[-2000:]}"
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [c["verdict"] for c in doc["cases"]] == ["Pass"], (''.join(lines)[-2000:], doc["cases"])
