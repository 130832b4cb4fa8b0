"""A TCP server that misbehaves in one chosen way, for proving the suite stays bounded.

    python tests/misbehaving_server.py MODE [FD]   # serves until killed
on the listening socket FD the caller made and passed (its port chosen by the caller), else on a port
of its own, printed.
MODE: hang (accept, never answer), reset (close at once), garbage (non-HTTP bytes),
redirect-loop (307 to itself), drip (a valid response, one byte every 0.5 s).
"""

from __future__ import annotations

import asyncio
import socket
import sys

MODE = sys.argv[1]
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        if MODE == "hang":
            await asyncio.Event().wait()
        elif MODE == "reset":
            writer.transport.abort()
            return
        elif MODE == "garbage":
            writer.write(b"\x00\xffthis is not HTTP\r\n\r\n" * 10)
        elif MODE == "redirect-loop":
            writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n")
        elif MODE == "drip":
            for byte in RESPONSE:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.5)  # the misbehaviour under test
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    if len(sys.argv) > 2:
        server = await asyncio.start_server(handle, sock=socket.socket(fileno=int(sys.argv[2])))
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
