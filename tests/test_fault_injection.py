"""Every conformance test is shown to fail against a server with the matching fault.

The mapping is data (`fault_map.toml`); a conformance test with no row is a check nobody has
seen fail, and is reported here as a defect.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

import pytest

from whip_whep_conformance.reference_server.faults import FAULTS

from .suite_run import (CLEAN_RUNS, assert_graded_as_recorded, at_once, conformance_tests, fault_map, pair_args, run_suite,
                        selected_params, suite_job)

ROWS = fault_map()
ARRANGEMENTS = __import__("tomllib").loads((__import__("pathlib").Path(__file__).parent / "fault_map.toml").read_text()).get("arrangement", [])
# Rows run together when they share a fault, a pair and the extra suite options (`args`).
GROUPS: dict[tuple[str, str, tuple[str, ...]], list[dict]] = defaultdict(list)
for _row in ROWS:
    GROUPS[(_row["fault"], _row.get("pair", "standard"), tuple(_row.get("args", ())))].append(_row)


def test_every_conformance_test_has_a_fault():
    mapped = {row["test"] for row in ROWS}
    unmapped = [t for t in conformance_tests() if t not in mapped]
    assert not unmapped, f"conformance tests no fault has shown to fail (add rows to tests/fault_map.toml): {unmapped}"


def test_every_row_names_a_real_fault_and_test():
    tests = set(conformance_tests())
    bad = [(r["fault"], r["test"]) for r in ROWS if r["fault"] not in FAULTS or r["test"] not in tests]
    assert not bad, f"fault_map.toml rows naming unknown faults or tests: {bad}"


def test_every_graded_fail_requirement_is_shown_failing():
    """The proof is per requirement, not only per test: every requirement a clean run grades whose
    violation is a Fail has a row (or an arrangement) in which a fault makes its check Fail."""
    from whip_whep_conformance import registry

    shown = {r["requirement"] for r in ROWS if r.get("verdict", "Fail") == "Fail" and "requirement" in r}
    shown |= {req for a in ARRANGEMENTS for req in a["fails"]}
    # what the clean server runs grade; the client runs' rows are proven by client faults (tests/test_client_faults.py)
    server_graded = set().union(*(ids for name, ids in registry.graded().items() if not name.startswith("clients")))
    unshown = sorted(i for i in server_graded if registry.get(i).grade == "fail" and i not in shown)
    assert not unshown, f"graded-fail requirements no fault is shown to make fail (add fault_map.toml rows): {unshown}"


def test_every_fault_is_used():
    from .test_fault_layer import PROVEN_ELSEWHERE

    unused = sorted(set(FAULTS) - {r["fault"] for r in ROWS} - set(PROVEN_ELSEWHERE))
    assert not unused, f"faults no conformance test is mapped to: {unused}"


# The fault runs: the long ones mostly wait (media, consent timeouts, event streams; measured: four of the
# longest, one after another, kept a quarter of one core busy), so they go AT_ONCE at a time on one worker,
# as the client fault runs do (tests/test_client_faults.py); the module's other tests spread.
AT_ONCE = 3


@pytest.fixture(scope="module")
def fault_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The runs of every fault group this session selected, started when the first fault test asks; each
    test waits for its own (a future per group)."""
    keys = [(p["fault"], p["pair"], p["args"]) for p in selected_params(request.session, "test_fault_is_caught")]
    runs = {(fault, pair, args): suite_job([f"--server-fault={fault}", "--timeout-s=3", *pair_args(pair), *args,
                                            *sorted({r["test"] for r in GROUPS[(fault, pair, args)]})])
            for fault, pair, args in keys}
    with at_once(runs, tmp_path_factory, AT_ONCE) as futures:
        yield futures


@pytest.mark.slow
@pytest.mark.xdist_group("server-fault-runs")
@pytest.mark.parametrize("fault,pair,args", sorted(GROUPS),
                         ids=[f"{f}@{p}" + "".join(a) for f, p, a in sorted(GROUPS)])
def test_fault_is_caught(fault, pair, args, fault_runs):
    rows = GROUPS[(fault, pair, args)]
    run = fault_runs[(fault, pair, args)].result(timeout=900)
    assert run.doc is not None, f"the suite wrote no results.json under --server-fault {fault}:\n{run.output}"
    for row in rows:
        expected = row.get("verdict", "Fail")
        cases = [c for c in run.cases(row["test"]) if row.get("only", "") in c["id"]]
        assert cases, f"{row['test']} did not run under --server-fault {fault}:\n{run.output}"
        for case in cases:
            assert case["verdict"] == expected, (
                f"{case['id']} under --server-fault {fault}: verdict {case['verdict']}, expected {expected}\n"
                f"message: {case['message']}"
            )
            if expected == "Not applicable":  # no check grades it: the case's reason must say why
                assert row.get("message", "") in case["message"], (
                    f"{case['id']}: the reason {case['message']!r} does not contain {row.get('message')!r}")
                continue
            grading = [c for c in case["checks"] if c["id"] == row["requirement"] and c["verdict"] == expected]
            assert grading, f"{case['id']}: no {expected} check of {row['requirement']} in {case['checks']}"
            if "message" in row:
                assert any(row["message"] in c["message"] for c in grading), (
                    f"{case['id']}: no check message contains {row['message']!r}: {grading}"
                )
    if any(r.get("verdict", "Fail") == "Fail" for r in rows):
        assert run.returncode == 1, f"a run with Fail verdicts exited {run.returncode}"


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["standard", "cloudflare"])
def test_clean_server_passes_everything(pair, tmp_path):
    run = run_suite(CLEAN_RUNS[pair], tmp_path)  # as the README's command runs it
    assert run.doc is not None, run.output
    bad = [(c["id"], c["verdict"], c["message"]) for c in run.doc["cases"] if c["verdict"] in ("Fail", "Error", "Warning")]
    assert not bad, f"the clean reference server has findings: {bad}"
    assert run.returncode == 0, run.output
    assert_graded_as_recorded(pair, run.doc)


@pytest.mark.slow
def test_server_over_https_requiring_a_publisher_passes_everything(tmp_path):
    """The suite drives an HTTPS target as it drives plain http (vendors' targets are HTTPS): the reference
    server with --tls (self-signed, so --insecure) passes everything, and the HTTPS cases apply. The same
    server plays only what is being published (409 + Retry-After before that): the suite publishes first
    where a case needs playback, and the 409 case itself passes. One run for both: TLS is the transport,
    --require-publisher only when a WHEP POST is answered, so neither hides what the other shows."""
    run = run_suite(CLEAN_RUNS["https-require-publisher"], tmp_path)
    assert run.doc is not None, run.output
    bad = [(c["id"], c["verdict"], c["message"]) for c in run.doc["cases"] if c["verdict"] in ("Fail", "Error", "Warning")]
    assert not bad, f"findings against the reference server over HTTPS requiring a publisher: {bad}"
    assert_graded_as_recorded("https-require-publisher", run.doc)
    https = run.cases("suites/common/test_security.py::test_https_is_used")
    assert https and {c["verdict"] for c in https} <= {"Pass", "Info"}, https
    conflict = run.cases("suites/whep/test_4_2_playback_session_setup.py::test_playback_before_publication_is_409_with_retry_after")
    assert conflict and {c["verdict"] for c in conflict} == {"Pass"}, conflict


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["standard", "cloudflare"])
def test_server_without_patch_fails_nothing(pair, tmp_path):
    """A server that supports no PATCH at all (--no-patch) is allowed: the PATCH cases warn where trickle
    and restart are RECOMMENDED and are otherwise not applicable; under draft-murillo-whep-01 its 501 passes."""
    run = run_suite(CLEAN_RUNS[f"no-patch-{pair}"], tmp_path)
    assert run.doc is not None, run.output
    bad = [(c["id"], c["verdict"], c["message"]) for c in run.doc["cases"] if c["verdict"] in ("Fail", "Error")]
    assert not bad, f"findings against a server without PATCH: {bad}"
    assert_graded_as_recorded(f"no-patch-{pair}", run.doc)
    if pair == "cloudflare":
        no_patch = run.cases("suites/common/test_trickle_ice.py::test_resource_without_patch_answers_501")
        assert no_patch and {c["verdict"] for c in no_patch} == {"Pass"}, no_patch


@pytest.mark.slow
def test_slow_cases_pass_against_the_clean_server(tmp_path):
    """--slow-cases runs the cases that wait out the 30-second consent timeout; the clean server passes them."""
    slow = "suites/common/test_consent.py::test_silent_peer_is_ended_after_a_refused_restart"
    run = run_suite(CLEAN_RUNS["slow-cases"], tmp_path)
    assert run.doc is not None, run.output
    cases = run.cases(slow)
    assert len(cases) == 4 and {c["verdict"] for c in cases} <= {"Pass", "Info"}, cases
    assert_graded_as_recorded("slow-cases", run.doc)


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["standard", "cloudflare"])
def test_server_without_ice_restart_fails_nothing(pair, tmp_path):
    """A server that takes trickle PATCHes but no ICE restart (--no-ice-restart) is allowed: the restart
    cases are Not applicable or warn, and the trickle-only case grades its refusal (422; the drafts: 405)."""
    run = run_suite(CLEAN_RUNS[f"no-ice-restart-{pair}"], tmp_path)
    assert run.doc is not None, run.output
    bad = [(c["id"], c["verdict"], c["message"]) for c in run.doc["cases"] if c["verdict"] in ("Fail", "Error")]
    assert not bad, f"findings against a server without ICE restart: {bad}"
    refusal = run.cases("suites/common/test_ice_restart.py::test_trickle_only_session_refuses_restart_with_422")
    # Under draft-ietf-wish-whip-06 the WHIP refusal's only rule is RFC 9725's (WHIP-4.3.1-5): it is
    # reported as Info there, not graded; every other instance grades its refusal and passes.
    expected = {"standard": {"whip": "Pass", "whep": "Pass"}, "cloudflare": {"whip": "Info", "whep": "Pass"}}[pair]
    verdicts = {c["id"].rsplit("-", 1)[-1].rstrip("]"): c["verdict"] for c in refusal}
    assert verdicts == expected, [(c["id"], c["verdict"], c["message"]) for c in refusal]
    assert_graded_as_recorded(f"no-ice-restart-{pair}", run.doc)




@pytest.mark.slow
@pytest.mark.parametrize("spec", ARRANGEMENTS, ids=[a["fault"] for a in ARRANGEMENTS])
def test_broken_arrangement_is_named_once_and_never_an_error(spec, tmp_path):
    """A server that breaks a step many cases only arrange with (its POST answered 500, an offer sent back
    as the answer, a 406 counter-offer for every viewer) gets the rule it breaks graded once, and every
    case that needed the step is Not applicable naming that rule: never an Error, never the defect
    counted in every case (issue 17, items 4-6)."""
    run = run_suite([f"--server-fault={spec['fault']}", "--timeout-s=3", "--max-concurrency=2", *pair_args("standard"),
                     *spec["tests"]], tmp_path)
    assert run.doc is not None, run.output
    cases = run.doc["cases"]
    errors = [(c["id"], c["message"]) for c in cases if c["verdict"] == "Error"]
    assert not errors, f"Errors under --server-fault {spec['fault']}: {errors}"
    for req in spec["fails"]:
        failing = [c["id"] for c in cases if any(k["id"] == req and k["verdict"] == "Fail" for k in c["checks"])]
        assert len(failing) == 1, f"{req} under --server-fault {spec['fault']} should fail in exactly one case: {failing}"
    other_fails = [(c["id"], c["message"]) for c in cases if c["verdict"] == "Fail"
                   and not any(k["id"] in spec["fails"] for k in c["checks"])]
    assert not other_fails, f"Fails of other rules under --server-fault {spec['fault']}: {other_fails}"
    if "dependents" in spec:
        dependents = [c for c in cases if c["verdict"] == "Not applicable" and spec["dependents"] in c["message"]]
        assert dependents, f"no case was Not applicable with {spec['dependents']!r}: {[(c['id'], c['message']) for c in cases]}"
    for test in spec.get("passes", []):
        passing = [c for c in cases if c["id"].split("[")[0] == test]
        assert passing and {c["verdict"] for c in passing} == {"Pass"}, f"{test}: {passing}"


@pytest.mark.slow
def test_product_rules_are_info_against_a_plain_endpoint(tmp_path):
    """BRIEF-PUB-1 (one publisher per live input) is Cloudflare's product rule, not WHIP's: against a plain
    --endpoint/--whep-endpoint under the standard profiles a second publisher accepted is Info, while the
    same fault against a live inputs API is a Fail (the fault_map row of second-publisher-accepted)."""
    import httpx

    from whip_whep_conformance.harness.embedded import EmbeddedServer
    from whip_whep_conformance.protocol import profiles

    server = EmbeddedServer(profiles.STANDARD, token=False, faults=["second-publisher-accepted"], ice_servers=[])
    target = server.start()
    try:
        created = httpx.post(target.live_inputs, json={"meta": {"name": "plain endpoint"}},
                             headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]
        run = run_suite([f"--endpoint={created['webRTC']['url']}", f"--whep-endpoint={created['webRTCPlayback']['url']}",
                         "--timeout-s=3", *pair_args("standard"), "suites/brief/test_one_publisher.py"], tmp_path)
    finally:
        server.stop()
    assert run.doc is not None, run.output
    cases = run.cases("suites/brief/test_one_publisher.py::test_second_publisher_is_refused")
    assert cases and [c["verdict"] for c in cases] == ["Info"], cases
    assert "rule of Cloudflare's product" in cases[0]["message"], cases[0]["message"]
    assert run.returncode == 0, run.output


PROPOSALS = ["suites/whep/test_proposals_pr40_error_codes.py", "suites/whep/test_proposals_pr44_partial_answers.py"]
# What the clean server does about each open proposal (the README's reference-server list says the same).
PROPOSALS_MET = {"WHEPP-40-1": True, "WHEPP-40-2": True, "WHEPP-40-3": True, "WHEPP-40-5": True, "WHEPP-40-6": True,
                 "WHEPP-40-7": False, "WHEPP-44-1": False, "WHEPP-44-4": True}


@pytest.mark.slow
def test_open_proposals_are_opt_in_and_only_ever_info(tmp_path):
    """Without --whep-proposals the WHEPP cases are not run at all; with it, against the clean server, every
    check is Info, met or not, and the run passes; under draft-murillo-whep-01 (which the PRs do not amend)
    they are Not applicable."""
    default = run_suite(["--timeout-s=3", *pair_args("standard"), *PROPOSALS], tmp_path / "default")
    assert default.doc is not None and not default.doc["cases"], default.output
    run = run_suite(["--whep-proposals", "--timeout-s=3", *pair_args("standard"), *PROPOSALS], tmp_path / "standard")
    assert run.doc is not None and run.returncode == 0, run.output
    checks = [k for c in run.doc["cases"] for k in c["checks"]]
    assert run.doc["cases"] and {c["verdict"] for c in run.doc["cases"]} == {"Info"}, run.output
    seen = {k["id"]: ("): met." in k["message"]) for k in checks}
    assert seen == PROPOSALS_MET, seen
    other = run_suite(["--whep-proposals", "--timeout-s=3", *pair_args("cloudflare"), *PROPOSALS], tmp_path / "cloudflare")
    assert other.doc is not None and {c["verdict"] for c in other.doc["cases"]} == {"Not applicable"}, other.output


@pytest.mark.slow
def test_ice_credentials_in_headers_are_redacted(tmp_path):
    """A server that puts `ice-ufrag:ice-pwd` in its ETag (seen on a real one) must not leak the ICE
    password into the reports: a value seen as a=ice-pwd is redacted in every header, as in the SDP."""
    test = "suites/whip/test_4_2_ingest_session_setup.py::test_etag_is_a_strong_entity_tag"
    run = run_suite(["--server-fault=etag-carries-ice-credentials", *pair_args("standard"), test], tmp_path)
    assert run.doc is not None, run.output
    etags = [v for c in run.cases(test) for e in c["wire_log"] for k, v in e["response_headers"] if k.lower() == "etag"]
    assert etags and all(v.endswith(':[redacted]"') for v in etags), etags


@pytest.mark.parametrize("fault,unverified", [((), False), (("delete-keeps-session",), True)], ids=["clean", "delete-keeps-session"])
def test_cleanup_confirms_its_deletes(make_server, fault, unverified):
    """The end-of-run sweep does not take a DELETE's 200 on trust: a second DELETE must find the session
    gone (404), or the URL is reported as unverified (`results.json` → cleanup.unverified), never as
    deleted. A real server answered 200 and kept the sessions."""
    import asyncio

    import httpx

    from whip_whep_conformance.webrtc import peer
    from whip_whep_conformance.harness import player
    from whip_whep_conformance.harness.leftovers import Leftovers

    server = make_server(faults=fault)
    live_inputs = f"{server.base_url}/client/v4/accounts/conformance/stream/live_inputs"
    created = httpx.post(live_inputs, json={"meta": {"name": "sweep"}},
                         headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]

    async def offer() -> str:
        pc = player.publisher("vp8", [])
        try:
            return await peer.local_offer(pc)
        finally:
            await pc.close()

    posted = httpx.post(created["webRTC"]["url"], content=asyncio.run(offer()), headers={"Content-Type": "application/sdp"})
    assert posted.status_code == 201, posted.text
    session_url = str(httpx.URL(created["webRTC"]["url"]).join(posted.headers["Location"]))
    leftovers = Leftovers()
    leftovers.add(session_url, {})
    assert leftovers.sweep(5.0) == [], "the DELETE itself was answered 2xx"
    assert leftovers.unverified == ([session_url] if unverified else []), leftovers.unverified


@pytest.mark.slow
def test_a_target_that_dies_mid_run_is_one_headline(tmp_path):
    """A target that stops answering mid-run (its process exits) gives one Error, in the case that met the
    silence, and one headline, "the target stopped answering at case N" (exit code 6); later cases are Not
    applicable with that headline, not dozens of unrelated Errors."""
    run = run_suite(["--server-fault=dies-after-12-posts", "--timeout-s=3", *pair_args("standard"),
                     "suites/whip/test_4_2_ingest_session_setup.py", "suites/whep/test_4_2_playback_session_setup.py"], tmp_path)
    assert run.doc is not None, run.output
    assert run.returncode == 6, run.output
    assert "the target stopped answering at case" in (run.doc["error"] or ""), run.doc["error"]
    errors = [c["id"] for c in run.doc["cases"] if c["verdict"] == "Error"]
    assert len(errors) <= 1, errors
    after = [c for c in run.doc["cases"] if "the target stopped answering at case" in c["message"]]
    assert after and all(c["verdict"] == "Not applicable" for c in after), after
    assert "[redacted]/webRTC/publish" in run.doc["error"], "the publish URL is a secret"



CF_DELETE = "suites/brief/test_cloudflare_example.py::test_delete_on_the_publish_url_ends_the_publisher"


@pytest.mark.slow
@pytest.mark.parametrize("pair,plain,verdict,said", [
    ("cloudflare", False, "Info", "answered 200; then DELETE on the session's Location answered 404: the publisher's session had ended"),
    ("standard", False, "Info", "answered 405; then DELETE on the session's Location answered 200: the publisher was still live"),
    ("standard", True, "Not applicable", "only against a live inputs API"),
], ids=["cloudflare-ends-it", "standard-405", "plain-endpoint"])
def test_publish_url_delete_is_reported_both_ways(pair, plain, verdict, said, tmp_path):
    """BRIEF-CF-1 (Cloudflare's example client ends a broadcast by DELETE on the publish URL) reports what
    happened: ended on the reference server's Cloudflare profile, still live under RFC 9725 (405), and not
    looked at against a plain --endpoint under the standard profiles (a rule of Cloudflare's product).
    The fault row publish-url-delete-keeps-publisher shows a 200 that ends nothing is reported as still live."""
    if not plain:
        run = run_suite(["--timeout-s=3", *pair_args(pair), CF_DELETE], tmp_path)
    else:
        import httpx

        from whip_whep_conformance.harness.embedded import EmbeddedServer
        from whip_whep_conformance.protocol import profiles

        server = EmbeddedServer(profiles.STANDARD, token=False, faults=[], ice_servers=[])
        target = server.start()
        try:
            created = httpx.post(target.live_inputs, json={"meta": {"name": "plain endpoint"}},
                                 headers={"Authorization": f"Bearer {server.api_token}"}).json()["result"]
            run = run_suite([f"--endpoint={created['webRTC']['url']}", f"--whep-endpoint={created['webRTCPlayback']['url']}",
                             "--timeout-s=3", *pair_args(pair), CF_DELETE], tmp_path)
        finally:
            server.stop()
    assert run.doc is not None, run.output
    cases = run.cases(CF_DELETE)
    assert [c["verdict"] for c in cases] == [verdict], cases
    assert said in cases[0]["message"], f"BRIEF-CF-1 under {pair}{' (plain endpoint)' if plain else ''}: {cases[0]['message']!r}"
