"""HTTP usage — RFC 9725 §4.1 (draft-06 §4), draft-ietf-wish-whep-03 §4.1, draft-murillo-whep-01 §4.3:
GET, HEAD and methods a resource does not support. Where the revisions disagree on GET (2xx since
RFC 9725 and whep-02, 405 before), the profile in force decides and the message names it."""

import pytest

from whip_whep import headers, profiles

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
GET_IS_405 = {profiles.WHIP_06, profiles.MURILLO_01}


async def _endpoint_and_session(case, protocol):
    if protocol == "whip":
        urls, _, posted = await case.publish()
        return urls.whip_url, posted.location
    urls = await case.live_input()
    _, posted = await case.play(urls)
    return case.whep_url(urls), posted.location


@pytest.mark.requirement("WHIP-4.1-4", "WHEPL-4.1-4", "WHEP01-4.3-6")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_get_follows_the_revision(case, protocol):
    """GET the endpoint (and the session): 2xx without content, or 405 where the revision says so."""
    endpoint, session = await _endpoint_and_session(case, protocol)
    profile = case.target.whip_profile if protocol == "whip" else case.target.whep_profile
    ids = ("WHIP-4.1-4",) if protocol == "whip" else ("WHEPL-4.1-4", "WHEP01-4.3-6")
    # draft-murillo-whep-01's 405 rule for sessions has no row here yet: only its endpoint is checked
    urls = [endpoint] if profile == profiles.MURILLO_01 else [endpoint, session]
    for url in urls:
        response = await case.signalling.request("GET", url)
        if profile in GET_IS_405:
            case.expect(response.status_code == 405, *ids,
                        message=f"{profile} requires 405 for GET; GET {url} answered {response.status_code}")
        else:
            ok = 200 <= response.status_code < 300 and not response.content
            case.expect(ok, *ids, message=f"{profile} requires a 2xx without content for GET; GET {url} answered "
                                          f"{response.status_code} with {len(response.content)} bytes")


@pytest.mark.requirement("WHIP-D-1", "HTTP-2")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unsupported_method_gets_405_with_allow(case, protocol):
    """PUT the endpoint: 405 Method Not Allowed with an Allow header that names POST."""
    endpoint, _ = await _endpoint_and_session(case, protocol)
    response = await case.signalling.request("PUT", endpoint, content=b"")
    allow = headers.split_list(response.headers.get("Allow"))
    req = "WHIP-D-1" if protocol == "whip" else "HTTP-2"
    case.expect(response.status_code == 405 and "post" in allow, req,
                message=f"PUT answered {response.status_code}, Allow: {response.headers.get('Allow')!r}")


INVENTED_METHOD = "WHIPCHECK"  # a valid method token no specification defines


@pytest.mark.requirement("WHIP-D-2")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unrecognised_method_gets_501(case, protocol):
    """Send a method nobody defined to the endpoint and the session URL: 501 Not Implemented (405 is noted)."""
    endpoint, session = await _endpoint_and_session(case, protocol)
    for url in (endpoint, session):
        response = await case.signalling.request(INVENTED_METHOD, url)
        if response.status_code == 405:
            case.info("WHIP-D-2", f"{INVENTED_METHOD} {url} got 405: the method is treated as known but not allowed")
            continue
        case.expect(response.status_code == 501, "WHIP-D-2",
                    message=f"{INVENTED_METHOD} {url} got {response.status_code}, not 501 Not Implemented")


@pytest.mark.requirement("WHEP01-4.3-9")
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT"])
async def test_whep_session_turns_away_other_methods(case, method):
    """draft-murillo-whep-01: GET, HEAD, POST and PUT on a WHEP session URL get 405."""
    _, session = await _endpoint_and_session(case, "whep")
    response = await case.signalling.request(method, session, content=b"")
    case.expect(response.status_code == 405, "WHEP01-4.3-9", message=f"{method} on the session got {response.status_code}")


@pytest.mark.requirement("WHIP-D-3", "HTTP-12")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_head_is_answered_like_get(case, protocol):
    """HEAD and GET the endpoint: the same status, and no content for HEAD."""
    endpoint, _ = await _endpoint_and_session(case, protocol)
    get = await case.signalling.request("GET", endpoint)
    head = await case.signalling.request("HEAD", endpoint)
    req = "WHIP-D-3" if protocol == "whip" else "HTTP-12"
    case.expect(head.status_code == get.status_code and not head.content, req,
                message=f"GET answered {get.status_code}, HEAD answered {head.status_code} with {len(head.content)} bytes")


@pytest.mark.requirement("WHIP-4.3.1-10", "WHEPL-4.4.1-9")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_delete_ignores_if_match(case, protocol):
    """DELETE the session with If-Match naming a tag it never had: 2xx, and the session is gone."""
    _, session = await _endpoint_and_session(case, protocol)
    req = "WHIP-4.3.1-10" if protocol == "whip" else "WHEPL-4.4.1-9"
    response = await case.signalling.request("DELETE", session, headers={"If-Match": '"not-the-current-tag"'})
    case.expect(200 <= response.status_code < 300, req,
                message=f"DELETE with a wrong If-Match answered {response.status_code}")


async def _redirects_of_session(case, protocol: str) -> list[tuple[str, int]]:
    """PATCH and DELETE the session URL; the ones answered with a 3xx."""
    _, session = await _endpoint_and_session(case, protocol)
    patched = await case.signalling.patch(session, "a=end-of-candidates\r\n", if_match="*")
    deleted = await case.signalling.delete(session)
    return [(m, r.status_code) for m, r in (("PATCH", patched), ("DELETE", deleted)) if 300 <= r.status_code < 400]


@pytest.mark.requirement("WHIP-4.5-4")
async def test_whip_session_url_does_not_redirect(case):
    """PATCH and DELETE on a WHIP session URL are answered there: never a 3xx (clients need not follow them)."""
    redirected = await _redirects_of_session(case, "whip")
    case.expect(not redirected, "WHIP-4.5-4", message=f"the session URL redirected: {redirected}")


@pytest.mark.requirement("WHEP01-4.6-2")
async def test_whep_session_url_does_not_redirect(case):
    """draft-murillo-whep-01: PATCH and DELETE on the WHEP resource URL are never redirected."""
    redirected = await _redirects_of_session(case, "whep")
    case.expect(not redirected, "WHEP01-4.6-2", message=f"the resource URL redirected: {redirected}")
