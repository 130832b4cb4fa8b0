"""`python -m reference_server`: run the reference WHIP/WHEP server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from . import openssl_groups  # noqa: F401  first: it loads cryptography's OpenSSL with P-224 accepted

from aiohttp import web

from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.webrtc.peer import restrict_host_addresses

from . import collector, faults, turn_only
from .app import make_app
from .config import ServerConfig
from .relay_workers import RelayWorkers
from .tls import self_signed_context


def parse_args(argv: list[str] | None = None) -> tuple[ServerConfig, str]:
    parser = argparse.ArgumentParser(prog="python -m reference_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--ice-host", action="append", metavar="ADDR",
                        help="the only addresses offered as host candidates (repeatable; default 127.0.0.1)")
    parser.add_argument("--ice-server", action="append", default=[], metavar="URL",
                        help="STUN/TURN URL advertised in Link rel=ice-server and used by the server (repeatable; none by default)")
    parser.add_argument("--link-ice-server", action="append", default=[], metavar="URL",
                        help="STUN/TURN URL advertised in Link rel=ice-server but not used by the server's own ICE agent (repeatable)")
    parser.add_argument("--api-token", help="Bearer token required by the live inputs API")
    parser.add_argument("--token", help="Bearer token required on WHIP/WHEP requests (none: the URL secret is the credential)")
    parser.add_argument("--whip-profile", default=profiles.DEFAULT_WHIP, choices=profiles.WHIP_PROFILES)
    parser.add_argument("--whep-profile", default=profiles.DEFAULT_WHEP, choices=profiles.WHEP_PROFILES)
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="inject a named defect (repeatable); --fault list prints them")
    parser.add_argument("--session-timeout", type=float, default=30.0, metavar="S",
                        help="end sessions whose ICE/DTLS has not connected after S seconds (default 30)")
    parser.add_argument("--media-timeout", type=float, default=15.0, metavar="S",
                        help="end a connected publisher (and its viewers) whose RTP stops for S seconds (default 15)")
    parser.add_argument("--no-ice-restart", action="store_true",
                        help="refuse ICE restarts (422, or 405 under the drafts) while taking trickle PATCHes")
    parser.add_argument("--no-patch", action="store_true",
                        help="support no PATCH at all (neither trickle ICE nor ICE restart): PATCH gets 501 under "
                             "draft-ietf-wish-whip-06 / draft-murillo-whep-01, 405 otherwise; no Accept-Patch")
    parser.add_argument("--offer-timeout", type=float, default=30.0, metavar="S",
                        help="a WHEP server offer or counter-offer waits S seconds for its answer and connection (default 30)")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a self-signed certificate made at start-up (the suite then needs --insecure)")
    parser.add_argument("--redirect", action="store_true",
                        help="answer WHIP/WHEP endpoint POSTs with 307 Temporary Redirect to the same endpoint under "
                             "/via/, as a load balancer sending clients on would (RFC 9725 §4.5)")
    parser.add_argument("--require-publisher", action="store_true",
                        help="refuse WHEP playback of an input nobody is publishing: 409 Conflict with Retry-After "
                             "(draft-ietf-wish-whep-03 §4.2.8); by default viewers may wait for the publisher")
    parser.add_argument("--not-published-retry-after", type=int, default=5, metavar="S",
                        help="the Retry-After seconds of --require-publisher's 409 (default 5)")
    # Scenario behaviours for the client suite (#21): legal choices a server may make, which a client must follow.
    parser.add_argument("--location", default="absolute-path", choices=("absolute-path", "relative", "absolute"),
                        help="the form of a 201's Location: an absolute path (default), a path-relative reference "
                             "(e.g. publish/<id>, resolved against the POST's URI), or an absolute URI")
    parser.add_argument("--location-base", metavar="URL",
                        help="absolute Locations with this scheme://host:port (the client then talks to it)")
    parser.add_argument("--unavailable-first", type=int, default=0, metavar="N",
                        help="answer the first N endpoint POSTs per live input (and protocol) with --unavailable-status, "
                             "--unavailable-retry-after and problem details, making no session")
    parser.add_argument("--unavailable-retry-after", type=int, default=1, metavar="S",
                        help="the Retry-After seconds of those refusals (default 1)")
    parser.add_argument("--unavailable-status", type=int, default=503, metavar="CODE",
                        help="the status of those refusals (default 503)")
    parser.add_argument("--unavailable-on", default="whip,whep", metavar="PROTOCOLS",
                        help="which endpoints' POSTs --unavailable-first refuses: whip, whep or whip,whep (default)")
    parser.add_argument("--extra-link", action="append", default=[], metavar="VALUE",
                        help='an extra Link field value on every 201, e.g. \'<urn:example:x>; rel="urn:example:unknown"\' (repeatable)')
    parser.add_argument("--drop-path-after", type=float, metavar="S",
                        help="S seconds after a session's ICE connects, stop answering and sending on that ICE session "
                             "(a lost path): the client must restart ICE to recover; a restarted session is not dropped")
    parser.add_argument("--counter-offer", action="store_true",
                        help="draft-ietf-wish-whep-03: answer every viewer offer with a 406 counter-offer (answered by PATCH)")
    parser.add_argument("--ice-lite", action="store_true",
                        help="an ICE-lite media server: a=ice-lite in answers and offers; its agent answers checks and sends none")
    parser.add_argument("--ice-only-from", metavar="HOST:LOW-HIGH",
                        help="the server's ICE sockets hear and speak only to HOST on ports LOW-HIGH (a TURN server's "
                             "relay range): its candidates are reachable only through that TURN server, as behind a "
                             "firewall admitting only the relays (name the TURN server with --link-ice-server)")
    parser.add_argument("--relay-workers", type=int, default=1, metavar="N",
                        help="spread the viewers over N worker processes (one event loop, so one core, each), fed "
                             "from this process, which holds the API port and the publishers (default 1: one process)")
    parser.add_argument("--relay-answer-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="with --relay-workers: a worker's answer to a forwarded POST, PATCH or DELETE within this, "
                             "or the client gets 504 (default 30: above a first viewer's wait for its worker's feed)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    if args.fault == ["list"]:
        for name, what in sorted(faults.FAULTS.items()):
            print(f"{name:32} {what}")
        raise SystemExit(0)
    try:
        faults.check(args.fault)
    except ValueError as exc:
        parser.error(str(exc))
    unavailable_on = tuple(p.strip() for p in args.unavailable_on.split(",") if p.strip())
    if not set(unavailable_on) <= {"whip", "whep"}:
        parser.error(f"--unavailable-on takes whip, whep or whip,whep, not {args.unavailable_on!r}")
    try:
        ice_only_from = turn_only.RelayRange.parse(args.ice_only_from) if args.ice_only_from else None
    except ValueError as exc:
        parser.error(str(exc))
    if ice_only_from is not None and args.ice_server:
        parser.error("--ice-only-from admits only the TURN relays: the server's own --ice-server STUN/TURN "
                     "requests would be dropped too (advertise servers with --link-ice-server instead)")
    if args.relay_workers < 1:
        parser.error("--relay-workers takes 1 or more")
    if args.relay_answer_timeout <= 0:
        parser.error("--relay-answer-timeout takes a positive number of seconds")
    if args.relay_workers > 1:
        # A worker's feed is a viewer of the origin: a fault, a dropped path or ICE-lite would strike the feed as
        # well as the viewers (twice, or the wrong party); --unavailable-first would count per worker; TURN-only
        # sockets would cut the loopback feed. Refused rather than half applied.
        clashing = [name for name, used in (("--fault", bool(args.fault)), ("--drop-path-after", args.drop_path_after is not None),
                                            ("--ice-lite", args.ice_lite), ("--ice-only-from", ice_only_from is not None),
                                            ("--unavailable-first", args.unavailable_first > 0)) if used]
        if clashing:
            parser.error(f"--relay-workers > 1 cannot be combined with {', '.join(clashing)}")
    if args.location_base is not None and not args.location_base.startswith(("http://", "https://")):
        parser.error(f"--location-base takes scheme://host:port, not {args.location_base!r}")
    return ServerConfig(
        host=args.host,
        port=args.port,
        ice_hosts=args.ice_host or ["127.0.0.1"],
        ice_servers=args.ice_server,
        link_ice_servers=args.link_ice_server,
        api_token=args.api_token,
        token=args.token,
        whip_profile=args.whip_profile,
        whep_profile=args.whep_profile,
        faults=faults.ActiveFaults.named(args.fault),
        session_timeout_s=args.session_timeout,
        media_timeout_s=args.media_timeout,
        offer_timeout_s=args.offer_timeout,
        ice_restart=not args.no_ice_restart,
        patch=not args.no_patch,
        redirect=args.redirect,
        tls=args.tls,
        require_publisher=args.require_publisher,
        not_published_retry_after_s=args.not_published_retry_after,
        unavailable_retry_after_s=args.unavailable_retry_after,
        location="absolute" if args.location_base else args.location,
        location_base=args.location_base,
        unavailable_first=args.unavailable_first,
        unavailable_status=args.unavailable_status,
        unavailable_on=unavailable_on,
        extra_links=args.extra_link,
        drop_path_after_s=args.drop_path_after,
        counter_offer=args.counter_offer,
        ice_lite=args.ice_lite,
        ice_only_from=ice_only_from,
        relay_workers=args.relay_workers,
        relay_answer_timeout_s=args.relay_answer_timeout,
    ), args.log_level


async def serve(config: ServerConfig, argv: list[str]) -> None:
    restrict_host_addresses(config.ice_hosts)
    if config.ice_only_from is not None:
        turn_only.admit_only(config.ice_only_from)
    if config.relay_workers > 1:
        workers = RelayWorkers(config, argv)
        app = await workers.start()
    else:
        workers, app = None, make_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    ssl_context = self_signed_context([config.host, "localhost"]) if config.tls else None
    site = web.TCPSite(runner, config.host, config.port, ssl_context=ssl_context)
    await site.start()
    collector.freeze_startup_heap()
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Announced only once requests are accepted and a signal would stop us cleanly.
    print(f"reference_server listening on {'https' if config.tls else 'http'}://{shown}:{port}", flush=True)
    await stop.wait()
    if workers is not None:
        await workers.stop()
    await runner.cleanup()  # runs on_shutdown: every peer connection is closed


def main(argv: list[str] | None = None) -> int:
    config, log_level = parse_args(argv)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    if not openssl_groups.LOADED_WITH_P224:
        logging.getLogger("reference_server").warning(
            "cryptography was loaded before reference_server.openssl_groups: DTLS will not accept P-224 "
            "certificates (FFmpeg 8's default)")
    try:
        asyncio.run(serve(config, sys.argv[1:] if argv is None else argv))
    except OSError as exc:
        print(f"reference_server: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
