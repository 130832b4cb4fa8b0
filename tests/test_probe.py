"""The start-up probe against a real WHIP server (the reference server, started on its own): a token it
refuses stops the run at once with the hint, exit 6; a token it does not need changes nothing; and
the session the probe's offer creates is deleted before any case runs."""

from __future__ import annotations

import pytest


from .plain_shell import new_live_input, run_cli, stats, vendor_server

STANDARD = ["--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03"]
ONE_CASE = ["-k", "test_offer_is_answered_201_created"]


@pytest.fixture(scope="module")
def token_server():
    with vendor_server(token=True) as s:
        yield s


@pytest.fixture(scope="module")
def open_server():
    with vendor_server() as s:
        yield s


@pytest.mark.parametrize("token, hint", [
    ("--token=not-the-token", "the WHIP POST was answered 401: check --token"),
    (None, "the WHIP POST was answered 401: the endpoint wants a token: give --token"),
])
def test_a_refused_token_stops_the_run_with_a_hint(token_server, token, hint, tmp_path):
    urls = new_live_input(token_server)
    run = run_cli([f"--endpoint={urls.whip_url}", f"--whep-endpoint={urls.whep_url}", *([token] if token else []),
                   *STANDARD], tmp_path, timeout_s=120)
    assert run.returncode == 6, run.output
    assert run.doc["error"] == hint and hint in run.stdout, run.doc["error"]
    assert run.doc["cases"] == [], "cases ran with a token the target refuses"


def test_the_right_token_runs(token_server, tmp_path):
    urls = new_live_input(token_server)
    run = run_cli([f"--endpoint={urls.whip_url}", f"--token={token_server.token}", *STANDARD, *ONE_CASE], tmp_path)
    assert run.returncode == 0 and run.verdicts("test_offer_is_answered_201_created") == {"-": "Pass"}, run.output


def test_a_token_the_target_does_not_need_changes_nothing(open_server, tmp_path):
    urls = new_live_input(open_server)
    run = run_cli([f"--endpoint={urls.whip_url}", "--token=unneeded", *STANDARD, *ONE_CASE], tmp_path)
    assert run.returncode == 0 and run.verdicts("test_offer_is_answered_201_created") == {"-": "Pass"}, run.output


def test_the_probe_deletes_the_sessions_it_creates(open_server, tmp_path):
    urls = new_live_input(open_server)
    run = run_cli([f"--endpoint={urls.whip_url}", f"--whep-endpoint={urls.whep_url}", *STANDARD,
                   "-k", "no_case_is_called_this"], tmp_path, timeout_s=120)
    assert run.returncode == 5 and run.doc["error"] is None, run.output  # probed, then nothing selected
    assert stats(open_server)["sessions"] == 0, f"the probe left sessions behind: {stats(open_server)}"


def test_a_refused_api_token_stops_the_run_with_a_hint(open_server, tmp_path):
    collection = f"{open_server.base_url}/client/v4/accounts/vendor/stream/live_inputs"
    run = run_cli([f"--live-inputs={collection}", "--api-token=not-the-token", *STANDARD], tmp_path, timeout_s=120)
    assert run.returncode == 6, run.output
    assert run.doc["error"] == "the live inputs API answered 401 to creating an input: check --api-token", run.doc["error"]


def test_a_whep_endpoint_failing_while_nothing_is_live_is_tested_not_turned_away(tmp_path):
    """The probe publishes nothing, so a WHEP endpoint that answers 5xx while no publisher is live
    (janus-whep-server in VideoRoom mode; the lab's janus-1.4.2-videoroom) is still run: its 500 is
    graded once, under WHEPL-4.2.8-1, by the case that publishes first, not reported as no endpoint."""
    with vendor_server(faults=["needs-publisher-500"], extra_args=["--require-publisher"]) as s:
        urls = new_live_input(s)
        run = run_cli([f"--endpoint={urls.whip_url}", f"--whep-endpoint={urls.whep_url}", *STANDARD,
                       "--requirement=WHEPL-4.2.8-1"], tmp_path, timeout_s=300)
    assert run.doc["error"] is None and run.doc["cases"], f"the run was stopped: {run.doc['error']}\n{run.output}"
    graded = [c["verdict"] for c in run.doc["cases"] if any(r["id"] == "WHEPL-4.2.8-1" for r in c["requirements"])]
    assert "Fail" in graded, f"the 500 without a publisher was not graded under WHEPL-4.2.8-1: {graded}\n{run.output}"
