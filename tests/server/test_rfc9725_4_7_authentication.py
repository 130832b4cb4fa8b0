"""RFC 9725 §4.7.1 Bearer Token Authentication (and draft-ietf-wish-whep-03 §4.8), as the reference
server implements it when started with a token.

Endpoints and sessions MAY require `Authorization: Bearer <token>` (RFC 6750 §2.1). A refused request
gets 401 with a WWW-Authenticate challenge naming the Bearer scheme (RFC 9110 §11.6.1, RFC 6750 §3);
a wrong token's challenge says error="invalid_token". The live inputs API has a token of its own.
"""

from __future__ import annotations

import pytest
import pytest_asyncio

from .inprocess import ACCOUNT, TOKEN, described

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def guarded(start_server):
    """A server whose WHIP/WHEP requests need the Bearer token TOKEN."""
    return await start_server(token=TOKEN)


async def test_offer_with_the_token_is_answered_201(guarded, publisher_offer):
    response = await guarded.post_offer((await guarded.live_input()).publish, publisher_offer)
    assert response.status == 201, f"RFC 9725 §4.7.1: the right Bearer token is taken; {described(response)}"


async def test_offer_without_a_token_gets_401_with_a_bearer_challenge(guarded, publisher_offer):
    response = await guarded.post_offer((await guarded.live_input()).publish, publisher_offer, authorized=False)
    challenge = response.headers.get("WWW-Authenticate", "")
    assert response.status == 401 and challenge.lower().startswith("bearer"), \
        f"RFC 9110 §11.6.1 / RFC 6750 §3: 401 with a Bearer challenge; {described(response)}"


async def test_challenge_without_credentials_names_no_error(guarded, publisher_offer):
    response = await guarded.post_offer((await guarded.live_input()).publish, publisher_offer, authorized=False)
    assert "error=" not in response.headers.get("WWW-Authenticate", ""), \
        f"RFC 6750 §3.1: a request with no credentials gets the bare challenge, no error code; {described(response)}"


async def test_wrong_token_gets_401_invalid_token(guarded, publisher_offer):
    response = await guarded.post_offer((await guarded.live_input()).publish, publisher_offer, Authorization="Bearer wrong")
    challenge = response.headers.get("WWW-Authenticate", "")
    assert response.status == 401 and 'error="invalid_token"' in challenge, \
        f'RFC 6750 §3.1: a wrong token gets 401 with error="invalid_token"; {described(response)}'


async def test_session_delete_needs_the_token(guarded, publisher_offer):
    session = await guarded.session((await guarded.live_input()).publish, publisher_offer)
    refused = await guarded.request("DELETE", session.path)
    assert refused.status == 401, f"RFC 9725 §4.7.1: sessions require the token too; {described(refused)}"


async def test_refused_delete_leaves_the_session(guarded, publisher_offer):
    session = await guarded.session((await guarded.live_input()).publish, publisher_offer)
    refused = await guarded.request("DELETE", session.path)
    assert refused.status == 401, f"control: DELETE without the token is refused; {described(refused)}"
    response = await guarded.request("DELETE", session.path, headers=guarded.auth())
    assert response.status == 200, f"RFC 9725 §4.7.1: a refused request changes nothing; {described(response)}"


async def test_session_patch_needs_the_token(guarded, publisher_offer):
    session = await guarded.session((await guarded.live_input()).publish, publisher_offer)
    response = await guarded.patch(session.path, "a=end-of-candidates\r\n", if_match=session.etag, authorized=False)
    assert response.status == 401, f"RFC 9725 §4.7.1: PATCH on a session requires the token; {described(response)}"


async def test_whep_offer_without_a_token_gets_401(guarded, viewer_offer):
    response = await guarded.post_offer((await guarded.live_input()).play, viewer_offer, authorized=False)
    assert response.status == 401, f"draft-ietf-wish-whep-03 §4.8: the WHEP endpoint requires the token too; {described(response)}"


async def test_api_without_its_token_gets_401_with_a_challenge(start_server):
    server = await start_server(api_token="api-secret")
    response = await server.request("GET", f"/client/v4/accounts/{ACCOUNT}/stream/live_inputs")
    assert response.status == 401 and response.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), \
        f"the live inputs API (Cloudflare-shaped) needs its API token: 401 with a Bearer challenge; {described(response)}"


async def test_api_with_its_token_is_answered(start_server):
    server = await start_server(api_token="api-secret")
    response = await server.request("GET", f"/client/v4/accounts/{ACCOUNT}/stream/live_inputs", headers=server.api_auth())
    assert response.status == 200, f"the live inputs API answers its API token; {described(response)}"
