"""What the suite created on a target and has not deleted yet.

Cases delete what they create when they end; this registry is the last line, swept when the run
ends, also after Ctrl-C or a timeout, so nothing is left behind on a vendor's production target.
"""

from __future__ import annotations

import httpx


class Leftovers:
    def __init__(self) -> None:
        self._items: dict[str, dict[str, str]] = {}  # URL to DELETE -> the headers that authorise it

    def add(self, url: str, headers: dict[str, str]) -> None:
        self._items[url] = dict(headers)

    def discard(self, url: str) -> None:
        self._items.pop(url, None)

    def __len__(self) -> int:
        return len(self._items)

    def sweep(self, timeout_s: float, verify: bool | str = True) -> list[str]:
        """DELETE everything still registered, newest first; returns what could not be deleted."""
        failed = []
        with httpx.Client(timeout=timeout_s, verify=verify) as http:
            for url, headers in reversed(list(self._items.items())):
                try:
                    status = http.delete(url, headers=headers).status_code
                except httpx.HTTPError:
                    status = None
                if status is None or status >= 500:
                    failed.append(url)
        self._items.clear()
        return failed


LEFTOVERS = Leftovers()  # one per suite process
