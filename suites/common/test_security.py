"""Security considerations observable from outside — RFC 9725 §5, draft-ietf-wish-whep-03 §5."""

import pytest

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
SESSIONS = 5


@pytest.mark.requirement("WHIP-5-3", "WHEPL-5-3")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_session_urls_are_unguessable(case, protocol):
    """Create five sessions in a row: their ids are long and unrelated, not a counter."""
    urls = await case.live_input()
    ids = []
    for _ in range(SESSIONS):
        url, offer = await case.endpoint_and_offer(protocol, urls)
        posted = await case.signalling.post_offer(url, offer)
        if posted.status != 201 or not posted.location:
            case.not_applicable(f"a POST got {posted.describe()}")
        ids.append(posted.location.rstrip("/").rsplit("/", 1)[-1])
        await case.signalling.delete(posted.location)
    numeric = [int(i) for i in ids if i.isdigit() and len(i) < 12]
    sequential = len(numeric) == len(ids) and all(b - a == 1 for a, b in zip(numeric, numeric[1:]))
    short = [i for i in ids if len(i) < 16]
    case.expect(not sequential and not short, "WHIP-5-3" if protocol == "whip" else "WHEPL-5-3",
                message=f"session ids {ids} are {'sequential' if sequential else 'shorter than 16 characters'}")
