"""The suite's command-line options, and the checks of their values before a run starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.harness import usage
from whip_whep_conformance.protocol import profiles

# How many cases run at once (worker processes) when --max-concurrency is not given.
EMBEDDED_CONCURRENCY = 4


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
    g.addoption("--whep-proposals", action="store_true",
                help="also run the checks of the WHEP working group's open proposals (unmerged pull requests, the WHEPP-* "
                     "rows); each is reported Info, met or not, never a Fail or Warning; without it they are not run")
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
    c = parser.getgroup("whip-whep-clients", "client conformance (whip-whep-conformance clients)")
    c.addoption("--whip-client", metavar="CMD",
                help="grade this WHIP client: a shell command, {url} and {token} filled in per scenario "
                     "(no client option: the project's own aiortc client is graded)")
    c.addoption("--whep-client", metavar="CMD", help="grade this WHEP player: a shell command with {url} and {token}")
    c.addoption("--manual", choices=("whip", "whep"),
                help="grade a client a person drives (OBS, a phone app): one URL per scenario is printed, then the suite waits")
    c.addoption("--client-grace-s", type=float, default=5.0, metavar="S",
                help="after SIGINT, S seconds for the client to end its session and exit before SIGTERM (default 5)")
    c.addoption("--manual-timeout-s", type=float, default=120.0, metavar="S",
                help="--manual: how long each scenario waits for the person's client to connect (default 120)")
    c.addoption("--server-ice-host", action="append", metavar="ADDR",
                help="the embedded server's host candidate address(es) in a client run (default 127.0.0.1; "
                     "libnice clients such as GStreamer skip loopback: give a veth address in a namespace)")
    c.addoption("--turnserver", metavar="PATH",
                help="coturn's turnserver, run for the TURN-only scenarios (default: turnserver on PATH; "
                     "Debian: apt install coturn); without one those scenarios' cases are Skipped")
    c.addoption("--client-fault", action="append", metavar="NAME",
                help="self-tests only: run the project's own client with this fault (python -m whip_whep_conformance.own_client --fault list)")
    g.addoption("--list-requirements", action="store_true", help="print the requirement registry and exit")
    g.addoption("--requirement", action="append", metavar="ID", help="run only cases checking this requirement (repeatable)")
    g.addoption("--level", action="append", type=str.lower, choices=("must", "should", "may", "info"),
                help="run only cases whose requirement is graded at this level (repeatable)")


def check_profiles(config: pytest.Config) -> None:
    """--whip-profile and --whep-profile name a known revision (or auto), in every run."""
    for option in ("whip_profile", "whep_profile"):
        value = config.getoption(option)
        check = profiles.check_whip if option == "whip_profile" else profiles.check_whep
        try:
            check(value, allow_auto=True)
        except ValueError as exc:
            raise pytest.UsageError(f"--{option.replace('_', '-')}: {exc}") from None


def reports_dir(config: pytest.Config) -> Path:
    """--reports-dir, resolved; a value pytest took for a test path (`--reports-dir PATH`) is refused."""
    found = Path(config.getoption("reports_dir")).resolve()
    if config.inipath is None and config.rootpath == found:
        raise pytest.UsageError(
            "pytest took the value of --reports-dir for a test path; write --reports-dir=PATH"
        )
    return found


def check_suite_options(config: pytest.Config, client_run: bool = False) -> usage.Mode:
    """The options of a suite run, checked together: the target mode they make (usage.py), the
    requirement IDs asked for (canonical spelling) and the embedded server's faults."""
    try:
        usage.check_values(config.getoption)
        usage.check_client_options(config.getoption, client_run)
        mode = usage.target_mode(config.getoption, client_run)
    except usage.OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("requirement"):
        config.option.requirement = usage.canonical_requirements(config.getoption("requirement"), list(registry.load()))
        unknown = [i for i in config.option.requirement if i not in registry.load()]
        if unknown:  # here, before workers start: raised in a worker's collection it was an INTERNALERROR
            raise pytest.UsageError(f"--requirement {unknown[0]}: not in the registry (see --list-requirements)")
        proposed = [i for i in config.option.requirement if registry.get(i).proposed]
        if proposed and not config.getoption("whep_proposals"):
            raise pytest.UsageError(f"--requirement {proposed[0]}: an open proposal of the WHEP working group, checked "
                                    "only with --whep-proposals (and reported Info)")
    unknown_faults = sorted(set(config.getoption("server_fault") or []) - set(_server_faults()))
    if unknown_faults:
        raise pytest.UsageError(f"--server-fault: unknown {unknown_faults} (python -m reference_server --fault list)")
    from whip_whep_conformance.own_client.faults import ClientFault

    unknown_faults = sorted(set(config.getoption("client_fault") or []) - {f.value for f in ClientFault})
    if unknown_faults:
        raise pytest.UsageError(f"--client-fault: unknown {unknown_faults} "
                                "(python -m whip_whep_conformance.own_client whip --fault list)")
    return mode


def _server_faults() -> list[str]:
    """The reference server's fault catalogue (imported only when a run is checked: the suite never
    needs the server's code, only the names its faults have)."""
    from whip_whep_conformance.reference_server.faults import FAULTS

    return list(FAULTS)
