"""What the WHIP and WHEP TURN cases share: their judgment of what the scenario's TURN server saw.

The TURN server is coturn, run for the `turn-only` scenario (harness/clients/turn.py); the reference
server admits only its relays, so a session that came up came up through it. The scenario's Link
credentials contain "=": a client that reads Link parameters by splitting at every "=" authenticates
with a username or credential cut short, which coturn refuses.
"""

from __future__ import annotations

from collections import Counter

from whip_whep_conformance.harness.clients.observed import Observed

AUTHENTICATED = ("allocated", "wrong credential", "unknown user", "refused username")


def _account(seen: Observed) -> str:
    told = seen.turn_link or ("?", "?")
    counts = Counter(map(str, seen.turn))
    saw = ", ".join(f"{what}{f' ({n} times)' if n > 1 else ''}" for what, n in counts.items()) or "no authenticated request at all"
    return (f"the Link named a TURN server with username {told[0]!r} and credential {told[1]!r}; the TURN server "
            f"saw: {saw}")


def uses_the_link_turn_server(client_case, seen: Observed, req_id: str) -> None:
    """The capability: an allocation on the Link's TURN server and, through its relays (the only way in),
    a session that came up. Not applicable when no POST made a session: no 201, no Links to use."""
    if seen.created() is None:
        client_case.not_applicable(f"no POST of the client's made a session, so no 201 gave it the Links: {seen.seen()}")
    view = seen.session_view()
    up = bool(view and view.get("connected"))
    allocated = any(a.outcome == "allocated" for a in seen.turn)
    client_case.record.figures["turn_attempts"] = len(seen.turn)
    client_case.capability(allocated and up, req_id,
                           f"{_account(seen)}; the session {'came up' if up else 'never came up'} (requests: {seen.seen()})")


def authenticates_as_the_link_says(client_case, seen: Observed, *ids: str) -> None:
    """MUST (derived): every authentication the client made on the TURN server used the Link's username
    and credential, and one was taken. Not applicable when it never authenticated there (it does not use
    the Link's TURN servers at all: the capability row says so)."""
    tried = [a for a in seen.turn if a.outcome in AUTHENTICATED]
    if not tried:
        client_case.not_applicable(f"the client never authenticated to the Link's TURN server: {_account(seen)}")
    username, credential = seen.turn_link or ("", "")
    refused = [a for a in tried if a.outcome != "allocated" or a.username != username]
    client_case.expect(not refused, *ids,
                       message=f"the TURN server refused the client's credentials: {', '.join(map(str, refused))}"
                               f"{_misreading(refused, username)}; {_account(seen)}")


def _misreading(refused: list, username: str) -> str:
    """What a refused username says of the client's Link parser, where it says something."""
    sent = {a.username for a in refused}
    if username.split("=")[0] in sent:
        return f" (the Link's username cut at its first '=': {username.split('=')[0]!r})"
    if f'"{username}"' in sent:
        return " (the Link's username with its quotes kept: a quoted-string's quotes are not part of the value)"
    return ""
