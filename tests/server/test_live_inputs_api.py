"""The live inputs API, shaped like Cloudflare Stream's (`/client/v4/accounts/{id}/stream/live_inputs`),
as the reference server implements it.

Every answer is Cloudflare's v4 envelope {"success", "errors", "messages", "result"}. A live input has a
uid (its playback URL, webRTCPlayback.url) and a separate secret in its publish URL (webRTC.url).
Creating answers 201, listing gives the account's inputs, deleting ends the input and its endpoints.
"""

from __future__ import annotations

import pytest
from yarl import URL

from .inprocess import ACCOUNT, described

pytestmark = pytest.mark.asyncio

BASE = f"/client/v4/accounts/{ACCOUNT}/stream/live_inputs"


async def test_create_answers_201_in_the_envelope(server):
    response = await server.request("POST", BASE, json={"meta": {"name": "a"}})
    body = await response.json()
    assert response.status == 201 and body.get("success") is True and body.get("errors") == [] and "result" in body, \
        f"Cloudflare API: creating a live input answers 201 with success in the v4 envelope; {described(response, await response.text())}"


async def test_created_input_has_publish_and_playback_urls(server):
    result = (await (await server.request("POST", BASE, json={})).json())["result"]
    publish, play = URL(result["webRTC"]["url"]), URL(result["webRTCPlayback"]["url"])
    assert publish.path.endswith("/webRTC/publish") and play.path == f"/{result['uid']}/webRTC/play", \
        f"Cloudflare API: webRTC.url publishes, webRTCPlayback.url (by uid) plays; got {publish}, {play}"


async def test_publish_url_does_not_reveal_the_uid(server):
    result = (await (await server.request("POST", BASE, json={})).json())["result"]
    assert result["uid"] not in result["webRTC"]["url"], \
        f"the publish URL's secret is not the public uid (anyone who can play could publish); {result['webRTC']['url']}"


async def test_create_keeps_meta(server):
    result = (await (await server.request("POST", BASE, json={"meta": {"name": "studio 1"}})).json())["result"]
    assert result.get("meta") == {"name": "studio 1"}, f"Cloudflare API: the input keeps its meta; got {result.get('meta')}"


async def test_create_with_a_body_that_is_not_json_gets_400(server):
    response = await server.request("POST", BASE, data=b"{not json", headers={"Content-Type": "application/json"})
    body = await response.json()
    assert response.status == 400 and body.get("success") is False and body.get("errors"), \
        f"Cloudflare API: a malformed body gets 400 with errors in the envelope; {described(response, await response.text())}"


async def test_list_has_the_created_input(server, live):
    response = await server.request("GET", BASE)
    uids = [i["uid"] for i in (await response.json())["result"]]
    assert response.status == 200 and live.uid in uids, f"Cloudflare API: listing gives the account's inputs; {uids}"


async def test_list_is_per_account(server, live):
    response = await server.request("GET", "/client/v4/accounts/another-account/stream/live_inputs")
    assert (await response.json())["result"] == [], f"Cloudflare API: another account lists none of this one's inputs; {described(response)}"


async def test_get_gives_the_input(server, live):
    response = await server.request("GET", f"{BASE}/{live.uid}")
    assert response.status == 200 and (await response.json())["result"]["uid"] == live.uid, \
        f"Cloudflare API: GET live_inputs/<uid> gives the input; {described(response)}"


async def test_new_input_is_disconnected(server, live):
    result = (await (await server.request("GET", f"{BASE}/{live.uid}")).json())["result"]
    assert result["status"]["current"]["state"] == "disconnected", \
        f"Cloudflare API: an input nobody publishes to is disconnected; {result['status']}"


async def test_input_with_a_connected_publisher_is_connected(server, live, peers):
    pc = peers.publisher()
    session = await server.session(live.publish, await peers.offer(pc))
    state = await peers.connect(pc, session.answer)
    assert state == "connected", f"arranging: the publisher did not connect (state {state})"
    result = (await (await server.request("GET", f"{BASE}/{live.uid}")).json())["result"]
    assert result["status"]["current"]["state"] == "connected", \
        f"Cloudflare API: status.current.state is connected while a publisher is connected; {result['status']}"


async def test_delete_answers_200_then_the_input_is_gone(server, live):
    deleted = await server.request("DELETE", f"{BASE}/{live.uid}")
    assert deleted.status == 200 and (await deleted.json())["success"] is True, f"control: DELETE answers 200; {described(deleted)}"
    response = await server.request("GET", f"{BASE}/{live.uid}")
    body = await response.json()
    assert response.status == 404 and body["success"] is False and body["errors"], \
        f"Cloudflare API: a deleted input is not found (404, errors in the envelope); {described(response)}"


async def test_delete_of_an_unknown_input_gets_404(server):
    response = await server.request("DELETE", f"{BASE}/no-such-uid")
    assert response.status == 404, f"Cloudflare API: deleting what does not exist gets 404; {described(response)}"


async def test_deleted_input_ends_its_publisher(server, live, publisher_offer):
    session = await server.session(live.publish, publisher_offer)
    deleted = await server.request("DELETE", f"{BASE}/{live.uid}")
    assert deleted.status == 200, f"control: the input is deleted; {described(deleted)}"
    response = await server.request("DELETE", session.path)
    assert response.status == 404, f"deleting an input ends its publisher's session (its URL is gone); {described(response)}"


async def test_deleted_input_takes_no_offer(server, live, publisher_offer):
    deleted = await server.request("DELETE", f"{BASE}/{live.uid}")
    assert deleted.status == 200, f"control: the input is deleted; {described(deleted)}"
    response = await server.post_offer(live.publish, publisher_offer)
    assert response.status == 404, f"a deleted input's publish URL is gone (404); {described(response)}"


async def test_api_answers_any_origin(server):
    response = await server.request("GET", BASE, headers={"Origin": "https://dashboard.example"})
    assert response.headers.get("Access-Control-Allow-Origin") == "*", \
        f"the API is usable from pages of any origin (the token is the credential); {described(response)}"


async def test_api_preflight_allows_its_methods(server):
    response = await server.request("OPTIONS", BASE, headers={"Origin": "https://dashboard.example",
                                                              "Access-Control-Request-Method": "POST"})
    methods = {m.strip() for m in response.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert response.status in (200, 204) and {"GET", "POST", "DELETE"} <= methods, \
        f"Fetch §3.2.3: the API's preflight allows GET, POST and DELETE; {described(response)}"
