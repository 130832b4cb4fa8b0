"""WHEP protocol extensions (draft-ietf-wish-whep-02/-03 §4.9): server-sent events and video layer
selection, announced by `Link` headers on the 201.

The event-stream format is WHATWG's server-sent events: `event:` names the type, `data:` carries
JSON on a single line (WHEP §4.9.1), a blank line ends the event. The reference server formats
events here and the suite parses them here (and judges them in harness/judgments/whep_layers.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from whip_whep_conformance.protocol import link as _link
from whip_whep_conformance.protocol.link import Link

EXTENSION_PREFIX = _link.WHEP_EXTENSIONS
SSE_REL = "urn:ietf:params:whep:ext:core:server-sent-events"
LAYER_REL = "urn:ietf:params:whep:ext:core:layer"
EVENT_STREAM = "text/event-stream"

# §4.9.1.1-4.9.1.6; scte35 data is base64, not JSON.
EVENT_TYPES = ("active", "inactive", "layers", "reconnect", "viewercount", "scte35")
LAYER_IDS = ("rid", "spatialLayerId", "temporalLayerId")


def extension_links(links: list[Link]) -> list[Link]:
    """The Links whose rel is in the WHEP extension namespace."""
    return _link.extension_links(links, EXTENSION_PREFIX)


def find(links: list[Link], rel: str) -> Link | None:
    return next((link for link in links if rel in link.rels), None)


def advertised_events(link: Link) -> list[str] | None:
    """The SSE Link's `events` parameter as a list (None when absent: any type may be asked for)."""
    value = link.params.get("events")
    return None if value is None else [name.strip() for name in value.split(",") if name.strip()]


def format_event(event_type: str, data: Any, *, split_lines: bool = False) -> bytes:
    """One event as it goes on the stream; `split_lines` (a fault) spreads the data over two lines."""
    text = json.dumps(data, separators=(",", ":"))
    if split_lines and len(text) > 1:
        lines = [text[: len(text) // 2], text[len(text) // 2:]]
    else:
        lines = [text]
    return (f"event: {event_type}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()


@dataclass
class Event:
    type: str
    data_lines: list[str] = field(default_factory=list)

    @property
    def data(self) -> str:
        return "\n".join(self.data_lines)

    def json(self) -> Any:
        """The data as JSON; ValueError when it is not."""
        return json.loads(self.data)

    def json_object(self) -> dict:
        """The data as a JSON object; empty when it is not one."""
        try:
            data = self.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


class EventStreamParser:
    """Turns text/event-stream lines into events (WHATWG HTML §9.2.6, the parts WHEP uses)."""

    def __init__(self) -> None:
        self._type = ""
        self._data: list[str] = []
        self._seen_data = False

    def feed(self, line: str) -> Event | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._seen_data:
                self._type = ""
                return None
            event = Event(self._type or "message", self._data)
            self._type, self._data, self._seen_data = "", [], False
            return event
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
            self._seen_data = True
        return None


class EventReader:
    """Events from an open event stream (anything with `next_line(timeout_s)`), with deadlines."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.parser = EventStreamParser()
        self.events: list[Event] = []

    @property
    def ended(self) -> bool:
        """The server has ended the stream."""
        return self.stream.ended

    async def next(self, timeout_s: float) -> Event | None:
        """The next event; None when the stream ends or none comes within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = await self.stream.next_line(max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                return None
            if line is None:
                return None
            event = self.parser.feed(line)
            if event is not None:
                self.events.append(event)
                return event

    async def until(self, wanted, timeout_s: float) -> Event | None:
        """Read until an event for which `wanted(event)` holds; None at the deadline or the end."""
        deadline = time.monotonic() + timeout_s
        while True:
            event = await self.next(max(0.0, deadline - time.monotonic()))
            if event is None or wanted(event):
                return event
