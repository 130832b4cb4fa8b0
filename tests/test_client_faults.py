"""Every client case is shown to catch the own client's matching defect (tests/client_fault_map.toml), as
tests/test_fault_injection.py shows every server case catching a server fault: a client check nobody
has seen fail proves nothing about the clients it passes."""

from __future__ import annotations

import importlib
import tomllib
from collections import defaultdict
from typing import Iterator

import pytest

from whip_whep_conformance.own_client.faults import ClientFault

from .suite_run import REPO, case_functions, client_case_files, at_once, pair_args, selected_params, suite_job

MAP = REPO / "tests" / "client_fault_map.toml"
ROWS: list[dict] = tomllib.loads(MAP.read_text(encoding="utf-8")).get("row", [])
# One `clients` run per fault, the behaviours it needs (`also`) and the pair.
GROUPS: dict[tuple[str, tuple[str, ...], str], list[dict]] = defaultdict(list)
for _row in ROWS:
    GROUPS[(_row["fault"], tuple(_row.get("also", ())), _row.get("pair", "standard"))].append(_row)
# Faults no row maps yet, by name, so the gap is data and not silence: `no-restart` needs a case that
# the client recovers a dropped path.
NOT_YET_MAPPED = {"no-restart"}


def client_cases(protocol: str) -> list[str]:
    """Node ids (without parameters) of the client cases of `protocol` (suites/clients/test_PROTOCOL_*.py)."""
    return case_functions([REPO / "whip_whep_conformance" / path for path in client_case_files(protocol)])


@pytest.mark.parametrize("protocol", ["whip", "whep"])
def test_every_client_case_has_a_fault(protocol):
    """A case no fault makes Fail or Warn is a check nobody has seen catch anything. A MAY capability the clean
    own client lacks (its clean runs grade it Unsupported, held to registry/graded.toml by tests/test_clients.py)
    is proven the other way: a behaviour of the own client (no defect) makes it Supported."""
    from whip_whep_conformance import registry

    shown = {r["test"] for r in ROWS if r.get("verdict", "Fail") in ("Fail", "Warning", "Unsupported")}
    shown |= {r["test"] for r in ROWS if r.get("verdict") == "Supported" and registry.get(r["requirement"]).grade == "capability"}
    unmapped = [t for t in client_cases(protocol) if t not in shown]
    assert not unmapped, f"client cases no client fault is shown to fail (add rows to {MAP.name}): {unmapped}"


def test_every_graded_fail_requirement_is_shown_failing():
    """Per requirement, not only per case: every client row the clean client runs grade at `fail` is a row's
    `requirement`, or a requirement of a case a row shows Failing (WHEP cases grade the -03 or the
    murillo-01 ID, whichever the pair is under)."""
    from whip_whep_conformance import registry

    marks = _case_requirements()
    shown = {r["requirement"] for r in ROWS if r.get("verdict", "Fail") == "Fail" and "requirement" in r}
    shown |= {i for r in ROWS if r.get("verdict", "Fail") == "Fail" and "requirement" not in r for i in marks[r["test"]]}
    graded = set().union(*(ids for name, ids in registry.graded().items() if name.startswith("clients")))
    # a joint row (the player's half graded here, the server's in the server runs) is proven by a server fault too
    unshown = sorted(i for i in graded if registry.get(i).grade == "fail" and i not in shown and i not in _server_graded())
    assert not unshown, f"graded-fail client requirements no client fault is shown to make fail: {unshown}"


def _server_graded() -> set[str]:
    from whip_whep_conformance import registry

    return set().union(*(ids for name, ids in registry.graded().items() if not name.startswith("clients")))


def _case_requirements() -> dict[str, tuple[str, ...]]:
    """Client case id (suites/clients/MODULE::NAME) -> the requirement IDs its marker names."""
    found = {}
    for case in client_cases("whip") + client_cases("whep"):
        path, name = case.split("::")
        module = importlib.import_module("whip_whep_conformance." + path.removesuffix(".py").replace("/", "."))
        marks = [m for m in getattr(getattr(module, name), "pytestmark", []) if m.name == "requirement"]
        found[case] = tuple(i for m in marks for i in m.args)
    return found


def test_every_row_names_a_real_fault_and_case():
    cases = set(client_cases("whip")) | set(client_cases("whep"))
    names = {f.value for f in ClientFault}
    bad = [(r["fault"], r.get("also"), r["test"]) for r in ROWS
           if r["fault"] not in names or not set(r.get("also", ())) <= names or r["test"] not in cases]
    assert not bad, f"{MAP.name} rows naming unknown client faults or cases: {bad}"


def test_every_client_fault_is_used():
    used = {r["fault"] for r in ROWS} | {a for r in ROWS for a in r.get("also", ())}
    unused = sorted({f.value for f in ClientFault} - used - NOT_YET_MAPPED)
    assert not unused, f"client faults no client case is mapped to: {unused}"
    stale = sorted(NOT_YET_MAPPED & used)
    assert not stale, f"NOT_YET_MAPPED names faults that rows now map (take them out): {stale}"


# The fault runs are processes that mostly wait (a client holding its session): three at a time keep
# the two cores busy without starving the clients' event loops (measured: tests/RESULTS in the note).
AT_ONCE = 3


def _fault_args(key: tuple[str, tuple[str, ...], str]) -> list[str]:
    fault, also, pair = key
    cases = sorted({r["test"] for r in GROUPS[key]})
    faults = [f"--client-fault={f}" for f in (fault, *also)]
    # --timeout-s=4: the own client runs on loopback; the scenario's wait for its session is 3x this
    pairs = [] if pair == "both" else pair_args(pair)  # "both": the run's auto profiles, both pairs
    return [*faults, "--timeout-s=4", *pairs, *cases]


@pytest.fixture(scope="module")
def fault_runs(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[dict]:
    """The `clients` runs of every fault group this session selected, AT_ONCE at a time, started when
    the first fault test asks; each test waits for its own (a future per group)."""
    keys = sorted({(p["fault"], p["also"], p["pair"]) for p in selected_params(request.session, "test_client_fault_is_caught")})
    with at_once({key: suite_job(_fault_args(key)) for key in keys}, tmp_path_factory, AT_ONCE) as futures:
        yield futures


@pytest.mark.slow
@pytest.mark.parametrize("fault,also,pair", sorted(GROUPS), ids=[f"{f}{''.join('+' + a for a in also)}@{p}"
                                                                for f, also, p in sorted(GROUPS)])
def test_client_fault_is_caught(fault, also, pair, fault_runs):
    rows = GROUPS[(fault, also, pair)]
    faults = [f"--client-fault={f}" for f in (fault, *also)]
    run = fault_runs[(fault, also, pair)].result(timeout=900)
    assert run.doc is not None, f"the suite wrote no results.json under {faults}:\n{run.output}"
    for row in rows:
        expected = row.get("verdict", "Fail")
        found = run.cases(row["test"])
        assert found, f"{row['test']} did not run under {faults}:\n{run.output}"
        for case in found:
            assert case["verdict"] == expected, (f"{case['id']} under {faults}: verdict {case['verdict']}, "
                                                 f"expected {expected}\nmessage: {case['message']}")
            if "requirement" in row:
                grading = [c for c in case["checks"] if c["id"] == row["requirement"] and c["verdict"] == expected]
                assert grading, f"{case['id']}: no {expected} check of {row['requirement']} in {case['checks']}"
    if any(r.get("verdict", "Fail") == "Fail" for r in rows):
        assert run.returncode == 1, f"a run with Fail verdicts exited {run.returncode}"
