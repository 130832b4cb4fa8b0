"""Product brief, step 2 — one creator streams to a live input at a time."""

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("BRIEF-PUB-1")
async def test_second_publisher_is_refused(case):
    """Publish to a live input, then POST a second offer to the same URL: a 4xx."""
    urls, _, first = await case.publish()
    if first.status != 201:
        case.not_applicable(f"the first publisher got {first.describe()}")
    _, offer = await case.publisher_offer()
    second = await case.signalling.post_offer(urls.whip_url, offer)
    case.expect(400 <= second.status < 500, "BRIEF-PUB-1",
                message=f"a second publisher on a live input got {second.describe()}")
