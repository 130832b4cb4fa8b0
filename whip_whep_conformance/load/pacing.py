"""--max-rate: a token bucket, so a ramp sets viewers up at most so many POSTs a second, never a flood."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """`rate` tokens a second, a burst of at most `burst`; `take` waits for the next token."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens = self.burst
        self.updated = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate)  # pacing: the time the next token needs
