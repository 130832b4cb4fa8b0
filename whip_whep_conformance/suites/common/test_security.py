"""Security considerations observable from outside — RFC 9725 §5, draft-ietf-wish-whep-03 §5."""

from urllib.parse import urljoin, urlsplit

import pytest

from whip_whep_conformance.harness.target import is_loopback
from whip_whep_conformance.harness import rules

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
        if protocol == "whep":  # by the flow the profile allows: a -03 406 counter-offer is answered (§4.2.2)
            _, posted = await case.play(urls, counter_offer_ok=True)
            location = case.session_url(posted, protocol)
        else:
            url, offer = await case.endpoint_and_offer(protocol, urls)
            posted = await case.signalling.post_offer(url, offer)
            if posted.status != 201 or not posted.location:
                case.not_applicable(f"a POST got {posted.describe()}")
            location = posted.location
        ids.append(location.rstrip("/").rsplit("/", 1)[-1])
        await case.signalling.delete(location)
    numeric = [int(i) for i in ids if i.isdigit() and len(i) < 12]
    sequential = len(numeric) == len(ids) and all(b - a == 1 for a, b in zip(numeric, numeric[1:]))
    short = [i for i in ids if len(i) < 16]
    case.expect(not sequential and not short, *rules.ids("session-ids-unguessable", protocol),
                message=f"session ids {ids} are {'sequential' if sequential else 'shorter than 16 characters'}")


@pytest.mark.requirement("WHIP-5-1", "WHEPL-5-1", "WHEP01-5-1")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_https_is_used(case, protocol):
    """The endpoint is an https URL, and neither a redirect nor the session's Location leads to plain http."""
    ids = rules.ids("https-only", protocol)
    url, offer = await case.endpoint_and_offer(protocol, await case.live_input())
    if urlsplit(url).scheme == "http":
        if is_loopback(url):
            case.not_applicable(f"{url} is a loopback test set-up over plain http: HTTPS binds deployments")
        case.expect(False, *ids, message=f"the {protocol.upper()} endpoint {url} is plain http")
    posted = await case.signalling.post_offer(url, offer)
    if not posted.location:
        case.not_applicable(f"the POST got {posted.describe()}: no session URL to look at")
    visited = [u for _, u in posted.redirects] + [posted.request_url, urljoin(posted.request_url, posted.location)]
    plain = [u for u in visited if urlsplit(u).scheme != "https"]
    case.expect(not plain, *ids, message=f"the https POST led to plain http: {', '.join(plain)}")
