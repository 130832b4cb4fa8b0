"""What the suite created on a target and has not deleted yet.

Cases delete what they create when they end; this registry is the last line, swept when the run
ends, also after Ctrl-C or a timeout, so nothing is left behind on a vendor's production target.
A live input whose create request a Ctrl-C cut off exists on the target but was never registered:
every live input a run creates is named after the run, and the collection is swept by that name too.
"""

from __future__ import annotations

import uuid

import httpx

NAME = "whip-whep-conformance"


class Leftovers:
    def __init__(self) -> None:
        self._items: dict[str, dict[str, str]] = {}  # URL to DELETE -> the headers that authorise it
        self.run_id = uuid.uuid4().hex[:12]  # the same in every worker process of a run (plugin/distribution.py)
        self.unverified: list[str] = []  # DELETEd with a 2xx, yet a second DELETE did not find them gone

    @property
    def live_input_name(self) -> str:
        """meta.name of the live inputs this run creates."""
        return f"{NAME} run {self.run_id}"

    def add(self, url: str, headers: dict[str, str]) -> None:
        self._items[url] = dict(headers)

    def discard(self, url: str) -> None:
        self._items.pop(url, None)

    def __len__(self) -> int:
        return len(self._items)

    def sweep(self, timeout_s: float, verify: bool | str = True) -> list[str]:
        """DELETE everything still registered, newest first; returns what could not be deleted.

        A 2xx is not taken on trust: a second DELETE must then find nothing (404/410). A server that
        answers that one 2xx too may still hold the session (a real one did), so such URLs are listed in
        `unverified` rather than counted as deleted."""
        failed = []
        with httpx.Client(timeout=timeout_s, verify=verify) as http:
            for url, headers in reversed(list(self._items.items())):
                status = _delete(http, url, headers)
                if status is None or status >= 500:
                    failed.append(url)
                elif 200 <= status < 300 and url not in self.unverified and _delete(http, url, headers) not in (404, 410):
                    self.unverified.append(url)
        self._items.clear()
        return failed

    def sweep_collection(self, collection_url: str, headers: dict[str, str], timeout_s: float,
                         verify: bool | str = True) -> tuple[int, list[str]]:
        """DELETE the live inputs the collection lists under this run's name: (how many were found,
        the URLs that could not be deleted). A listing that fails or is not a v4 envelope finds none."""
        collection_url = collection_url.rstrip("/")
        with httpx.Client(timeout=timeout_s, verify=verify) as http:
            try:
                listed = http.get(collection_url, headers=headers).json().get("result")
            except (httpx.HTTPError, ValueError, AttributeError):
                return 0, []
            ours = [item["uid"] for item in listed if isinstance(item, dict) and "uid" in item
                    and isinstance(item.get("meta"), dict) and item["meta"].get("name") == self.live_input_name] \
                if isinstance(listed, list) else []
            failed = []
            for uid in ours:
                url = f"{collection_url}/{uid}"
                try:
                    status = http.delete(url, headers=headers).status_code
                except httpx.HTTPError:
                    status = None
                if status is None or status >= 300 and status != 404:
                    failed.append(url)
        return len(ours), failed


def _delete(http: httpx.Client, url: str, headers: dict[str, str]) -> int | None:
    try:
        return http.delete(url, headers=headers).status_code
    except httpx.HTTPError:
        return None


LEFTOVERS = Leftovers()  # one per suite process
