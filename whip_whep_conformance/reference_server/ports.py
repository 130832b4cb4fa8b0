"""What the HTTP routes need of the server: narrow interfaces (typing.Protocol), so they depend on no app.

`signalling.py`, `whip.py` and `whep.py` take a `SignallingServer`, the live inputs API a
`LiveInputsHost` (server.py's `ReferenceServer` is both) instead of importing the class that holds
the state: the imports point down (app -> routes -> ports -> models), never back up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from whip_whep_conformance.protocol.sdp import SessionDescription

    from .config import ServerConfig
    from .fault_layer import FaultLayer
    from .live_inputs import LiveInput, LiveInputs
    from .observations import Observations
    from .sessions import Session


class InputDirectory(Protocol):
    """The live inputs, found by their publish secret (WHIP) or uid (WHEP)."""

    def by_secret(self, secret: str) -> "LiveInput | None": ...

    def by_uid(self, uid: str) -> "LiveInput | None": ...


class SignallingServer(Protocol):
    """The server's state as the signalling handlers use it."""

    config: "ServerConfig"
    layer: "FaultLayer"  # the faults' distortions (identity when none is active)
    inputs: InputDirectory

    async def find_session(self, sid: str) -> "Session | None": ...

    async def end_session(self, session: "Session", reason: str = ...) -> None: ...

    async def open_session(self, kind: str, live: "LiveInput", offer: str, desc: "SessionDescription",
                           prepare: "Callable[[Session], None] | None", refusal_status: int) -> "tuple[Session, str]": ...

    async def open_offering_session(self, kind: str, live: "LiveInput",
                                    prepare: "Callable[[Session], None]") -> "tuple[Session, str]": ...

    async def apply_answer(self, session: "Session", answer: str, desc: "SessionDescription") -> None: ...


class LiveInputsHost(Protocol):
    """What the live inputs API (live_inputs_api.py) needs of the server: its configuration (API token,
    faults), the inputs to list and look up, the sessions to count, and making and ending an input."""

    @property
    def config(self) -> "ServerConfig": ...

    @property
    def inputs(self) -> "LiveInputs": ...

    @property
    def sessions(self) -> "Mapping[str, Session]": ...

    @property
    def observations(self) -> "Observations": ...

    def create_input(self, account_id: str, meta: dict) -> "LiveInput": ...

    async def end_input(self, live: "LiveInput") -> None: ...
