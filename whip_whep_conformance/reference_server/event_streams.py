"""The event streams of one WHEP session (draft-ietf-wish-whep-03 §4.9.1): what each stream was opened
for and what waits to be sent. A session holds them (`Session.events`); `events.py` decides what the
live input tells them, so this module knows nothing of live inputs or sessions."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from whip_whep_conformance.protocol import whep_extensions as ext

from .faults import ActiveFaults, Fault


class EventStream:
    """One server-to-client event stream: the types it was opened for and what waits to be sent."""

    def __init__(self, types: set[str]) -> None:
        self.id = secrets.token_hex(8)
        self.types = types
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: the stream is gone
        self.opened = asyncio.Event()  # a player has its long poll open

    def end(self) -> None:
        """Deleted by the player: what is pending is dropped."""
        while not self.queue.empty():  # pending events are dropped (§4.9.1)
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class SessionEvents:
    """The event streams of one WHEP session."""

    def __init__(self, faults: ActiveFaults) -> None:
        self.faults = faults
        self.streams: dict[str, EventStream] = {}

    def open(self, types: set[str]) -> EventStream:
        stream = EventStream(types)
        self.streams[stream.id] = stream
        return stream

    def emit(self, event_type: str, data: Any, only: EventStream | None = None) -> None:
        for stream in [only] if only else list(self.streams.values()):
            if event_type in stream.types or Fault.SSE_IGNORES_SUBSCRIPTION in self.faults:
                if Fault.SSE_DATA_NOT_JSON in self.faults:
                    stream.queue.put_nowait(f"event: {event_type}\ndata: {event_type} happened\n\n".encode())
                    continue
                stream.queue.put_nowait(ext.format_event(event_type, data, split_lines=Fault.SSE_MULTILINE_DATA in self.faults))

    def delete(self, stream_id: str) -> bool:
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return False
        stream.end()
        return True

    def close(self) -> None:
        """The session ended: every stream with it (§4.9.1), once what was queued (the `inactive` of
        a publication that ended, say) has gone out."""
        if Fault.SSE_OPEN_AFTER_SESSION_END in self.faults:
            self.streams.clear()  # forgotten, but their long polls are left hanging
            return
        for stream in self.streams.values():
            stream.queue.put_nowait(None)
        self.streams.clear()
