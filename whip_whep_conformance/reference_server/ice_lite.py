"""--ice-lite: the reference server as an ICE-lite media server (RFC 8445 §2.5), as many SFUs are.

It says `a=ice-lite` (session level) in its answers and offers, is always the controlled agent, and its
agent sends no connectivity checks: a valid check from the client makes that pair valid (no triggered
check), and the client's nomination (USE-CANDIDATE) selects it. Consent checks are not sent either
(consent.py watches the client's checks instead). A client must then run full ICE and be controlling.

aiortc/aioice have no lite mode; written against aioice 0.13.0's `Connection` (pinned; see
whip_whep_conformance/webrtc/ice_restart.py): its paced checks (`_check_periodic`) start nothing, and its
incoming-check handler (`check_incoming`) is replaced per connection.
"""

from __future__ import annotations

import re

from aioice import Candidate, Connection, stun
from aioice.ice import CandidatePair
from aioice.utils import random_string


def with_ice_lite(description: str) -> str:
    """`description` with a session-level a=ice-lite (after its t= line), once."""
    if re.search(r"^a=ice-lite\r?$", description, flags=re.MULTILINE):
        return description
    return re.sub(r"^(t=[^\r\n]*\r?\n)", r"\1a=ice-lite\r\n", description, count=1, flags=re.MULTILINE)


def make_lite(connection: Connection) -> None:
    """Make `connection` a lite agent: controlled, answering checks, sending none (call once its role is set)."""
    connection.ice_controlling = False

    def check_periodic() -> bool:
        # connect() paces checks by this every 20 ms until the check list is done: start none, keep waiting
        return not connection._check_list_done

    def check_incoming(message: stun.Message, addr: tuple[str, int], protocol) -> None:
        component = protocol.local_candidate.component
        remote = next((c for c in connection._remote_candidates if c._network_host == addr[0] and c.port == addr[1]), None)
        if remote is None:  # a peer-reflexive candidate (RFC 8445 §7.3.1.3), as aioice learns it
            remote = Candidate(foundation=random_string(10), component=component, transport="udp",
                               priority=message.attributes["PRIORITY"], host=addr[0], port=addr[1], type="prflx")
            connection._remote_candidates.append(remote)
        pair = connection._find_pair(protocol, remote)
        if pair is None:
            pair = CandidatePair(protocol, remote)
            connection._check_list.append(pair)
        pair.state = CandidatePair.State.SUCCEEDED  # a lite agent's pair is valid once a valid check arrives on it
        if "USE-CANDIDATE" in message.attributes and not pair.nominated:
            pair.remote_nominated = pair.nominated = True
            connection.check_complete(pair)

    connection._check_periodic = check_periodic  # type: ignore[method-assign]
    connection.check_incoming = check_incoming  # type: ignore[method-assign]
    connection.ice_lite = True  # type: ignore[attr-defined]  # read by consent.py: send no consent checks
