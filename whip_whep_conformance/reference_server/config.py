"""What the reference server was started with."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from whip_whep_conformance.protocol import profiles

from .faults import ActiveFaults, Fault
from .turn_only import RelayRange


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    ice_hosts: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    ice_servers: list[str] = field(default_factory=list)
    link_ice_servers: list[str] = field(default_factory=list)  # advertised only, not used by the server
    api_token: str | None = None
    token: str | None = None
    whip_profile: str = profiles.DEFAULT_WHIP
    whep_profile: str = profiles.DEFAULT_WHEP
    faults: ActiveFaults = field(default_factory=ActiveFaults)
    session_timeout_s: float = 30.0
    media_timeout_s: float = 15.0
    patch: bool = True  # False: no PATCH at all (no trickle, no restart): the profile's 501 or 405
    ice_restart: bool = True  # False: a restart PATCH gets the profile's "unsupported" answer
    offer_timeout_s: float = 30.0  # how long a server offer (WHEP) waits for its answer and connection
    require_publisher: bool = False  # WHEP POSTs for an input nobody publishes get 409 + Retry-After
    not_published_retry_after_s: int = 5  # that 409's Retry-After
    unavailable_retry_after_s: int = 1  # the Retry-After of --unavailable-first's refusals
    tls: bool = False  # HTTPS with a self-signed certificate made at start-up
    redirect: bool = False  # endpoint POSTs get 307 to the same endpoint under /via/ (RFC 9725 §4.5)
    # The scenario behaviours of the client suite (#21): each a legal server's choice, not a fault.
    location: str = "absolute-path"  # a 201's Location form: "absolute-path" | "relative" | "absolute"
    location_base: str | None = None  # "scheme://host:port" of absolute Locations (None: the request's own)
    unavailable_first: int = 0  # the first N endpoint POSTs per live input and protocol get unavailable_status
    unavailable_status: int = 503
    unavailable_on: tuple[str, ...] = ("whip", "whep")  # the protocols whose POSTs --unavailable-first refuses
    extra_links: list[str] = field(default_factory=list)  # Link field values added to every 201
    drop_path_after_s: float | None = None  # S s after ICE connects, the first ICE session goes silent (lost path)
    counter_offer: bool = False  # draft-ietf-wish-whep-03: every viewer offer gets a 406 counter-offer
    ice_lite: bool = False  # a=ice-lite; the server's agent answers checks and never sends its own
    ice_only_from: RelayRange | None = None  # reachable only through a TURN server's relays (turn_only.py)
    relay_workers: int = 1  # viewers spread over this many worker processes (relay_workers.py); 1: this process
    relay_answer_timeout_s: float = 30.0  # a worker's answer to a forwarded non-GET within this, or 504 (worker_routing.py)

    def fault(self, fault: Fault) -> bool:
        return fault in self.faults


# The application key under which handlers find the ReferenceServer.
SERVER_KEY: web.AppKey = web.AppKey("reference_server")
