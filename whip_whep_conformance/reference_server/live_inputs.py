"""Live inputs, as Cloudflare Stream has them: a public uid (its playback URL), a separate unguessable
secret (its publish URL), and the relay that holds who publishes to it and who watches it.

The model only; the HTTP API over it (`/client/v4/accounts/{id}/stream/live_inputs`) is
`live_inputs_api.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .relay import Relay
from .sessions import Session


@dataclass(eq=False)
class LiveInput:
    account_id: str
    uid: str
    secret: str
    meta: dict
    created: str
    relay: Relay
    refused_posts: dict[str, int] = field(default_factory=dict)  # --unavailable-first: POSTs refused so far, by protocol
    viewers_elsewhere: int = 0  # --relay-workers: viewers of this input that other worker processes hold

    @property
    def publisher(self) -> Session | None:
        """Who publishes (the relay holds it: one owner)."""
        return self.relay.publisher

    @property
    def viewers(self) -> Collection[Session]:
        """Who watches (the relay holds them: one owner); a live view, so iterate over a copy while
        sessions end."""
        return self.relay.viewers.keys()

    def to_json(self, origin: str) -> dict:
        return {
            "uid": self.uid,
            "created": self.created,
            "modified": self.created,
            "meta": self.meta,
            "status": {"current": {"state": "connected" if self.publisher else "disconnected"}},
            "recording": {"mode": "off"},
            "webRTC": {"url": f"{origin}/{self.secret}/webRTC/publish"},
            "webRTCPlayback": {"url": f"{origin}/{self.uid}/webRTC/play"},
        }


class LiveInputs:
    def __init__(self) -> None:
        self._by_uid: dict[str, LiveInput] = {}
        self._by_secret: dict[str, LiveInput] = {}

    def create(self, account_id: str, meta: dict, relay: Relay, secret_is_uid: bool = False) -> LiveInput:
        uid = secrets.token_hex(16)
        secret = uid if secret_is_uid else secrets.token_hex(16)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        live = LiveInput(account_id, uid, secret, meta, now, relay)
        self._by_uid[uid] = live
        self._by_secret[secret] = live
        return live

    def adopt(self, live: LiveInput) -> None:
        """A live input made elsewhere (a relay worker's mirror of the origin's), under its own uid and secret."""
        self._by_uid[live.uid] = live
        self._by_secret[live.secret] = live

    def by_uid(self, uid: str) -> LiveInput | None:
        return self._by_uid.get(uid)

    def by_secret(self, secret: str) -> LiveInput | None:
        return self._by_secret.get(secret)

    def of_account(self, account_id: str) -> list[LiveInput]:
        return [i for i in self._by_uid.values() if i.account_id == account_id]

    def remove(self, live: LiveInput) -> None:
        self._by_uid.pop(live.uid, None)
        self._by_secret.pop(live.secret, None)

    def __iter__(self) -> Iterator[LiveInput]:
        return iter(list(self._by_uid.values()))
