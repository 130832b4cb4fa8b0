"""Which server a run tests follows from the target options: none of them, the embedded reference
server; any of them, that target, or a usage error naming what is missing. A WHEP-only run
(--whep-endpoint alone) plays what is live there; a WHIP-only run (--endpoint alone) runs every case
that needs no viewer, and says up front how many cases the missing WHEP URL costs."""

from __future__ import annotations

import re
import selectors
import subprocess
import sys

import pytest


from .plain_shell import new_live_input, run_cli, vendor_server
from .suite_run import REPO

STANDARD = ["--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03"]


@pytest.fixture(scope="module")
def server():
    """The reference server as a vendor's server: started on its own, authorising by URL (no token)."""
    with vendor_server() as s:
        yield s


@pytest.fixture
def live_publisher(server):
    """A live input with a publisher streaming to it from another process, as the user's encoder would."""
    urls = new_live_input(server)
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "publisher_process.py"), urls.whip_url],
                            stdout=subprocess.PIPE, text=True)
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    line = proc.stdout.readline() if selector.select(timeout=30) else ""
    try:
        assert line.startswith("connected"), f"the publisher did not connect: {line!r}"
        yield urls
    finally:
        proc.kill()
        proc.wait()


WHEP_ONLY_CASES = ("test_answer_is_sendonly or test_viewer_connects_with_the_answer or test_delete_withdraws_consent or "
                   "test_offer_is_answered_201_created or test_publication_is_decoded_by_several_viewers or "
                   "test_keyframe_request_is_answered or test_offered_codec_is_accepted")


def test_whep_endpoint_alone_tests_that_server_playing_what_is_live(server, live_publisher, tmp_path):
    run = run_cli([f"--whep-endpoint={live_publisher.whep_url}", *STANDARD, "-k", WHEP_ONLY_CASES], tmp_path)
    assert run.returncode == 0, run.output
    assert [t["label"] for t in run.doc["targets"]] == [live_publisher.whep_url], run.doc["targets"]
    urls = {e["url"] for c in run.doc["cases"] for e in c["wire_log"]}
    assert urls and all(u.startswith(server.base_url) for u in urls), f"requests went elsewhere: {sorted(urls)[:5]}"
    assert run.verdicts("test_delete_withdraws_consent")["whep"] == "Pass", "the live stream was not played"
    assert run.verdicts("test_delete_withdraws_consent")["whip"] == "Not applicable"
    assert run.verdicts("test_keyframe_request_is_answered") == {"-": "Pass"}
    # the publisher sends VP8: a VP9 viewer's 406 says what is live, not what the server supports
    codecs = run.verdicts("test_offered_codec_is_accepted")
    assert (codecs["whep-vp8"], codecs["whep-vp9"]) == ("Supported", "Not applicable"), codecs
    messages = {c["name"]: c["message"] for c in run.doc["cases"]}
    assert "WHEP-only" in messages["test_offer_is_answered_201_created"]
    assert "publishes the suite's own media" in next(
        c["message"] for c in run.doc["cases"] if c["name"] == "test_publication_is_decoded_by_several_viewers")
    assert "WHEP only (--whep-endpoint without --endpoint)" in run.stdout


@pytest.mark.parametrize("args, named", [
    (["--token=T"], "--token is given but no target"),
    (["--api-token=T", "--endpoint=http://127.0.0.1:9/whip"], "--api-token is the token of a live inputs API"),
    (["--live-inputs=http://127.0.0.1:9/inputs", "--whep-endpoint=http://127.0.0.1:9/whep"], "--live-inputs mints"),
    (["--server-fault=post-status-200", "--whep-endpoint=http://127.0.0.1:9/whep"], "--server-fault starts the embedded"),
])
def test_target_options_that_name_no_testable_target_are_usage_errors(args, named, tmp_path):
    run = run_cli(args, tmp_path, timeout_s=120)
    assert run.returncode == 4 and named in run.stderr, run.output


WHIP_ONLY_CASES = "test_ice_restart or test_consent"


def test_whip_endpoint_alone_runs_every_case_that_needs_no_viewer(server, tmp_path):
    urls = new_live_input(server)
    run = run_cli([f"--endpoint={urls.whip_url}", *STANDARD, "-k", WHIP_ONLY_CASES], tmp_path)
    assert run.returncode == 0, run.output
    whip = {c["name"]: c["verdict"] for c in run.doc["cases"] if c["params"].get("protocol") == "whip"}
    for name in ("test_restart_is_supported", "test_restart_gives_a_new_entity_tag", "test_failed_restart_keeps_the_session",
                 "test_delete_withdraws_consent", "test_dtls_close_ends_the_session"):
        assert whip[name] == "Pass", f"{name}: {whip[name]} in a WHIP-only run"
    announced = re.search(r"no WHEP endpoint \(--whep-endpoint\): (\d+) of (\d+) cases need one", run.stdout)
    assert announced, run.stdout[-3000:]
    no_whep = [c for c in run.doc["cases"] if c["verdict"] == "Not applicable" and "no WHEP endpoint" in c["message"]]
    assert int(announced[1]) == len(no_whep) and int(announced[2]) == len(run.doc["cases"]), \
        f"announced {announced[0]!r}; {len(no_whep)} were Not applicable for want of a WHEP URL"
    assert all(c["params"].get("protocol") == "whep" or c["name"] in VIEWER_CASES for c in no_whep), \
        [c["id"] for c in no_whep if c["params"].get("protocol") != "whep"]


# WHIP cases that watch the published media at a WHEP player (marked `viewer`)
VIEWER_CASES = {"test_media_continues_across_restart", "test_restart_recovers_a_broken_path"}


def test_whip_only_run_still_fails_a_session_that_a_failed_restart_ends(tmp_path):
    """Without a viewer the case judges by the entity-tag and consent on the current ICE session:
    a server whose malformed restart PATCH ends the session fails it in a WHIP-only run too."""
    with vendor_server(faults=["malformed-patch-ends-session"]) as faulty:
        urls = new_live_input(faulty)
        run = run_cli([f"--endpoint={urls.whip_url}", *STANDARD, "-k", "test_failed_restart_keeps_the_session"], tmp_path)
    case = next(c for c in run.doc["cases"] if c["params"].get("protocol") == "whip")
    assert case["verdict"] == "Fail" and "WHIP-4.3.3-10" in case["message"], (case["verdict"], case["message"])
