"""A request the server turns down: the status, the reason (sent as problem details) and any headers."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request the server answers with a 4xx and the reason (problem details), maybe with headers."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None, route: Any = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.route = route  # a fault_layer.Route: which shaping step the refusal's response goes through
