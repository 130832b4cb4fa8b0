"""OPTIONS and CORS — RFC 9725 §4.2 (and §4.6 for ICE servers), draft-ietf-wish-whep-03 §4.3,
draft-murillo-whep-01 §4.3: browsers preflight without credentials and read headers only if exposed."""

import pytest

from whip_whep_conformance.protocol import headers
from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
ORIGIN = "https://player.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


async def _endpoint(case, protocol):
    urls = await case.live_input()
    return urls.whip_url if protocol == "whip" else case.whep_url(urls)


@pytest.mark.requirement("WHIP-4.2-17", "WHEPL-4.3-3", "WHEP01-4.3-7")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_preflight_needs_no_credentials(case, protocol):
    """Send a CORS preflight for POST without Authorization: 2xx, allowing the origin, POST and the headers."""
    endpoint = await _endpoint(case, protocol)
    response = await case.signalling.request("OPTIONS", endpoint, with_token=False, headers=PREFLIGHT)
    ids = rules.ids("preflight-without-credentials", protocol)
    origin = response.headers.get("Access-Control-Allow-Origin")
    methods = headers.split_list(response.headers.get("Access-Control-Allow-Methods"))
    allowed = headers.split_list(response.headers.get("Access-Control-Allow-Headers"))
    case.expect(200 <= response.status_code < 300, *ids, message=f"the preflight answered {response.status_code}")
    case.expect(origin in (ORIGIN, "*"), *ids, message=f"Access-Control-Allow-Origin is {origin!r}")
    case.expect("post" in methods or "*" in methods, *ids, message=f"Access-Control-Allow-Methods is {methods}")
    case.expect({"authorization", "content-type"} <= set(allowed) or "*" in allowed, *ids,
                message=f"Access-Control-Allow-Headers {allowed} lacks authorization or content-type")


@pytest.mark.requirement("WHIP-4.2-18", "WHEPL-4.3-4", "WHEP01-4.3-8")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_options_announces_accept_post(case, protocol):
    """OPTIONS the endpoint: Accept-Post names application/sdp."""
    endpoint = await _endpoint(case, protocol)
    response = await case.signalling.request("OPTIONS", endpoint, with_token=False, headers=PREFLIGHT)
    accept_post = headers.split_list(response.headers.get("Accept-Post"))
    ids = rules.ids("options-accept-post", protocol)
    hint = " (it sends the misspelt Access-Post)" if "Access-Post" in response.headers else ""
    case.expect(headers.SDP in accept_post, *ids, message=f"Accept-Post is {response.headers.get('Accept-Post')!r}{hint}")


@pytest.mark.requirement("WHIP-D-10")
async def test_post_response_is_readable_by_browsers(case):
    """POST an offer with an Origin: Location, ETag and Link are exposed to the page (Access-Control-Expose-Headers)."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    posted = await case.signalling.post_offer(urls.whip_url, offer, extra_headers={"Origin": ORIGIN})
    exposed = headers.split_list(posted.response.headers.get("Access-Control-Expose-Headers"))
    missing = {"location", "etag", "link"} - set(exposed)
    case.expect(not missing or "*" in exposed, "WHIP-D-10",
                message=f"Access-Control-Expose-Headers {exposed} hides {sorted(missing)}: a browser client cannot read them")


@pytest.mark.requirement("WHIP-4.6-7")
async def test_preflight_carries_no_ice_servers(case):
    """Send a CORS preflight for POST: no Link rel=ice-server on it. The control: the endpoint names ICE
    servers somewhere (a plain OPTIONS, or the 201 of a POST); one that names none anywhere would pass
    without the check seeing anything, so it is not applicable there."""
    urls = await case.live_input()
    plain = await case.signalling.request("OPTIONS", urls.whip_url)
    if not any("ice-server" in link for link in plain.headers.get_list("Link")):
        _, _, posted = await case.publish()
        if not any("ice-server" in link for link in posted.response.headers.get_list("Link")):
            case.not_applicable("the endpoint names no ICE server on a plain OPTIONS or on the 201: "
                                "a preflight without them shows nothing")
    response = await case.signalling.request("OPTIONS", urls.whip_url, with_token=False, headers=PREFLIGHT)
    links = response.headers.get_list("Link")
    case.expect(not any("ice-server" in link for link in links), "WHIP-4.6-7",
                message=f"the preflight carries STUN/TURN configuration: {links}")
