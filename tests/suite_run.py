"""Run the conformance suite in a subprocess, as a user would, and read its results.json."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import json
import subprocess
import sys
import tomllib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Iterator, TypeVar

import pytest

from whip_whep_conformance.protocol import profiles

REPO = Path(__file__).resolve().parent.parent
PAIRS = {"standard": profiles.STANDARD, "cloudflare": profiles.CLOUDFLARE}


@dataclass
class Run:
    returncode: int
    doc: dict | None
    output: str

    def cases(self, test: str) -> list[dict]:
        """The results of one test function (every parameter and target)."""
        return [c for c in (self.doc or {}).get("cases", []) if c["id"].split("[")[0] == test]


def run_suite(args: list[str], reports_dir: Path, timeout_s: float = 600) -> Run:
    # `--opt=value`: pytest takes an existing path after a bare option for a test path (rootdir).
    # case paths are spelt as reports spell case ids (suites/...): the suite lives in the package
    paths = [f"whip_whep_conformance/{a}" for a in args if a.startswith("suites")] or ["whip_whep_conformance/suites"]
    options = [a for a in args if not a.startswith("suites")]
    if not any(a.startswith("--max-concurrency") for a in options):
        options.append("--max-concurrency=1")  # a handful of cases: worker start-up would cost more than it saves
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--reports-dir={reports_dir}", *options, *paths]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout_s)
    results = reports_dir / "results.json"
    doc = json.loads(results.read_text()) if results.exists() else None
    return Run(proc.returncode, doc, proc.stdout[-6000:] + proc.stderr[-3000:])


K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def selected_params(session: pytest.Session, test: str) -> list[dict]:
    """The parameters of each item of test function `test` this session selected (after -k and deselection)."""
    return [item.callspec.params for item in session.items
            if getattr(item, "originalname", None) == test and hasattr(item, "callspec")]


@contextlib.contextmanager
def at_once(jobs: dict[K, Callable[[Path], T]], tmp_path_factory: pytest.TempPathFactory,
            count: int) -> Iterator[dict[K, Future[T]]]:
    """`jobs` (key -> a run given its own reports folder), `count` at a time in the order given; a future per
    key. For runs that mostly wait (a client holding its session, media, a timeout): several overlap on two
    cores where one after another they would leave them idle."""
    pool = ThreadPoolExecutor(max_workers=count)
    try:
        yield {key: pool.submit(job, tmp_path_factory.mktemp("run")) for key, job in jobs.items()}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def suite_job(args: list[str], timeout_s: float = 600) -> Callable[[Path], Run]:
    """A job for at_once: the suite run `args`, its reports in the folder it is given."""
    return functools.partial(run_suite, args, timeout_s=timeout_s)


def pair_args(pair: str) -> list[str]:
    p = PAIRS[pair]
    return [f"--whip-profile={p.whip}", f"--whep-profile={p.whep}"]


def fault_map() -> list[dict]:
    return tomllib.loads((REPO / "tests" / "fault_map.toml").read_text())["row"]


def conformance_tests() -> list[str]:
    """Node ids (without parameters) of every server conformance case in suites/ (the client cases,
    suites/clients/, are proven by client faults: tests/client_fault_map.toml)."""
    package = REPO / "whip_whep_conformance"
    return case_functions([p for p in sorted((package / "suites").rglob("test_*.py"))
                           if "clients" not in p.relative_to(package / "suites").parts[:1]])


def case_functions(paths: list[Path]) -> list[str]:
    """Node ids (without parameters, from suites/) of the case functions the test modules `paths` define."""
    found = []
    package = REPO / "whip_whep_conformance"
    for path in paths:
        module_name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        module = importlib.import_module(module_name)
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("test_") and func.__module__ == module_name:
                found.append(f"{path.relative_to(package).as_posix()}::{name}")
    return found


def client_case_files(protocol: str) -> list[str]:
    """The client case modules of `protocol` (suites/clients/test_PROTOCOL_*.py), as case paths. A `clients`
    run starts each scenario once per process, protocol and profile pair, so one run per protocol and pair
    repeats no scenario of a run of them all, and the runs can go on different workers."""
    package = REPO / "whip_whep_conformance"
    return [p.relative_to(package).as_posix() for p in sorted((package / "suites" / "clients").glob(f"test_{protocol}_*.py"))]


# The clean runs of the reference server the project's tests make (tests/test_fault_injection.py), by
# name: what the suite grades in them is the record of what it checks (registry/graded.toml, written by
# `python -m tests.graded_record`). Each configuration reaches cases the default one leaves Not
# applicable: one without PATCH, one that trickles but does not restart ICE, one over HTTPS that needs a
# publisher first (HTTP-8's Retry-After), and the cases that wait out the consent timeout.
SLOW_CASE = "suites/common/test_consent.py::test_silent_peer_is_ended_after_a_refused_restart"
PATCH_CASES = ["suites/common/test_trickle_ice.py", "suites/common/test_ice_restart.py"]
TRICKLE_CLIENT_CASES = ["suites/clients/test_whip_4_3_ice_support.py", "suites/clients/test_whep_4_4_http_patch.py"]
CLEAN_RUNS: dict[str, list[str]] = {
    "standard": [*pair_args("standard"), "--max-concurrency=4"],
    "cloudflare": [*pair_args("cloudflare"), "--max-concurrency=4"],
    "no-patch-standard": [*pair_args("standard"), "--server-option=--no-patch", *PATCH_CASES],
    "no-patch-cloudflare": [*pair_args("cloudflare"), "--server-option=--no-patch", *PATCH_CASES],
    "no-ice-restart-standard": [*pair_args("standard"), "--server-option=--no-ice-restart", *PATCH_CASES],
    "no-ice-restart-cloudflare": [*pair_args("cloudflare"), "--server-option=--no-ice-restart", *PATCH_CASES],
    # one server both over HTTPS and playing only what is published: the two options are independent (one is
    # the transport, the other when a WHEP POST is answered 409), and one run of both pairs proves each
    "https-require-publisher": ["--server-option=--tls", "--server-option=--require-publisher", "--insecure",
                                "--max-concurrency=4"],
    "slow-cases": ["--slow-cases", "--max-concurrency=4", SLOW_CASE],
    # client conformance: the project's own client, each protocol in each profile pair (tests/test_clients.py);
    # and trickling (`trickle` is a behaviour, not a defect), where the PATCH cases grade what it sends
    # (--timeout-s=4: on loopback the own client is up in under a second; the 409 scenario, which nobody
    # ever ends, then waits 12 s, not 30)
    **{f"clients-{protocol}-{pair}": ["--timeout-s=4", *pair_args(pair), *client_case_files(protocol)]
       for protocol in ("whep", "whip") for pair in PAIRS},  # the longer WHEP runs first (tests/test_clients.py)
    "clients-trickle": ["--timeout-s=4", "--client-fault=trickle", *TRICKLE_CLIENT_CASES],
    # asking for the server's offer (`server-offer`, a behaviour), where only draft-murillo-whep-01 has one
    "clients-server-offer": ["--timeout-s=4", "--client-fault=server-offer", *pair_args("cloudflare"),
                             "suites/clients/test_whep_4_2_server_offers.py"],
}


def assert_graded_as_recorded(name: str, doc: dict) -> None:
    """The clean run `name` graded exactly the requirement IDs registry/graded.toml records for it: a
    check added or lost since the record was written shows here (regenerate: python -m tests.graded_record)."""
    from whip_whep_conformance import registry

    graded, recorded = registry.graded_in(doc["cases"]), registry.graded().get(name, frozenset())
    assert graded == recorded, (
        f"clean run {name!r} graded {sorted(graded - recorded)} that registry/graded.toml does not record, and not "
        f"{sorted(recorded - graded)} that it does: run `.venv/bin/python -m tests.graded_record`")
