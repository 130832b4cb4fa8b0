"""RFC 9725 §4.1 HTTP Usage and the RFC 9110 method rules, as the reference server implements them.

§4.1: endpoints and sessions have no representation, so GET gets a 2xx with no content (the drafts,
draft-ietf-wish-whip-06 and draft-murillo-whep-01, refuse it 405 instead). RFC 9110 §15.5.6: a method
the resource does not support gets 405 with an Allow header listing those it does; §15.6.2: a method
the server does not recognise at all gets 501 Not Implemented.
"""

from __future__ import annotations

import pytest

from whip_whep_conformance.protocol import profiles

from .inprocess import described

pytestmark = pytest.mark.asyncio


def allow(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_get_on_the_endpoint_is_2xx_without_content(server, live, method):
    response = await server.request(method, live.publish, headers=server.auth())
    assert response.status == 204, f"RFC 9725 §4.1: {method} on the endpoint gets a 2xx with no content; {described(response)}"


async def test_get_on_a_session_is_2xx_without_content(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    response = await server.request("GET", session.path, headers=server.auth())
    assert response.status == 204, f"RFC 9725 §4.1: GET on the session gets a 2xx with no content; {described(response)}"


async def test_get_on_the_endpoint_is_405_under_the_drafts(start_server):
    server = await start_server(profiles.CLOUDFLARE)
    live = await server.live_input()
    response = await server.request("GET", live.publish)
    assert response.status == 405 and "GET" not in allow(response), \
        f"draft-ietf-wish-whip-06 §4: GET on the endpoint gets 405, and Allow does not list it; {described(response)}"


async def test_put_on_the_endpoint_gets_405_with_allow(server, live):
    response = await server.request("PUT", live.publish, headers=server.auth())
    assert response.status == 405 and "POST" in allow(response) and "PUT" not in allow(response), \
        f"RFC 9110 §15.5.6: an unsupported method gets 405 with Allow listing the supported ones; {described(response)}"


async def test_post_on_a_session_gets_405_with_allow(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    response = await server.request("POST", session.path, headers=server.auth())
    assert response.status == 405 and {"PATCH", "DELETE"} <= allow(response), \
        f"RFC 9110 §15.5.6: POST on a session gets 405, Allow listing PATCH and DELETE; {described(response)}"


async def test_delete_on_the_publish_url_gets_405_under_rfc9725(server, live, publisher_offer):
    await server.session(live.publish, publisher_offer)
    response = await server.request("DELETE", live.publish, headers=server.auth())
    assert response.status == 405, \
        f"RFC 9725 §4.2: a session is ended on its own URL; DELETE on the endpoint is not supported (405); {described(response)}"


async def test_delete_on_the_publish_url_ends_the_publisher_under_whip_06(start_server, peers):
    server = await start_server(profiles.CLOUDFLARE)
    live = await server.live_input()
    session = await server.session(live.publish, await peers.offer(peers.publisher()))
    ended = await server.request("DELETE", live.publish)
    assert ended.status == 200, f"control: the Cloudflare-compatible profile takes DELETE on the publish URL; {described(ended)}"
    response = await server.request("DELETE", session.path)
    assert response.status == 404, \
        f"DELETE on the publish URL (Cloudflare's example client) ended the publisher's session; {described(response)}"


@pytest.mark.parametrize("where", ["endpoint", "session"])
async def test_unknown_method_gets_501(server, live, publisher_offer, where):
    path = live.publish if where == "endpoint" else (await server.session(live.publish, publisher_offer)).path
    response = await server.request("WHIPCHECK", path, headers=server.auth())
    assert response.status == 501, f"RFC 9110 §15.6.2: a method nobody defined gets 501 Not Implemented; {described(response)}"


async def test_unknown_method_on_the_whep_endpoint_gets_501(server, live):
    response = await server.request("WHEPCHECK", live.play, headers=server.auth())
    assert response.status == 501, f"RFC 9110 §15.6.2: a method nobody defined gets 501 Not Implemented; {described(response)}"
