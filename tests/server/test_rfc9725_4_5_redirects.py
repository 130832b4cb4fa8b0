"""RFC 9725 §4.5 Load Balancing and Redirections, as the reference server does it with --redirect.

An endpoint may send the client on with a redirection that keeps the method and body: 307 Temporary
Redirect (301/302 may turn the POST into a GET). The redirected POST sets up the session.
"""

from __future__ import annotations

import pytest

from .inprocess import described

pytestmark = pytest.mark.asyncio


async def test_endpoint_post_is_redirected_307(start_server, publisher_offer):
    server = await start_server(redirect=True)
    response = await server.post_offer((await server.live_input()).publish, publisher_offer)
    assert response.status == 307 and response.headers.get("Location"), \
        f"RFC 9725 §4.5: a redirection keeping method and body (307 Temporary Redirect) with a Location; {described(response)}"


async def test_redirected_post_sets_up_the_session(start_server, publisher_offer):
    server = await start_server(redirect=True)
    redirected = await server.post_offer((await server.live_input()).publish, publisher_offer)
    assert redirected.status == 307, f"control: the POST is redirected; {described(redirected)}"
    response = await server.post_offer(redirected.headers["Location"], publisher_offer)
    assert response.status == 201, f"RFC 9725 §4.5: the POST repeated at the Location sets up the session; {described(response)}"


async def test_whep_post_is_redirected_307(start_server, viewer_offer):
    server = await start_server(redirect=True)
    response = await server.post_offer((await server.live_input()).play, viewer_offer)
    assert response.status == 307, f"draft-ietf-wish-whep-03 §4.6: 307 Temporary Redirect; {described(response)}"
