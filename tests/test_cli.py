"""The console script as users run it: exit codes, reports, and refusing bad input cleanly."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles

from .plain_shell import run_cli
from .suite_run import REPO

CLI = str(REPO / ".venv" / "bin" / "whip-whep-conformance")


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    import shutil
    import sys

    exe = shutil.which("whip-whep-conformance", path=str(Path(sys.executable).parent)) or CLI
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_target_exits_6_with_the_reason_in_the_reports(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/x/webRTC/publish"
    run = _cli([f"--endpoint={url}", f"--reports-dir={tmp_path}"], tmp_path)
    assert run.returncode == 6, run.stdout[-2000:]
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["exit_code"] == 6 and "unreachable" in doc["error"]
    assert "reach target" in (tmp_path / "junit.xml").read_text()


def test_a_url_that_is_not_an_endpoint_exits_6(tmp_path):
    server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[])
    server.start()
    try:
        run = _cli([f"--endpoint={server.base_url}/nothing/here", f"--reports-dir={tmp_path}"], tmp_path)
    finally:
        server.stop()
    assert run.returncode == 6, run.stdout[-2000:]


def test_runs_from_anywhere_against_the_embedded_server(tmp_path):
    run = _cli(["--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03", "-k", "created", "-q"], tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    doc = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert doc["cases"] and {c["verdict"] for c in doc["cases"]} <= {"Pass", "Supported"}
    assert all(c["profile"] == {"whip": "rfc9725", "whep": "draft-ietf-wish-whep-03"} for c in doc["cases"])


def test_unknown_profile_is_a_usage_error(tmp_path):
    run = _cli(["--whip-profile=rfc0000"], tmp_path)
    assert run.returncode == 4 and "unknown WHIP profile" in run.stderr


def test_tokens_never_reach_the_reports(tmp_path):
    run = _cli(["--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03", "-k", "test_offer_is_answered_201_created", "-q"], tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    text = (tmp_path / "reports" / "results.json").read_text()
    doc = json.loads(text)
    sent = [h for c in doc["cases"] for e in c["wire_log"] for h in e["request_headers"] if h[0].lower() == "authorization"]
    assert sent and all(v == "[redacted]" for _, v in sent), "the standard pair sends a Bearer token"
    assert "a=ice-pwd:[redacted]" in text and "Bearer " not in text


def test_publish_secrets_never_reach_the_reports(tmp_path):
    """Cloudflare's scheme: the secret is the publish URL's path; it must not leak into artifacts."""
    import re

    run = _cli(["--whip-profile=draft-ietf-wish-whip-06", "--whep-profile=draft-murillo-whep-01",
                "-k", "test_location_names_a_new_session or test_create_returns or test_delete_ends", "-q"], tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "[redacted]/webRTC/publish" in (tmp_path / "reports" / "results.json").read_text()
    for name in ("results.json", "junit.xml"):
        text = (tmp_path / "reports" / name).read_text()
        leaked = re.findall(r"[0-9a-f]{32}/webRTC/publish", text)
        assert not leaked, f"{name} shows publish secrets: {leaked[:3]}"


STANDARD = ["--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03"]


def test_list_requirements_prints_the_registry(tmp_path):
    run = _cli(["--list-requirements"], tmp_path)
    assert run.returncode == 0 and "WHIP-4.2-4" in run.stdout, run.stdout[-2000:]
    assert re.search(r"^\d+ requirements, \d+ checked by the suite$", run.stdout, re.MULTILINE), run.stdout[-2000:]
    assert re.search(r"^  rfc9725 +fail \d+/\d+", run.stdout, re.MULTILINE), "no per-spec coverage counts"


def test_requirement_and_level_select_cases(tmp_path):
    run = _cli([*STANDARD, "--requirement=WHIP-4.2-12", "--level=must", "-q"], tmp_path)
    doc = json.loads((tmp_path / "reports" / "results.json").read_text())
    selected = [[r["id"] for r in c["requirements"]] for c in doc["cases"]]
    assert run.returncode == 0 and selected and all("WHIP-4.2-12" in ids for ids in selected), selected
    should = _cli([*STANDARD, "--level=should", "-q"], tmp_path)
    doc = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert should.returncode == 0 and doc["cases"]
    assert all(any(r["grade"] == "warn" for r in c["requirements"]) for c in doc["cases"])


def test_baseline_known_failure_does_not_fail_and_fixed_ones_are_named(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps([{"id": "WHIP-4.2-4", "reason": "we answer 200"}, {"id": "WHIP-4.2-12", "reason": "old"}]))
    run = _cli([*STANDARD, "--server-fault=post-status-200", f"--baseline={baseline}",
                "--requirement=WHIP-4.2-4", "--requirement=WHIP-4.2-12", "-q"], tmp_path)
    doc = json.loads((tmp_path / "reports" / "results.json").read_text())
    assert run.returncode == 0, run.stdout[-2000:]
    assert doc["baseline"] == {"known": ["WHIP-4.2-4"], "fixed": ["WHIP-4.2-12"], "new_failures": []}
    assert "remove from the baseline: WHIP-4.2-12" in run.stdout


def test_bad_baseline_is_a_usage_error(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text("{not json")
    run = _cli([f"--baseline={baseline}"], tmp_path)
    assert run.returncode == 4 and "--baseline" in run.stderr


def test_strict_conformance_fails_on_warnings(tmp_path):
    args = [*STANDARD, "--server-fault=unknown-session-200", "-k", "test_unknown_session_is_not_found", "-q"]
    lenient = _cli(args, tmp_path)
    strict = _cli([*args, "--strict-conformance"], tmp_path)
    assert (lenient.returncode, strict.returncode) == (0, 1), (lenient.stdout[-1500:], strict.stdout[-1500:])


def test_clean_and_faulty_runs_write_four_outputs_and_merge_into_a_matrix(tmp_path):
    """The vendor workflow end to end: two runs, every output each, one matrix showing the difference."""
    selection = [*STANDARD, "--requirement=WHIP-4.2-12", "--requirement=WHIP-4.2-4", "-q"]
    clean = _cli([*selection, "--reports-dir=clean"], tmp_path)
    faulty = _cli([*selection, "--reports-dir=faulty", "--server-fault=answer-wrong-direction"], tmp_path)
    assert (clean.returncode, faulty.returncode) == (0, 1)
    for run in ("clean", "faulty"):
        outputs = {p.name for p in (tmp_path / run).iterdir()}
        assert {"results.json", "junit.xml", "conformance.html", "allure-results"} <= outputs, outputs
        assert any((tmp_path / run / "allure-results").glob("*-result.json"))
    merged = _cli(["merge", "clean/results.json", "faulty/results.json", "-o", "matrix.html"], tmp_path)
    assert merged.returncode == 0, merged.stderr
    from tests.test_report_matrix import Cells

    cells = Cells()
    cells.feed((tmp_path / "matrix.html").read_text())
    by_verdicts = sorted(values for _, values in cells.rows)
    # WHIP-4.2-4 passes in both; WHIP-4.2-12 (graded by two cases) fails in the faulty run; WHIP-4.2-10,
    # the MAY the sendrecv case also grades, stays Supported in both.
    assert by_verdicts == [["Pass", "Fail"], ["Pass", "Pass"], ["Supported", "Supported"]], cells.rows


def test_concurrent_run_reports_what_a_sequential_run_does(tmp_path):
    """Cases in worker processes: same cases, verdicts and checks, in collection order, one set of reports."""
    args = [*STANDARD, "-k", "session_setup or test_http_methods", "-q"]
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    sequential = _cli([*args, "--max-concurrency=1"], one)
    concurrent = _cli([*args, "--max-concurrency=3"], two)
    assert (sequential.returncode, concurrent.returncode) == (0, 0), concurrent.stdout[-2000:]
    first, second = (json.loads((d / "reports" / "results.json").read_text()) for d in (one, two))
    assert [(c["id"], c["verdict"], [k["id"] for k in c["checks"]]) for c in second["cases"]] == \
        [(c["id"], c["verdict"], [k["id"] for k in c["checks"]]) for c in first["cases"]]
    assert (two / "reports" / "conformance.html").stat().st_size > 0 and list((two / "reports" / "allure-results").iterdir())


def test_max_concurrency_below_one_is_a_usage_error(tmp_path):
    run = _cli(["--max-concurrency=0"], tmp_path)
    assert run.returncode == 4 and "--max-concurrency" in run.stderr


@pytest.mark.parametrize("args, named", [
    (["--timeout-s=0"], "--timeout-s=0: give a number of seconds above 0"),
    (["--timeout-s=-1"], "--timeout-s=-1: give a number of seconds above 0"),
    (["--endpoint=media.example.com/whip"], "--endpoint=media.example.com/whip: not an http:// or https:// URL"),
    (["--whep-endpoint=127.0.0.1:8080/whep"], "--whep-endpoint=127.0.0.1:8080/whep: not an http:// or https:// URL"),
    (["--endpiont=http://127.0.0.1:9/whip"], "--endpiont: did you mean --endpoint?"),
    (["--endpoint=https://127.0.0.1:9/whip", "--ca-bundle=no-such-ca.pem"], "--ca-bundle=no-such-ca.pem: no such file"),
    # with workers the IDs must be refused before they start: a worker's UsageError was an INTERNALERROR (exit 3)
    (["--requirement=NOPE-1", "-n", "2"], "--requirement NOPE-1: not in the registry"),
])
def test_option_mistakes_are_usage_errors_naming_the_option(args, named, tmp_path):
    """The user's mistake is exit 4 with the option named, never exit 6 blaming the target."""
    run = run_cli(args, tmp_path, timeout_s=120)
    assert run.returncode == 4 and named in run.stderr, run.output
    assert "unreachable" not in run.output


def test_requirement_and_level_values_are_case_insensitive(tmp_path):
    run = run_cli([*STANDARD, "--requirement=whip-4.2-12", "--level=MUST", "-q"], tmp_path)
    assert run.returncode == 0, run.output
    selected = [(c["name"], [r["id"] for r in c["requirements"]]) for c in run.doc["cases"]]
    assert selected and all("WHIP-4.2-12" in ids for _, ids in selected), selected


def test_help_starts_with_the_suites_options_and_names_merge(tmp_path):
    run = run_cli(["--help"], tmp_path, timeout_s=120)
    text = run.stdout
    assert run.returncode == 0 and text.startswith("usage: whip-whep-conformance"), text[:500]
    assert "whip-whep-conformance merge RESULTS.json" in text.splitlines()[1], text[:500]
    assert "whip-whep-conformance clients [--whip-client=CMD]" in text.splitlines()[2], text[:500]
    suite_options, pytest_options = text.index("--endpoint"), text.index("-k EXPRESSION")
    assert suite_options < pytest_options, "pytest's options come before the suite's"


def test_version_is_the_suites(tmp_path):
    from importlib.metadata import version

    run = run_cli(["--version"], tmp_path, timeout_s=60)
    assert run.returncode == 0 and run.stdout.startswith(f"whip-whep-conformance {version('whip-whep-conformance')} "), run.output


def test_list_requirements_into_a_closed_pipe_exits_cleanly(tmp_path):
    exe = shutil.which("whip-whep-conformance", path=str(Path(sys.executable).parent)) or CLI
    run = subprocess.run(f"'{exe}' --list-requirements | head -1", shell=True, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert "Traceback" not in run.stderr and "BrokenPipeError" not in run.stderr, run.stderr[-1500:]


@pytest.mark.parametrize("spelling", ["whip/test_4_7_authentication.py", "suites/whip/test_4_7_authentication.py"])
def test_a_case_file_selects_its_cases_however_it_is_spelled(spelling, tmp_path):
    run = _cli([spelling, "--collect-only", "-q"], REPO)
    collected = [line for line in run.stdout.splitlines() if "::" in line]
    assert collected and all("test_4_7_authentication.py" in line for line in collected), run.stdout[-1500:]


def test_an_option_value_naming_a_suite_folder_stays_a_value(tmp_path):
    """`-k brief` selects by keyword over the whole suite: "brief" is also a folder of the suite, and was
    taken for a path (pytest then stopped on `-k /…/suites/brief`, a bad expression)."""
    run = _cli(["-k", "brief", "--collect-only", "-q"], tmp_path)
    collected = [line for line in run.stdout.splitlines() if "::" in line]
    assert run.returncode == 0 and collected, run.stdout[-1500:] + run.stderr[-1500:]


def test_allure_labels_cite_the_revision_in_force(tmp_path):
    """The allure feature names the spec and section of the rule in force, as results.json does: a -03 row
    under draft-ietf-wish-whep-04 is -04 §4.3.1, and the same case under murillo-01 cites murillo-01's row."""
    run = _cli(["--requirement=WHEPL-4.2.1-1", "-k", "test_offer_is_answered_201_with_sdp_and_location", "-q"], tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    features = {}
    for result in (tmp_path / "reports" / "allure-results").glob("*-result.json"):
        doc = json.loads(result.read_text())
        features[doc["name"]] = [label["value"] for label in doc["labels"] if label["name"] == "feature"]
    assert features == {
        "test_offer_is_answered_201_with_sdp_and_location[rfc9725+draft-ietf-wish-whep-04]": ["draft-ietf-wish-whep-04 §4.3.1"],
        "test_offer_is_answered_201_with_sdp_and_location[draft-ietf-wish-whip-06+draft-murillo-whep-01]": ["draft-murillo-whep-01 §4.1"],
    }, features
