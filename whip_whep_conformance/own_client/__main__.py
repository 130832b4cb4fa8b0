"""`python -m whip_whep_conformance.own_client whip|whep URL [--token=T] [--fault=NAME ...]`"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from whip_whep_conformance.webrtc.peer import restrict_host_addresses

from .client import ClientError, OwnClient
from .faults import ClientFault, named


async def run(protocol: str, url: str, token: str | None, faults) -> int:
    client = OwnClient(protocol, url, token, faults)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await client.start()
        print(f"own_client: {protocol} session {client.session_url}", flush=True)
        await client.hold(stop)
        return 0
    except ClientError as exc:
        print(f"own_client: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m whip_whep_conformance.own_client", description=__doc__)
    parser.add_argument("protocol", choices=("whip", "whep"))
    parser.add_argument("url", nargs="?")
    parser.add_argument("--token", default="", help="Bearer token (empty: none)")
    parser.add_argument("--fault", action="append", default=[], help="a client defect (repeatable; --fault list)")
    parser.add_argument("--ice-host", action="append", default=None, help="host candidate address (default 127.0.0.1)")
    args = parser.parse_args(argv)
    if args.fault == ["list"]:
        for fault in ClientFault:
            print(f"{fault.value:28} {fault.help}")
        return 0
    if not args.url:
        parser.error("the endpoint URL is required")
    try:
        faults = named(args.fault)
    except ValueError as exc:
        parser.error(str(exc))
    restrict_host_addresses(args.ice_host or ["127.0.0.1"])
    return asyncio.run(run(args.protocol, args.url, args.token, faults))


if __name__ == "__main__":
    sys.exit(main())
