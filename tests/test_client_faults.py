"""Every client case is proven: the project's own client with the matching client fault turns it
(tests/client_fault_map.toml), as server faults prove the server cases. One `clients` run per fault
(and pair), of only the cases its rows list, in a subprocess as a user runs it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from .suite_run import REPO, pair_args, run_suite

CLIENT_CASES = REPO / "whip_whep_conformance" / "suites" / "clients"
MAP = REPO / "tests" / "client_fault_map.toml"


def _rows() -> list[dict]:
    return tomllib.loads(MAP.read_text())["row"]


def _case_paths() -> dict[str, str]:
    """Client case function name -> its case path (suites/clients/MODULE::NAME)."""
    found: dict[str, str] = {}
    for path in sorted(CLIENT_CASES.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name.startswith("test_"):
                found[node.name] = f"suites/clients/{path.name}::{node.name}"
    return found


def _runs() -> dict[tuple[str, tuple[str, ...], str | None], list[dict]]:
    """The map's rows grouped by what one run needs: (fault, faults beside it, pair)."""
    runs: dict[tuple[str, tuple[str, ...], str | None], list[dict]] = {}
    for row in _rows():
        runs.setdefault((row["fault"], tuple(row.get("with", ())), row.get("pair")), []).append(row)
    return runs


def test_the_map_names_client_cases_and_faults():
    """Every case the map names exists, and every fault is one the own client knows."""
    from whip_whep_conformance.own_client.faults import ClientFault

    known = {f.value for f in ClientFault}
    cases = _case_paths()
    bad = [(r["fault"], c) for r in _rows() for c in r["cases"] if c not in cases]
    unknown = sorted({f for r in _rows() for f in (r["fault"], *r.get("with", ())) if f not in known})
    assert not bad and not unknown, f"map rows naming no client case: {bad}; unknown client faults: {unknown}"


@pytest.mark.slow
@pytest.mark.parametrize("fault, beside, pair", [
    pytest.param(*key, id="+".join((key[0], *key[1])) + (f"@{key[2]}" if key[2] else "")) for key in _runs()])
def test_client_fault_turns_its_cases(fault: str, beside: tuple[str, ...], pair: str | None, tmp_path: Path):
    """The own client with the fault gets the listed verdict on each listed case, in every pair run."""
    rows = _runs()[(fault, beside, pair)]
    paths = _case_paths()
    wanted = {c: r["verdict"] for r in rows for c in r["cases"]}
    args = [f"--client-fault={f}" for f in (fault, *beside)] + (pair_args(pair) if pair else [])
    run = run_suite([*args, *sorted({paths[c] for c in wanted})], tmp_path, timeout_s=900)
    assert run.doc is not None, run.output
    got = [(c["id"].split("::")[1].split("[")[0], c["id"], c["verdict"]) for c in run.doc["cases"]]
    wrong = [(case_id, verdict, wanted[name]) for name, case_id, verdict in got if verdict != wanted.get(name)]
    missing = sorted(set(wanted) - {name for name, _, _ in got})
    assert got and not wrong and not missing, f"--client-fault={fault}: (case, got, wanted) {wrong}; not run: {missing}"
