"""The narrow interfaces HTTP routes depend on (typing.Protocol), so that routes import these and the
models below them, never `app.py`: the app wires the `ReferenceServer` (server.py), which satisfies them.
This module imports only models (config, live inputs, sessions), nothing that handles a request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from .config import ServerConfig
from .live_inputs import LiveInput, LiveInputs
from .sessions import Session


class LiveInputsHost(Protocol):
    """What the live inputs API (live_inputs_api.py) needs of the server: its configuration (API token,
    faults), the inputs to list and look up, the sessions to count, and making and ending an input."""

    @property
    def config(self) -> ServerConfig: ...

    @property
    def inputs(self) -> LiveInputs: ...

    @property
    def sessions(self) -> Mapping[str, Session]: ...

    def create_input(self, account_id: str, meta: dict) -> LiveInput: ...

    async def end_input(self, live: LiveInput) -> None: ...
