"""Scenarios as data: how the server behaves toward the client, and which rows that lets us grade."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SCENARIOS_FILE = Path(__file__).with_name("scenarios.toml")


@dataclass(frozen=True)
class Scenario:
    """One way the server treats a client, for as long as the client runs."""

    name: str
    protocol: str  # "whip" | "whep": which client the scenario runs
    title: str
    rows: tuple[str, ...]  # the requirement IDs graded from what the client does in it
    server: tuple[str, ...] = ()  # reference server options (python -m reference_server --help)
    faults: tuple[str, ...] = ()  # reference server faults (--fault), where a scenario is a distortion
    token: bool = False  # the server requires a Bearer token on every WHIP/WHEP request
    publish_first: bool = True  # WHEP: the suite publishes to the live input before the player starts
    hold_s: float = 2.0  # how long the client runs once its session is up, before it is told to stop
    # hold the session (past hold_s) until the server has sent this many consent checks (RFC 7675, every
    # ~5 s) to the client and each has been answered or timed out: what a consent case grades
    consent_checks: int = 0
    other_host: bool = False  # the server's Locations name the front's second listener (another host:port)
    # the Link header values (rel="ice-server") the server adds, as reference server --link-ice-server URLs
    links: tuple[str, ...] = field(default=())
    # a TURN server (coturn, harness/clients/turn.py) runs for the scenario, the 201's Links name it (STUN and
    # TURN, credentials with "="), and the server's candidates are reachable only through its relays
    turn: bool = False

    @property
    def id(self) -> str:
        return f"{self.protocol}-{self.name}"


@cache
def scenarios() -> dict[str, Scenario]:
    """Every scenario, by id (`whip-plain`); a malformed file is an error naming the scenario."""
    doc = tomllib.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))
    found: dict[str, Scenario] = {}
    for entry in doc.get("scenario", []):
        try:
            scenario = Scenario(
                name=entry["name"], protocol=entry["protocol"], title=entry["title"], rows=tuple(entry["rows"]),
                server=tuple(entry.get("server", ())), faults=tuple(entry.get("faults", ())),
                token=bool(entry.get("token", False)), publish_first=bool(entry.get("publish_first", True)),
                hold_s=float(entry.get("hold_s", 2.0)), consent_checks=int(entry.get("consent_checks", 0)),
                other_host=bool(entry.get("other_host", False)),
                links=tuple(entry.get("links", ())), turn=bool(entry.get("turn", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{SCENARIOS_FILE.name}: scenario {entry.get('name', '?')!r}: {exc!r}") from None
        if scenario.protocol not in ("whip", "whep"):
            raise ValueError(f"{SCENARIOS_FILE.name}: scenario {scenario.name!r}: protocol must be whip or whep")
        if scenario.id in found:
            raise ValueError(f"{SCENARIOS_FILE.name}: scenario {scenario.id!r} is declared twice")
        found[scenario.id] = scenario
    return found


def scenario(protocol: str, name: str) -> Scenario:
    """The scenario `name` of `protocol`; a KeyError naming it when there is none (a case's typo)."""
    try:
        return scenarios()[f"{protocol}-{name}"]
    except KeyError:
        raise KeyError(f"no scenario {protocol}-{name} in {SCENARIOS_FILE.name}") from None
