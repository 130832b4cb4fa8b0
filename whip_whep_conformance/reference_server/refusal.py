"""A request the server turns down: the status, the reason (sent as problem details) and any headers."""

from __future__ import annotations


class Refusal(Exception):
    """A request the server answers with a 4xx and the reason (problem details), maybe with headers."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}
