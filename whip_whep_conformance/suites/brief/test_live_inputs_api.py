"""Product brief, step 1 — the live inputs API that mints a publish URL and a playback URL."""

import re

import pytest

pytestmark = pytest.mark.asyncio


def _api(case):
    if case.api is None:
        case.not_applicable("no --live-inputs collection URL given")
    return case.api


@pytest.mark.requirement("BRIEF-API-1")
async def test_create_returns_publish_and_playback_urls(case):
    """POST to the collection: a v4 envelope whose result has a 32-hex uid, webRTC.url and webRTCPlayback.url."""
    api = _api(case)
    response = await api.create()
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    result = body.get("result") if isinstance(body, dict) else None
    case.expect(response.status_code in (200, 201) and body.get("success") is True and isinstance(result, dict),
                "BRIEF-API-1", message=f"{response.status_code}: not a successful v4 envelope: {response.text[:200]!r}")
    case.expect(bool(re.fullmatch(r"[0-9a-f]{32}", str(result.get("uid", "")))), "BRIEF-API-1",
                message=f"uid {result.get('uid')!r} is not 32 hex digits")
    urls = [result.get("webRTC", {}).get("url"), result.get("webRTCPlayback", {}).get("url")]
    case.expect(all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls), "BRIEF-API-1",
                message=f"webRTC.url / webRTCPlayback.url are {urls}")
    await api.delete(result["uid"])


@pytest.mark.requirement("BRIEF-API-2")
async def test_created_input_is_readable_and_listed(case):
    """Create a live input, then GET it by uid and GET the collection: both show it."""
    api = _api(case)
    urls = await case.live_input()
    one = await api.get(urls.uid)
    case.expect(one.status_code == 200 and one.json().get("result", {}).get("uid") == urls.uid, "BRIEF-API-2",
                message=f"GET by uid answered {one.status_code}: {one.text[:200]!r}")
    listing = await api.list()
    uids = [i.get("uid") for i in listing.json().get("result", [])] if listing.status_code == 200 else []
    case.expect(urls.uid in uids, "BRIEF-API-2", message=f"the collection ({listing.status_code}) does not list {urls.uid}")


@pytest.mark.requirement("BRIEF-API-3")
async def test_deleted_input_is_gone_with_its_publisher(case):
    """Publish to a live input, DELETE the input: it is gone (404) and so is its WHIP session."""
    api = _api(case)
    urls, _, posted = await case.publish()
    deleted = await api.delete(urls.uid)
    case.expect(deleted.status_code in (200, 204), "BRIEF-API-3", message=f"DELETE answered {deleted.status_code}")
    after = await api.get(urls.uid)
    case.expect(after.status_code == 404, "BRIEF-API-3", message=f"GET after DELETE answered {after.status_code}")
    session = await case.signalling.delete(posted.location)
    case.expect(session.status_code in (404, 410), "BRIEF-API-3",
                message=f"the publisher's session still answers DELETE with {session.status_code}")


@pytest.mark.requirement("BRIEF-URL-1")
async def test_publish_url_secret_is_not_the_uid(case):
    """Create a live input: its publish URL does not contain its public uid."""
    _api(case)
    urls = await case.live_input()
    case.expect(urls.uid not in urls.whip_url, "BRIEF-URL-1",
                message=f"the publish URL {urls.whip_url} contains the public uid {urls.uid}")
