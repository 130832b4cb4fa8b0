"""The console of a suite run, as a vendor reads it in a plain shell: the progress line with a key to its
letters, then the failures and warnings (requirement, message, where in the report), and the suite's
verdict line last; nothing of pytest's own (tracebacks, SKIPPED lines, its tally) contradicts it."""

from __future__ import annotations

import re

import pytest

from whip_whep_conformance.plugin import PROGRESS

from .test_plain_environment import cli_in_plain_environment

# A Fail (200 for 201), a Pass and two Not applicable cases (playback before publication is allowed; a
# sendrecv offer answered 200 is neither taken nor refused).
RUN = ["--whip-profile=rfc9725", "--whep-profile=draft-ietf-wish-whep-03", "--server-fault=post-status-200",
       "--requirement=WHIP-4.2-4", "--requirement=WHEPL-4.2.8-1", "--requirement=WHIP-4.2-12"]
PYTEST_OWN = re.compile(r"SKIPPED|short test summary|= FAILURES =|Traceback|_pytest|\d+ (passed|failed|skipped)\b")


def _lines(run) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One run, read by several tests."""
    where = tmp_path_factory.mktemp("console")
    return cli_in_plain_environment([*RUN, f"--reports-dir={where / 'reports'}"], where)


def test_the_suites_verdict_line_is_the_last_and_pytest_says_nothing_against_it(run):
    lines = _lines(run)
    assert run.returncode == 1 and lines, f"exit {run.returncode}, wanted 1 (a Fail):\n{run.stdout[-3000:]}{run.stderr[-2000:]}"
    assert lines[-1] == "verdicts: 1 Fail, 1 Pass, 2 Not applicable; exit code 1", f"the last line: {lines[-1]!r}\n{run.stdout[-3000:]}"
    assert not [line for line in lines + run.stderr.splitlines() if PYTEST_OWN.search(line)], run.stdout[-3000:]


def test_progress_letters_have_a_key(run):
    lines = _lines(run)
    progress = next((line.split()[0] for line in lines if re.fullmatch(r"[.FEWUISs]+ +\[100%\]", line)), None)
    key = next((line for line in lines if line.startswith("progress: ")), "")
    assert progress is not None and sorted(progress) == [".", "F", "s", "s"], f"progress line {progress!r}:\n{run.stdout[-3000:]}"
    assert all(f" {letter} " in f"{key} " for letter in set(PROGRESS.values())), f"the key to the letters: {key!r}"


def test_a_failure_names_its_requirement_message_and_place_in_the_report(run):
    listed = run.stdout[run.stdout.find("failures and warnings (1):"):]
    assert re.search(r"^failures and warnings \(1\):\n +Fail +\[WHIP-4\.2-4\] .*got 200 OK.*"
                     r"report: conformance\.html, rfc9725 §4\.2; results\.json case "
                     r"suites/whip/test_4_2_ingest_session_setup\.py::test_offer_is_answered_201_created\[", listed, re.S), listed


def test_verbose_adds_the_table_of_every_case_and_still_ends_with_the_verdict(tmp_path):
    run = cli_in_plain_environment([*RUN, "-v", f"--reports-dir={tmp_path / 'reports'}"], tmp_path)
    lines = _lines(run)
    assert any(re.fullmatch(r" +Not applicable +\[WHEPL-4\.2\.8-1.*", line) for line in lines), run.stdout[-3000:]
    assert lines[-1].startswith("verdicts: ") and not [line for line in lines if PYTEST_OWN.search(line)], run.stdout[-3000:]


def test_list_requirements_names_its_columns_first(tmp_path):
    listed = cli_in_plain_environment(["--list-requirements"], tmp_path, timeout_s=120)
    header, key, first = listed.stdout.splitlines()[:3]
    assert header.split() == ["ID", "LEVEL", "GRADE", "T", "WHERE:", "PARAPHRASE"], header
    assert all(f"{letter} " in key for letter in "TMPCNI") and re.match(r"^\S+ +\S+ +(fail|warn|capability|info) +[TMPCNI]  ", first), (key, first)
