"""RFC 9725 §5 — Security considerations that can be observed from outside."""

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-5-3")
async def test_session_urls_are_unguessable(case):
    """Create five sessions in a row: their ids are long and unrelated, not a counter."""
    urls = await case.live_input()
    ids = []
    for _ in range(5):
        _, offer = await case.publisher_offer()
        posted = await case.signalling.post_offer(urls.whip_url, offer)
        if posted.status != 201 or not posted.location:
            case.not_applicable(f"a POST got {posted.describe()}")
        ids.append(posted.location.rstrip("/").rsplit("/", 1)[-1])
        await case.signalling.delete(posted.location)
    numeric = [int(i) for i in ids if i.isdigit() and len(i) < 12]
    sequential = len(numeric) == len(ids) and all(b - a == 1 for a, b in zip(numeric, numeric[1:]))
    short = [i for i in ids if len(i) < 16]
    case.expect(not sequential and not short, "WHIP-5-3",
                message=f"session ids {ids} are {'sequential' if sequential else 'shorter than 16 characters'}")
