"""The pytest plugin behind the conformance suite: options, verdicts, reports, exit codes.

Loaded through the `pytest11` entry point, so `pytest` in this repo and the
`whip-whep-conformance` console script behave the same. Reports are written only when the run
collects conformance cases, so the project's own tests are not affected.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance import registry
from whip_whep_conformance.harness.grading import CaseEnded, ConformanceFailure, NotApplicable
from whip_whep_conformance.webrtc.peer import restrict_host_addresses
from whip_whep_conformance.reporting.html import write_html
from whip_whep_conformance.reporting.results import CaseResult, document, requirement_verdicts, write_json, write_junit
from whip_whep_conformance.harness.client import CreationRefused
from whip_whep_conformance.harness.leftovers import LEFTOVERS
from whip_whep_conformance.harness import needs, usage
from whip_whep_conformance.harness.target import is_loopback
from whip_whep_conformance.harness.wire import RATE_LIMIT, redact_document, redact_secrets
from whip_whep_conformance.verdicts import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, Verdict, worst

pytest_plugins = ["whip_whep_conformance.harness.target_fixture", "whip_whep_conformance.harness.case"]

RESULT = pytest.StashKey[CaseResult]()
STATE = pytest.StashKey["RunState"]()


class RunState:
    """What the reporting process gathers: every case's result, and what workers could not clean up."""

    def __init__(self, reports_dir: Path, baseline: dict[str, str]) -> None:
        self.baseline = baseline
        self.reports_dir = reports_dir
        self.cases: list[CaseResult] = []
        self.started = datetime.now(timezone.utc)
        self.t0 = time.monotonic()
        self.doc: dict | None = None
        self.order: dict[str, int] = {}  # collection order, so concurrent runs report in spec order
        self.left = 0  # sessions/live inputs still open at the end of a worker, and those it could not delete
        self.not_deleted: list[str] = []
        self.unverified: list[str] = []  # deleted at the end with a 2xx that a second DELETE could not confirm
        self.unreachable: str | None = None
        self.secrets: set[str] = set()  # learnt by the cases (minted publish secrets), redacted from every report


# How many cases run at once (worker processes) when --max-concurrency is not given.
EMBEDDED_CONCURRENCY = 4
# The attribute of a test report that carries a case's result from the process that ran it.
CASE_ATTR = "whip_whep_case"
# ... the verdict, on the report of the phase that decided it (setup or call), for the progress line
VERDICT_ATTR = "whip_whep_verdict"
# ... the secrets its wire log learnt, so the reporting process redacts them from every file it writes
SECRETS_ATTR = "whip_whep_secrets"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("whip-whep", "WHIP/WHEP conformance target")
    g.addoption("--endpoint", help="WHIP endpoint URL to test (no target option: the embedded reference server)")
    g.addoption("--whep-endpoint", help="WHEP endpoint URL that plays what --endpoint publishes; alone, a WHEP-only "
                                        "run: it plays what is already live there")
    g.addoption("--live-inputs", help="live inputs collection URL (Cloudflare-shaped API) that mints a publish/play pair per case")
    g.addoption("--token", help="Bearer token sent on WHIP/WHEP requests")
    g.addoption("--api-token", help="Bearer token for the live inputs API")
    g.addoption("--whip-profile", default=profiles.AUTO,
                help=f"WHIP revision to grade against: {', '.join(profiles.WHIP_PROFILES)} or auto (protocol-version header, else {profiles.DEFAULT_WHIP})")
    g.addoption("--whep-profile", default=profiles.AUTO,
                help=f"WHEP revision to grade against: {', '.join(profiles.WHEP_PROFILES)} or auto (protocol-version header, else {profiles.DEFAULT_WHEP})")
    g.addoption("--ice-host", action="append", metavar="ADDR",
                help="address(es) the suite's peers offer as host candidates (default: 127.0.0.1 for loopback targets, all interfaces otherwise)")
    g.addoption("--ice-server", action="append", metavar="URL", help="STUN/TURN URL for the suite's peers (none by default)")
    g.addoption("--ca-bundle", help="CA bundle to verify an HTTPS target with")
    g.addoption("--insecure", action="store_true", help="do not verify the HTTPS target's certificate")
    g.addoption("--timeout-s", type=float, default=10.0, help="deadline of each network wait, in seconds (default 10)")
    g.addoption("--max-latency-ms", type=float, metavar="MS",
                help="glass-to-glass latency p95 above MS fails the media cases (default: reported as Info)")
    g.addoption("--max-ttff-ms", type=float, metavar="MS",
                help="time from a viewer's POST to its first decoded frame above MS fails (default: reported as Info)")
    g.addoption("--max-loss-pct", type=float, metavar="PCT",
                help="video frames lost above PCT percent of those sent fails the media cases (default: reported as Info)")
    g.addoption("--max-freeze-ms", type=float, metavar="MS",
                help="a freeze (gap between decoded video frames) longer than MS fails the media cases (default: reported as Info)")
    g.addoption("--slow-cases", action="store_true",
                help="also run the cases that wait out a 30-second timeout of the target (ICE consent freshness); "
                     "without it they are reported not applicable")
    g.addoption("--max-concurrency", type=int, metavar="N",
                help=f"cases run at once, in N worker processes (default: {EMBEDDED_CONCURRENCY} against the embedded server, "
                     "1 against your target: fixed URLs are shared by every case)")
    g.addoption("--reports-dir", default="reports", help="where results.json, junit.xml, conformance.html and allure-results/ go (default ./reports)")
    g.addoption("--server-fault", action="append", metavar="NAME", help="self-tests only: start the embedded server with this fault")
    g.addoption("--server-option", action="append", metavar="ARG",
                help="self-tests only: start the embedded server with this option too (e.g. --server-option=--require-publisher)")
    g.addoption("--no-create", action="store_true",
                help="read-only: never create sessions or live inputs on the target; cases that would are Not applicable")
    g.addoption("--max-rate", type=float, metavar="N", help="at most N requests per second to the target (no cap by default)")
    g.addoption("--strict-conformance", action="store_true",
                help="Warnings (violated SHOULDs) fail the run too (exit 1)")
    g.addoption("--baseline", metavar="FILE",
                help='JSON list of known failures [{"id": REQUIREMENT_ID, "reason": TEXT}]: reported, but they do not fail the run')
    g.addoption("--list-requirements", action="store_true", help="print the requirement registry and exit")
    g.addoption("--requirement", action="append", metavar="ID", help="run only cases checking this requirement (repeatable)")
    g.addoption("--level", action="append", type=str.lower, choices=("must", "should", "may", "info"),
                help="run only cases whose requirement is graded at this level (repeatable)")


def case_id(nodeid: str) -> str:
    """A case's id as reports and baselines spell it, `suites/whip/test_x.py::test_y[...]`, whichever
    directory pytest ran from (the repository's root names it whip_whep_conformance/suites/...)."""
    path, sep, rest = nodeid.partition("::")
    at = path.find("whip_whep_conformance/suites/")
    return (path[at + len("whip_whep_conformance/"):] if at >= 0 else path) + sep + rest


def _is_suite_run(config: pytest.Config) -> bool:
    import whip_whep_conformance.suites as suites

    suite_dir = Path(suites.__file__).resolve().parent
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == suite_dir or suite_dir in path.parents or path in suite_dir.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): registry requirement IDs a conformance case checks")
    config.addinivalue_line("markers", f"{needs.VIEWER_MARK}: the case watches media at a WHEP viewer (needs a WHEP endpoint)")
    for option in ("whip_profile", "whep_profile"):
        value = config.getoption(option)
        check = profiles.check_whip if option == "whip_profile" else profiles.check_whep
        try:
            check(value, allow_auto=True)
        except ValueError as exc:
            raise pytest.UsageError(f"--{option.replace('_', '-')}: {exc}") from None
    if config.getoption("list_requirements"):
        return
    reports_dir = Path(config.getoption("reports_dir")).resolve()
    if config.inipath is None and config.rootpath == reports_dir:
        raise pytest.UsageError(
            "pytest took the value of --reports-dir for a test path; write --reports-dir=PATH"
        )
    if not _is_suite_run(config):
        return
    try:
        usage.check_values(config.getoption)
        config.stash[MODE] = usage.target_mode(config.getoption)
    except usage.OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("requirement"):
        config.option.requirement = usage.canonical_requirements(config.getoption("requirement"), list(registry.load()))
    unknown_faults = sorted(set(config.getoption("server_fault") or []) - set(_server_faults()))
    if unknown_faults:
        raise pytest.UsageError(f"--server-fault: unknown {unknown_faults} (python -m reference_server --fault list)")
    worker = _worker_count(config)  # None: this process is the one that writes the reports
    if worker is not None:  # the live inputs of every worker carry the run's name (leftovers.py)
        LEFTOVERS.run_id = config.workerinput.get("run_id", LEFTOVERS.run_id)  # type: ignore[attr-defined]
    target_url = config.getoption("live_inputs") or config.getoption("endpoint") or config.getoption("whep_endpoint")
    ice_hosts = config.getoption("ice_host")
    if ice_hosts is None and (target_url is None or is_loopback(target_url)):
        ice_hosts = ["127.0.0.1"]
    try:
        restrict_host_addresses(ice_hosts)  # before the probe: its offer's candidates too
    except ValueError as exc:
        raise pytest.UsageError(f"--ice-host: {exc}") from None
    reports_dir.mkdir(parents=True, exist_ok=True)
    state = RunState(reports_dir, _load_baseline(config))
    config.stash[STATE] = state
    if worker is None:
        _REPORTING["state"] = state
    if getattr(config.option, "allure_report_dir", None) is None and hasattr(config.option, "allure_report_dir"):
        config.option.allure_report_dir = str(reports_dir / "allure-results")
        config.option.clean_alluredir = worker is None  # emptied once, before any worker writes to it
    if worker is None:
        _probe_once(config)
        _distribute(config)
    rate = config.getoption("max_rate")
    RATE_LIMIT.rate = rate / worker if rate and worker else rate  # the cap holds for the whole run


MODE = pytest.StashKey[usage.Mode]()


def _probe_once(config: pytest.Config) -> None:
    """The user's target is probed once, before any case or worker: a target that cannot be tested
    (unreachable, not WHIP/WHEP, the token refused) ends the run with exit 6 and the reason."""
    if _embedded(config) or config.getoption("collectonly"):
        return
    from whip_whep_conformance.harness.target_fixture import UNREACHABLE, probed_target

    found = probed_target(config)
    if isinstance(found, str):
        config.stash[UNREACHABLE] = found


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """No case runs against a target the probe found untestable (the reports carry the reason)."""
    from whip_whep_conformance.harness.target_fixture import UNREACHABLE

    if UNREACHABLE in session.config.stash and _worker_count(session.config) is None and STATE in session.config.stash:
        return True
    return None


def _server_faults() -> list[str]:
    from whip_whep_conformance.reference_server.faults import FAULTS

    return list(FAULTS)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist: a worker names its live inputs after this run, as the reporting process does,
    and takes the probe's findings instead of probing (POSTing) again."""
    node.workerinput["run_id"] = LEFTOVERS.run_id
    from whip_whep_conformance.harness.target_fixture import PROBE_INPUT, PROBED

    found = node.config.stash.get(PROBED, None)
    if found is not None and not isinstance(found, str):
        node.workerinput[PROBE_INPUT] = (found.whip_profile, found.whep_profile)


def _worker_count(config: pytest.Config) -> int | None:
    """In a worker process of a concurrent run: how many workers there are; otherwise None."""
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput["workercount"]) if workerinput else None


def _distribute(config: pytest.Config) -> None:
    """Run cases in worker processes (pytest-xdist) when more than one may run at once.

    Worker processes rather than asyncio tasks: aioice's host addresses, aiortc's codec hooks and
    the rate limit are process-wide, and cases stay the plain pytest functions they are. Each
    worker starts its own embedded servers; cases never share sessions, so none depends on another.
    """
    wanted = config.getoption("max_concurrency")
    if wanted is not None and wanted < 1:
        raise pytest.UsageError(f"--max-concurrency={wanted}: give 1 or more")
    if wanted is None:
        wanted = EMBEDDED_CONCURRENCY if _embedded(config) else 1
    chosen_by_user = config.getoption("numprocesses", None) is not None
    if wanted <= 1 or chosen_by_user or config.getoption("collectonly") or not config.pluginmanager.has_plugin("xdist"):
        return
    if not _embedded(config):
        from whip_whep_conformance.harness.target_fixture import UNREACHABLE

        if UNREACHABLE in config.stash:
            return  # reported once, by this process, with exit code 6: no worker is started
    config.option.numprocesses = wanted
    config.option.dist = "load"
    config.option.tx = ["popen"] * wanted


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """`--list-requirements`: the registry as a table of contents, then exit."""
    if not config.getoption("list_requirements"):
        return None
    try:
        _print_requirements()
    except BrokenPipeError:  # `--list-requirements | head`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _print_requirements() -> None:
    from whip_whep_conformance.registry import listing

    for line in listing.lines():
        print(line)


def _natural(text: str) -> list:
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _load_baseline(config: pytest.Config) -> dict[str, str]:
    path = config.getoption("baseline")
    if not path:
        return {}
    import json

    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {str(e["id"]): str(e.get("reason", "")) for e in entries}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise pytest.UsageError(f"--baseline {path}: not a JSON list of {{\"id\", \"reason\"}} objects ({exc})") from None
    unknown = [i for i in known if i not in registry.load()]
    if unknown:
        raise pytest.UsageError(f"--baseline {path}: unknown requirement IDs {unknown}")
    return known


def _embedded(config: pytest.Config) -> bool:
    """No target option at all (usage.TARGET_OPTIONS): the embedded reference server is tested."""
    mode = config.stash.get(MODE, None)
    return mode.embedded if mode is not None else not any(config.getoption(o) for o in usage.TARGET_OPTIONS)


MISSING = pytest.StashKey[str]()  # on an item: the endpoint it needs that this run has not got


def pytest_collection_finish(session: pytest.Session) -> None:
    """Say up front what a missing WHIP or WHEP endpoint costs; those cases are Not applicable
    without being run (needs.py decides which cases need which endpoint)."""
    config = session.config
    mode = config.stash.get(MODE, None)
    if mode is None or mode.embedded or config.getoption("collectonly"):
        return
    costs = {"whep": 0, "whip": 0}
    cases = [item for item in session.items if item.get_closest_marker("requirement") is not None]
    for item in cases:
        reason = needs.missing(item, mode)
        if reason is not None:
            item.stash[MISSING] = reason
            costs["whep" if reason.startswith("no WHEP") else "whip"] += 1
    from whip_whep_conformance.harness.target_fixture import UNREACHABLE

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or _worker_count(config) is not None or UNREACHABLE in config.stash:
        return  # a worker's output is not shown; an untestable target is reported instead
    if not mode.whep:
        reporter.write_line(f"no WHEP endpoint (--whep-endpoint): {costs['whep']} of {len(cases)} cases need one "
                            f"and are Not applicable; {len(cases) - costs['whep']} run", yellow=True)
    if not mode.whip:
        reporter.write_line(f"WHEP only (--whep-endpoint without --endpoint): {costs['whip']} of {len(cases)} cases "
                            "check WHIP and are Not applicable; the others play what is live at the WHEP endpoint, "
                            "and those that need the suite's own published media are Not applicable too", yellow=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A case that needs an endpoint this run has not got is Not applicable before it starts."""
    reason = item.stash.get(MISSING, None)
    if reason is None:
        return
    from whip_whep_conformance.harness.target_fixture import probed_target

    found = probed_target(item.config)
    if not isinstance(found, str):
        item.funcargs["target"] = found  # type: ignore[attr-defined]  # the report's target label and profiles
    raise NotApplicable(reason)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    config = metafunc.config
    if not _embedded(config):
        metafunc.parametrize("target", [None], indirect=True, scope="session", ids=["target"])
        return
    whip, whep = config.getoption("whip_profile"), config.getoption("whep_profile")
    if whip == profiles.AUTO and whep == profiles.AUTO:
        pairs = list(profiles.EMBEDDED_PAIRS)
    else:
        pairs = [profiles.ProfilePair(
            profiles.DEFAULT_WHIP if whip == profiles.AUTO else whip,
            profiles.DEFAULT_WHEP if whep == profiles.AUTO else whep,
        )]
    metafunc.parametrize("target", pairs, indirect=True, scope="session", ids=[p.id for p in pairs])


LEVELS = {"must": "fail", "should": "warn", "may": "capability", "info": "info"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every conformance case must name registry requirements (an unknown ID is a usage error);
    `--requirement` and `--level` keep only the cases that check what was asked for."""
    wanted_ids = set(config.getoption("requirement") or [])
    for req_id in wanted_ids:
        if req_id not in registry.load():
            raise pytest.UsageError(f"--requirement {req_id}: not in the registry (see --list-requirements)")
    wanted_grades = {LEVELS[level] for level in config.getoption("level") or []}
    selected, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("requirement")
        if marker is None:
            selected.append(item)
            continue
        for req_id in marker.args:
            try:
                registry.get(req_id)
            except registry.UnknownRequirement as exc:
                raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        keep = (not wanted_ids or wanted_ids & set(marker.args)) and (
            not wanted_grades or any(registry.get(i).grade in wanted_grades for i in marker.args)
        )
        (selected if keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = item.config.stash.get(STATE, None)
    if state is None or item.get_closest_marker("requirement") is None:
        return
    from whip_whep_conformance.harness.case import CASE

    record = item.stash.get(CASE, None)
    result = item.stash.get(RESULT, None)
    if result is None:
        target = item.funcargs.get("target") if hasattr(item, "funcargs") else None
        doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
        result = CaseResult(
            nodeid=case_id(item.nodeid), name=getattr(item, "originalname", item.name),
            title=doc[0] if doc else item.name,
            target=target.describe() if target else "",
            whip_profile=target.whip_profile if target else "",
            whep_profile=target.whep_profile if target else "",
            requirement_ids=_in_force(list(item.get_closest_marker("requirement").args), target),
            params=_params(item),
            verdict=Verdict.PASS,
        )
        item.stash[RESULT] = result
    result.duration_s += report.duration
    if report.when in ("setup", "call") and call.excinfo is not None:
        exc = call.excinfo.value
        if isinstance(exc, ConformanceFailure):
            result.verdict, result.message = Verdict.FAIL, str(exc)
        elif isinstance(exc, NotApplicable):
            result.verdict, result.message = Verdict.NOT_APPLICABLE, str(exc.msg)
        elif isinstance(exc, CaseEnded) and record is not None:
            _grade_from_checks(result, record)
        elif isinstance(exc, CreationRefused):
            result.verdict, result.message = Verdict.NOT_APPLICABLE, str(exc)
        elif call.excinfo.errisinstance(pytest.skip.Exception):
            result.verdict, result.message = Verdict.SKIPPED, str(getattr(exc, "msg", exc))
        else:
            result.verdict = Verdict.ERROR
            result.message = f"{type(exc).__name__}: {exc}".strip()
        if record is not None:
            result.message = record.log.redact(result.message)
        setattr(report, VERDICT_ATTR, result.verdict.value)
    elif report.when == "call" and record is not None:
        _grade_from_checks(result, record)
    if report.when == "call":
        setattr(report, VERDICT_ATTR, result.verdict.value)
    if report.when == "teardown":
        if record is not None and record.checks:
            # the requirements the case actually graded, in order (parametrized cases grade subsets)
            result.requirement_ids = list(dict.fromkeys(c.requirement_id for c in record.checks))
        if record is not None:
            result.checks = [c.to_json() for c in record.checks]
            result.figures = dict(record.figures)
            result.wire_log = [e.to_json() for e in record.log.exchanges]
        # Carried on the report, which pytest-xdist sends from a worker to the reporting process.
        setattr(report, CASE_ATTR, result.to_transport())
        setattr(report, SECRETS_ATTR, list(record.log.secrets) if record is not None else [])
        report.user_properties.append(("verdict", result.verdict.value))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather each case's result where the reports are written (this process, or xdist's controller)."""
    data = getattr(report, CASE_ATTR, None)
    if data is None or report.when != "teardown":
        return
    state = _REPORTING.get("state")
    if state is not None:
        state.cases.append(CaseResult.from_transport(data))
        state.secrets.update(getattr(report, SECRETS_ATTR, None) or [])


# The RunState of the process that writes the reports (pytest_runtest_logreport gets no config).
_REPORTING: dict[str, RunState] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    state = _REPORTING.get("state")
    if state is not None and not state.order:
        state.order = {case_id(nodeid): i for i, nodeid in enumerate(ids)}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """A worker is done: what it could not clean up, and an unreachable target, reach the reports."""
    state = _REPORTING.get("state")
    out = getattr(node, "workeroutput", {}).get(CASE_ATTR)
    if state is None or not out:
        return
    state.left += out["left"]
    state.not_deleted += out["not_deleted"]
    state.unverified += out.get("unverified", [])
    state.unreachable = state.unreachable or out["unreachable"]


def _grade_from_checks(result: CaseResult, record) -> None:
    """A case that ended normally (or with its verdict already made) is the worst of its checks."""
    result.verdict = worst([c.verdict for c in record.checks], default=Verdict.PASS)
    result.message = "\n".join(c.message for c in record.checks if c.verdict is not Verdict.PASS and c.message)


def _in_force(ids: list[str], target) -> list[str]:
    """The marker's IDs that hold under the target's profiles (all of them if none does)."""
    if target is None:
        return ids
    held = [i for i in ids if registry.get(i).applies_to(target.whip_profile, target.whep_profile)]
    return held or ids


def _params(item: pytest.Item) -> dict[str, str]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    return {k: str(v) for k, v in callspec.params.items() if k != "target"}


# The progress line: one letter per case, for its verdict (README "Reading the console").
PROGRESS = {"Pass": ".", "Fail": "F", "Error": "E", "Warning": "W", "Unsupported": "U", "Info": "I",
            "Supported": "S", "Not applicable": "s", "Skipped": "s"}
PROGRESS_KEY = "progress: . Pass  F Fail  E Error  W Warning  U Unsupported  I Info  S Supported  s Not applicable or skipped"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A case's letter is its verdict, once, from the phase that decided it (pytest's own would say
    `.` for a Warning, and `s` for a case that ended early with its verdict made)."""
    verdict = getattr(report, VERDICT_ATTR, None)
    if verdict in PROGRESS:
        # pytest's own category, so that --tb=STYLE still finds the failures to show
        category = report.outcome if not report.failed else "failed" if report.when == "call" else "error"
        return category, PROGRESS[verdict], verdict.upper()
    return None


# Grades at which a requirement is seen failing (a Warning is a violated SHOULD: still not fixed),
# and those at which it is seen holding.
NOT_PASSING = (Verdict.FAIL, Verdict.ERROR, Verdict.WARNING)
PASSING = (Verdict.PASS, Verdict.SUPPORTED)
UNGRADED = (Verdict.NOT_APPLICABLE, Verdict.SKIPPED)  # the case did not get as far as judging


def _grades(case: CaseResult) -> dict[str, Verdict]:
    return requirement_verdicts(case.checks, case.verdict, case.requirement_ids)


def _blocking(verdict: Verdict, strict: bool) -> bool:
    return verdict.fails_run or (verdict is Verdict.WARNING and strict)


def _fails(case: CaseResult, state: "RunState", config: pytest.Config) -> bool:
    """A case fails the run when a requirement it grades Fail/Error (with --strict-conformance,
    Warning too) is not a known failure in the baseline."""
    strict = bool(config.getoption("strict_conformance"))
    if not _blocking(case.verdict, strict):
        return False
    grades = _grades(case)
    return not grades or any(_blocking(v, strict) and i not in state.baseline for i, v in grades.items())


def _known_failure(case: CaseResult, state: "RunState", config: pytest.Config) -> str | None:
    """The baseline's reasons when this case sees known failures again and fails nothing else
    (junit.xml and the report mark it known rather than failed)."""
    if _fails(case, state, config):
        return None
    known = [i for i, v in _grades(case).items() if v in NOT_PASSING and i in state.baseline]
    return "; ".join(f"{i}: {state.baseline[i]}" if state.baseline[i] else i for i in known) or None


def _baseline_report(state: "RunState", strict: bool = False) -> dict:
    """Known failures seen again (at any grade that is not a pass: Fail, Error or Warning), known
    failures now passing in every case that grades them (the baseline can shrink: removing them
    cannot fail the run), and failures the baseline does not know."""
    seen: dict[str, list[Verdict]] = {}
    for case in state.cases:
        for rid, verdict in _grades(case).items():
            seen.setdefault(rid, []).append(verdict)
    bad = {i for i, vs in seen.items() if any(v in NOT_PASSING for v in vs)}
    blocking = {i for i, vs in seen.items() if any(_blocking(v, strict) for v in vs)}
    graded = {i: [v for v in vs if v not in UNGRADED] for i, vs in seen.items()}
    return {
        "known": sorted(i for i in state.baseline if i in bad),
        "fixed": sorted(i for i in state.baseline if graded.get(i) and all(v in PASSING for v in graded[i])),
        "new_failures": sorted(blocking - set(state.baseline)),
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(STATE, None)
    if state is None:
        return
    from whip_whep_conformance.harness.target_fixture import UNREACHABLE

    # The last line of cleanup: whatever a case created and could not delete (Ctrl-C, timeouts).
    left = len(LEFTOVERS)
    not_deleted = LEFTOVERS.sweep(config.getoption("timeout_s"), verify=config.getoption("ca_bundle") or not config.getoption("insecure"))
    error = config.stash.get(UNREACHABLE, None)
    if _worker_count(config) is not None:
        # a worker's results went with its test reports; the reporting process writes the files
        config.workeroutput[CASE_ATTR] = {"left": left, "not_deleted": not_deleted, "unreachable": error,
                                          "unverified": LEFTOVERS.unverified}
        return
    _REPORTING.pop("state", None)
    left += state.left
    not_deleted = not_deleted + state.not_deleted
    if config.getoption("live_inputs") and not config.getoption("no_create"):  # inputs whose create a Ctrl-C cut off
        api_token = config.getoption("api_token")
        found, failed = LEFTOVERS.sweep_collection(
            config.getoption("live_inputs"), {"Authorization": f"Bearer {api_token}"} if api_token else {},
            config.getoption("timeout_s"), verify=config.getoption("ca_bundle") or not config.getoption("insecure"))
        left, not_deleted = left + found, not_deleted + failed
    error = error or state.unreachable
    if state.order:
        state.cases.sort(key=lambda c: state.order.get(c.nodeid, len(state.order)))
    if error is not None:
        code = EXIT_UNREACHABLE
    elif int(exitstatus) not in (0, 1):
        code = int(exitstatus)  # usage or collection errors keep pytest's own code
    else:
        code = EXIT_FAILED if any(_fails(c, state, config) for c in state.cases) else EXIT_OK
    targets = []
    for c in state.cases:
        entry = {"label": c.target, "whip_profile": c.whip_profile, "whep_profile": c.whep_profile}
        if entry not in targets:
            targets.append(entry)
    baseline = _baseline_report(state, strict=bool(config.getoption("strict_conformance")))
    for case in state.cases:  # junit.xml and the report show these as known, not failed
        case.fails_run = _fails(case, state, config)
        case.known_failure = _known_failure(case, state, config)
    doc = document(
        state.cases,
        started=state.started.isoformat(timespec="seconds"),
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        duration_s=time.monotonic() - state.t0,
        targets=targets, exit_code=code, error=error,
    )
    doc["strict_conformance"] = bool(config.getoption("strict_conformance"))
    unverified = LEFTOVERS.unverified + state.unverified
    doc["cleanup"] = {"deleted_at_end": left - len(not_deleted) - len(unverified), "not_deleted": not_deleted,
                      "unverified": unverified}
    doc["baseline"] = baseline
    secrets = _run_secrets(config, state)
    doc = redact_document(doc, secrets)
    _redact_allure(config, secrets)
    write_json(doc, state.reports_dir / "results.json")
    write_junit(doc, state.reports_dir / "junit.xml")
    write_html(doc, state.reports_dir / "conformance.html")
    state.doc = doc
    session.exitstatus = code


def _run_secrets(config: pytest.Config, state: "RunState") -> list[str]:
    """Everything no report may show: the tokens, a fixed publish URL's secret, and what cases learnt."""
    from whip_whep_conformance.harness.target_fixture import option_secrets

    found = {*option_secrets(config), *state.secrets}
    return sorted((s for s in found if s), key=len, reverse=True)


def _redact_allure(config: pytest.Config, secrets: list[str]) -> None:
    """allure-pytest wrote its results as the cases ran (exception messages, parameters, names): the
    same secrets go from them, in place, before anyone keeps the folder."""
    folder = getattr(config.option, "allure_report_dir", None)
    if not secrets or not folder or not Path(folder).is_dir():
        return
    for path in Path(folder).iterdir():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        redacted = redact_secrets(text, secrets)
        if redacted != text:
            path.write_text(redacted, encoding="utf-8")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A suite run's console ends with the suite's own summary: pytest's failure tracebacks (the
    suite's internals), its SKIPPED lines and its tally ("432 passed … 123 verdict") would contradict
    the verdicts, so they give way to it (`--tb=short` or another style brings pytest's sections back)."""
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or STATE not in config.stash or _worker_count(config) is not None or config.option.collectonly:
        return  # (--collect-only: pytest's count of what was collected is the answer)
    if config.option.tbstyle == "auto":
        config.option.no_summary = True
    reporter.reportchars = ""
    # pytest prints its tally last of all, after every plugin's summary and a Ctrl-C's report, and
    # also when pytest_terminal_summary is not called (exit code 6): the suite's summary takes its place.
    reporter.summary_stats = lambda: _suite_summary(reporter, config)


def _suite_summary(tr, config: pytest.Config) -> None:
    """Progress key, failures and warnings (requirement, message, where in the report), then the
    suite's verdict line, last; with -v, first the h2spec-like table of every case by section."""
    state = config.stash.get(STATE, None)
    if state is None or state.doc is None:
        return
    doc = state.doc
    tr.section("WHIP/WHEP conformance")
    tr.write_line(PROGRESS_KEY)
    if doc["error"]:
        tr.write_line(f"TARGET UNREACHABLE: {doc['error']}", red=True, bold=True)
        if getattr(tr, "_keyboardinterrupt_memo", None) is not None:
            tr._keyboardinterrupt_memo = None  # pytest would repeat the reason after this summary, as an "Exit"
    if config.option.verbose > 0:
        _case_table(tr, doc)
    _failures_and_warnings(tr, doc, len({c["target"] for c in doc["cases"]}) > 1)
    if state.baseline:
        b = doc["baseline"]
        tr.write_line(f"baseline: {len(b['known'])} known failures seen again; new failures: {', '.join(b['new_failures']) or 'none'}")
        if b["fixed"]:
            tr.write_line(f"baseline: now passing, remove from the baseline: {', '.join(b['fixed'])}", green=True)
    tr.write_line(f"reports: {state.reports_dir}/results.json, junit.xml, conformance.html, allure-results/")
    counts = ", ".join(f"{n} {v}" for v, n in doc["counts"].items() if n)
    failed = doc["exit_code"] != EXIT_OK
    tr.write_line(f"verdicts: {counts or 'no cases'}; exit code {doc['exit_code']}", bold=True,
                  **({"red": True} if failed else {"green": True}))


def _section(case: dict) -> str:
    req = case["requirements"][0] if case["requirements"] else {"spec": "?", "section": "?"}
    return f"{req['spec']} §{req['section']}"


def _title(case: dict) -> str:
    params = " ".join(f"{k}={v}" for k, v in case["params"].items())
    return f"{case['title']} ({params})" if params else case["title"]


def _colour(verdict: str) -> dict[str, bool]:
    return {"red": True} if verdict in ("Fail", "Error") else {"yellow": True} if verdict == "Warning" else \
        {"green": True} if verdict in ("Pass", "Supported") else {}


def _case_table(tr, doc: dict) -> None:
    """An h2spec-like table of contents: spec → section → case, with its verdict."""
    by_section: dict[tuple[str, str], list[dict]] = {}
    for case in doc["cases"]:
        by_section.setdefault((case["target"], _section(case)), []).append(case)
    for (target, section), cases in sorted(by_section.items(), key=lambda kv: (kv[0][0], profiles.spec_rank(kv[0][1].split(" §")[0]), _natural(kv[0][1]))):
        tr.write_line(f"{target} — {section}")
        for case in cases:
            ids = ", ".join(r["id"] for r in case["requirements"])
            tr.write_line(f"  {case['verdict']:>14}  [{ids}] {_title(case)}", **_colour(case["verdict"]))


MESSAGE_LINES = 3  # of each failure's message on the console; the report has all of it


def _failures_and_warnings(tr, doc: dict, name_target: bool) -> None:
    """Every Fail, Error and Warning: its requirement, its message, and where the report shows it."""
    worst_first = {"Error": 0, "Fail": 1, "Warning": 2}
    listed = sorted((c for c in doc["cases"] if c["verdict"] in worst_first), key=lambda c: worst_first[c["verdict"]])
    if not listed:
        return
    tr.write_line(f"failures and warnings ({len(listed)}):")
    for case in listed:
        ids = ", ".join(r["id"] for r in case["requirements"])
        tr.write_line(f"  {case['verdict']:<7} [{ids}] {_title(case)}", **_colour(case["verdict"]))
        lines = [line for line in (case.get("message") or "").splitlines() if line.strip()]
        for line in lines[:MESSAGE_LINES]:
            tr.write_line(f"          {line[:300]}")
        if len(lines) > MESSAGE_LINES:
            tr.write_line(f"          … {len(lines) - MESSAGE_LINES} more lines in the report")
        where = f"{case['target']}, " if name_target else ""
        tr.write_line(f"          report: conformance.html, {where}{_section(case)}; results.json case {case['id']}")
