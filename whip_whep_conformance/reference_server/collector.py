"""Keep Python's cyclic garbage collector from pausing a join (issue 24).

A full (generation 2) collection walks every tracked object; in the relay process that is the start-up
heap (modules, aiortc, cryptography: ≈55,000 objects) plus every session's, and it ran 40–55 ms at a
time, often in the middle of ten viewers' handshakes (measured with gc.callbacks while
benchmarks/latency.py --together 10 ran). `gc.freeze()` once the server is listening moves the start-up
heap to the permanent generation, which no collection walks again; garbage made later (ended sessions'
peer connections, their cycles) is still collected as before, in pauses that are a fraction as long.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then exempt everything alive now from later collections (call once, after start-up)."""
    gc.collect()
    gc.freeze()
