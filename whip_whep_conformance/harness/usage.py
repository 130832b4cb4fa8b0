"""Option mistakes found before any request is sent: a usage error (exit 4) names the option, so
that no mistake of the user's is reported as the target's fault (exit 6, "unreachable").

Which target a run tests follows from the target options given; see `target_mode`.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# Options that say which target is tested; none of them: the embedded reference server.
TARGET_OPTIONS = ("endpoint", "whep_endpoint", "live_inputs", "token", "api_token")
URL_OPTIONS = ("endpoint", "whep_endpoint", "live_inputs")
# Self-test options: they change how the embedded reference server is started.
EMBEDDED_ONLY = ("server_fault", "server_option")
# Options of client conformance (`whip-whep-conformance clients`): they grade a client, not a server.
CLIENT_OPTIONS = ("whip_client", "whep_client", "manual", "client_fault", "server_ice_host", "turnserver")
# Options of a server run that a client run would silently ignore: refused there instead.
SERVER_RUN_ONLY = ("ice_host", "ice_server", "no_create", "slow_cases", "max_rate", "ca_bundle", "insecure",
                   "max_latency_ms", "max_ttff_ms", "max_loss_pct", "max_freeze_ms", "whep_proposals")


class OptionError(ValueError):
    """A usage error; the message starts with the option it is about."""


def flag(option: str) -> str:
    return "--" + option.replace("_", "-")


@dataclass(frozen=True)
class Mode:
    """What a run tests: the embedded server, or the user's target with the endpoints it has."""

    embedded: bool
    whip: bool  # cases can POST to a WHIP endpoint
    whep: bool  # cases can POST to a WHEP endpoint
    clients: bool = False  # client conformance: the suite plays the server and grades a client

    @property
    def name(self) -> str:
        if self.clients:
            return "clients"
        if self.embedded:
            return "embedded"
        return "both" if self.whip and self.whep else "whip-only" if self.whip else "whep-only"


def target_mode(get, client_run: bool = False) -> Mode:
    """`get(option)` reads an option. Any target option means the user's target is tested;
    a combination that cannot name one is an OptionError saying what is missing. A client run
    always uses the embedded reference server (its scenarios start it)."""
    if client_run:
        return Mode(embedded=True, whip=True, whep=True, clients=True)
    given = {o for o in TARGET_OPTIONS if get(o)}
    if not given:
        return Mode(embedded=True, whip=True, whep=True)
    for option in EMBEDDED_ONLY:
        if get(option):
            raise OptionError(f"{flag(option)} starts the embedded reference server with it, so it cannot be given with "
                              f"{', '.join(flag(o) for o in sorted(given))} (your target is tested then)")
    if "live_inputs" in given and given & {"endpoint", "whep_endpoint"}:
        raise OptionError("--live-inputs mints a fresh publish/play pair per case: give it without "
                          "--endpoint/--whep-endpoint (or those without --live-inputs)")
    if "api_token" in given and "live_inputs" not in given:
        raise OptionError("--api-token is the token of a live inputs API: give --live-inputs too "
                          "(the token of WHIP/WHEP requests is --token)")
    if not given & {"endpoint", "whep_endpoint", "live_inputs"}:
        raise OptionError("--token is given but no target to send it to: give --endpoint and/or --whep-endpoint, "
                          "or --live-inputs (without any of them the embedded reference server is tested)")
    live = "live_inputs" in given
    return Mode(embedded=False, whip=live or "endpoint" in given, whep=live or "whep_endpoint" in given)


def check_client_options(get, client_run: bool) -> None:
    """Client options only where clients are graded, server targets only where servers are; in a
    client run --token is the token the scenarios that require one give the client."""
    if not client_run:
        for option in CLIENT_OPTIONS:
            if get(option):
                raise OptionError(f"{flag(option)} grades a client: run `whip-whep-conformance clients {flag(option)}=...`")
        return
    for option in (*URL_OPTIONS, "api_token", *EMBEDDED_ONLY):
        if get(option):
            raise OptionError(f"{flag(option)} names a server to test; `clients` grades a client against the "
                              "embedded reference server (run without `clients` to test your server)")
    for option in SERVER_RUN_ONLY:
        if get(option):
            raise OptionError(f"{flag(option)} is an option of a server run; `clients` does not use it"
                              + (" (the embedded server's candidates: --server-ice-host)" if option == "ice_host" else ""))
    for host in get("server_ice_host") or []:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise OptionError(f"--server-ice-host={host}: not an IP address") from None
    if get("turnserver") and not (os.path.isfile(get("turnserver")) and os.access(get("turnserver"), os.X_OK)):
        raise OptionError(f"--turnserver={get('turnserver')}: not an executable file (coturn's turnserver)")
    if get("manual") and ((get("max_concurrency") or 1) > 1):
        raise OptionError("--manual: one scenario at a time (a person answers the prompts): drop --max-concurrency/-n")
    if get("manual") and (get("whip_client") or get("whep_client")):
        raise OptionError("--manual grades a client a person drives: give it without --whip-client/--whep-client")
    if get("client_fault") and (get("whip_client") or get("whep_client") or get("manual")):
        raise OptionError("--client-fault distorts the project's own client: give it without --whip-client/--whep-client/--manual")
    for option in ("client_grace_s", "manual_timeout_s"):
        value = get(option)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise OptionError(f"{flag(option)}={value}: give a number of seconds above 0")


def check_values(get) -> None:
    """Values no run could use: an OptionError naming the option and what to give instead."""
    for option in URL_OPTIONS:
        value = get(option)
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise OptionError(f"{flag(option)}={value}: not an http:// or https:// URL with a host "
                                  f"(e.g. {flag(option)}=https://{value.split('://')[-1].lstrip('/') or 'media.example.com/whip'})")
    bundle = get("ca_bundle")
    if bundle and not Path(bundle).is_file():
        raise OptionError(f"--ca-bundle={bundle}: no such file (a PEM file of CA certificates)")
    timeout = get("timeout_s")
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise OptionError(f"--timeout-s={timeout:g}: give a number of seconds above 0 (default 10)")
    for option, what in (("max_rate", "requests per second"), ("max_latency_ms", "milliseconds"),
                         ("max_ttff_ms", "milliseconds")):
        value = get(option)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise OptionError(f"{flag(option)}={value:g}: give a number of {what} above 0")


def canonical_requirements(ids: list[str], known: list[str]) -> list[str]:
    """`--requirement` values as the registry spells them (the option is case-insensitive);
    unknown ones are kept as given, for the usage error that names them."""
    by_lower = {k.lower(): k for k in known}
    return [by_lower.get(i.strip().lower(), i) for i in ids]


def did_you_mean(message: str, known: list[str]) -> str:
    """argparse's "unrecognized arguments: …", with the closest known option for each unknown one."""
    marker = "unrecognized arguments:"
    if marker not in message:
        return message
    hints = []
    for arg in message.split(marker, 1)[1].split():
        name = arg.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        close = difflib.get_close_matches(name, [k for k in known if k.startswith("--")], n=1, cutoff=0.6)
        if close:
            hints.append(f"{name}: did you mean {close[0]}?")
    return message + "".join(f"\n  {hint}" for hint in hints)
