"""One relay worker process (relay_workers.py starts it): an edge server on a loopback port of its own.

    python -m whip_whep_conformance.reference_server.relay_worker --origin URL --index I -- SERVER OPTIONS...

It takes the server's own options, so its viewers get what a single process would give them, and
listens on 127.0.0.1 whatever --host says (only the API process's forwarding reaches it). It stops on
SIGTERM, when its parent dies (PR_SET_PDEATHSIG), and when its stdin reaches end of file.
"""

from __future__ import annotations

from . import openssl_groups  # noqa: F401  first, as in __main__

import argparse
import asyncio
import ctypes
import dataclasses
import logging
import os
import signal
import sys

from aiohttp import web

from whip_whep_conformance.webrtc.peer import restrict_host_addresses

from . import collector, edge
from .__main__ import parse_args
from .app import make_app

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """The kernel sends SIGTERM when the process that started this one dies (Linux; elsewhere stdin EOF does it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


async def serve(origin: str, index: int, server_argv: list[str], secret: str) -> None:
    config, _ = parse_args(server_argv)
    # TLS ends at the API process; --require-publisher's 409 is the origin's to give (worker_routing.py)
    config = dataclasses.replace(config, host="127.0.0.1", port=0, tls=False, require_publisher=False)
    restrict_host_addresses(config.ice_hosts)
    server = edge.EdgeServer(config, origin, index, secret)
    app = make_app(config, server)
    app.middlewares.insert(0, edge.mirror_first)
    edge.add_routes(app, server)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def parent_gone() -> None:
        await reader.read()  # end of file: the parent closed the pipe or died
        stop.set()

    watch = asyncio.ensure_future(parent_gone())
    collector.freeze_startup_heap()
    print(f"relay worker {index} listening on http://127.0.0.1:{port}", flush=True)
    # the parent reads only that line: anything printed later goes to stderr (the server's log), never
    # into a pipe nobody drains (a full pipe would block this worker's event loop)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    await stop.wait()
    watch.cancel()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    die_with_parent()
    parser = argparse.ArgumentParser(prog="relay_worker", description=__doc__)
    parser.add_argument("--origin", required=True, help="the origin's internal URL (loopback)")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("server_argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    server_argv = args.server_argv[1:] if args.server_argv[:1] == ["--"] else args.server_argv
    _, log_level = parse_args(server_argv)
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format=f"%(asctime)s worker{args.index}[{os.getpid()}] %(name)s %(levelname)s %(message)s")
    if os.getppid() == 1:  # the parent died before the prctl took effect
        return 1
    secret = sys.stdin.buffer.readline().decode().strip()  # the parent's first line (relay_secret.py)
    if not secret:
        print(f"relay worker {args.index}: no relay secret on stdin", file=sys.stderr)
        return 2
    asyncio.run(serve(args.origin, args.index, server_argv, secret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
