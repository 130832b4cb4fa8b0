"""The fast layer: the reference server's signalling rules, checked in process.

The server's aiohttp application is built by `inprocess.build_app` (the one place: when the server's
wiring changes, that is the edit) and served by aiohttp's TestServer on 127.0.0.1, a fresh one per test;
offers and answers come from real aiortc peers (`peers.py`, empty ICE server lists, loopback only).
One module per rule family, named by spec section; each test asserts one rule of the clean server with
a message naming it. `test_faults.py` starts the app with single faults and asserts their distortion,
each mirroring a clean rule, so a fault is shown both ways without a suite run. Nothing is slow:
`./run tests tests/server` takes about half a minute.
"""
