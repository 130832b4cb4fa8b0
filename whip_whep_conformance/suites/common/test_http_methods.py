"""HTTP usage — RFC 9725 §4.1 (draft-06 §4), draft-ietf-wish-whep-03 §4.1, draft-murillo-whep-01 §4.3:
GET, HEAD and methods a resource does not support. Where the revisions disagree on GET (2xx since
RFC 9725 and whep-02, 405 before), the profile in force decides and the message names it."""

import pytest

from whip_whep_conformance.protocol import headers, profiles
from whip_whep_conformance.harness import rules

pytestmark = pytest.mark.asyncio

PROTOCOLS = ["whip", "whep"]
GET_IS_405 = {profiles.WHIP_06, profiles.MURILLO_01}


async def _endpoint_and_session(case, protocol):
    if protocol == "whip":
        urls, _, posted = await case.publish()
        return urls.whip_url, posted.location
    urls = await case.live_input()
    # These cases are about the session resource, not the endpoint's answer: under draft-ietf-wish-whep-03
    # a 406 counter-offer is followed (answered by PATCH), as a player must, and its Location is the session.
    _, posted = await case.play(urls, counter_offer_ok=True)
    return case.whep_url(urls), posted.location


@pytest.mark.requirement("WHIP-4.1-4", "WHEPL-4.1-4", "WHEP01-4.3-6")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_get_follows_the_revision(case, protocol):
    """GET the endpoint (and the session): 2xx without content, or 405 where the revision says so."""
    endpoint, session = await _endpoint_and_session(case, protocol)
    profile = case.target.whip_profile if protocol == "whip" else case.target.whep_profile
    ids = rules.ids("get-on-endpoint", protocol)
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


@pytest.mark.requirement("HTTP-19", "HTTP-2", "WHIP-4-1", "WHEP01-4.3-6")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unsupported_method_gets_405_with_allow(case, protocol):
    """PUT the endpoint: 405 Method Not Allowed with an Allow header that names POST.

    One rule for WHIP and WHEP: HTTP's (RFC 9110 §15.5.6), a Warning where no revision demands the 405,
    and a MUST where the drafts reserve PUT (draft-ietf-wish-whip-06 §4, draft-murillo-whep-01 §4.3)."""
    endpoint, _ = await _endpoint_and_session(case, protocol)
    response = await case.signalling.request("PUT", endpoint, content=b"")
    profile = case.target.whip_profile if protocol == "whip" else case.target.whep_profile
    ids = rules.ids("put-is-405", protocol)
    case.expect(response.status_code == 405, *(ids if profile in GET_IS_405 else ids[1:]),
                message=f"PUT {endpoint} answered {response.status_code}, not 405 Method Not Allowed")
    if response.status_code != 405:
        return
    allow = headers.split_list(response.headers.get("Allow"))
    case.expect("post" in allow, "HTTP-2", message=f"the 405 to PUT has Allow {response.headers.get('Allow')!r}, "
                                                   "which does not name POST, the endpoint's own method")


async def _refused_methods(case, url: str) -> set[str]:
    """The safe methods `url` turns away with 405 or 501 (probed now), upper-case."""
    refused = set()
    for method in ("GET", "HEAD"):
        response = await case.signalling.request(method, url)
        if response.status_code in (405, 501):
            refused.add(method)
    return refused


@pytest.mark.requirement("HTTP-2")
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("resource", ["endpoint", "session"])
async def test_allow_lists_only_supported_methods(case, protocol, resource):
    """PUT the endpoint or session URL, and OPTIONS it: Allow (on the 405 and on OPTIONS) lists the methods
    the resource supports — none that it answers 405 itself, and the one it was seen to take (POST on the
    endpoint, DELETE on the session). RFC 9110 §15.5.6: the 405's Allow holds "the target resource's
    currently supported methods"; §10.2.1: Allow on any response advertises them."""
    endpoint, session = await _endpoint_and_session(case, protocol)
    url = endpoint if resource == "endpoint" else session
    if not url:
        case.not_applicable("the POST made no session (no Location): no session URL to ask")
    put = await case.signalling.request("PUT", url, content=b"")
    if put.status_code != 405:
        case.not_applicable(f"PUT {url} answered {put.status_code}, not 405: no Allow to judge (the 405 itself is "
                            "graded by test_unsupported_method_gets_405_with_allow and the drafts' session rules)")
    options = await case.signalling.request("OPTIONS", url, with_token=False)
    refused = await _refused_methods(case, url) | {"PUT"}
    taken = "POST" if resource == "endpoint" else "DELETE"  # the arrangement POSTed; the session is DELETEd below
    if resource == "session":
        deleted = await case.signalling.delete(url)
        taken = taken if 200 <= deleted.status_code < 300 else None
    problems = []
    for what, value in (("the 405 to PUT", put.headers.get("Allow")),
                        ("the OPTIONS response", options.headers.get("Allow") if options.status_code < 300 else None)):
        if value is None:
            continue  # OPTIONS need not carry Allow; a 405 without one is graded by test_unsupported_method_gets_405_with_allow
        listed = {m.upper() for m in headers.split_list(value)}
        wrong = sorted(listed & refused)
        if wrong:
            problems.append(f"{what} has Allow {value!r}, listing {', '.join(wrong)}, which {url} answers 405")
        if taken and taken not in listed:
            problems.append(f"{what} has Allow {value!r}, without {taken}, which {url} takes")
    case.expect(not problems, "HTTP-2", message="; ".join(problems))
    methods = {m.upper() for m in headers.split_list(options.headers.get("Access-Control-Allow-Methods"))}
    if methods & refused:
        case.info("HTTP-2", f"Access-Control-Allow-Methods on OPTIONS {url} lists {', '.join(sorted(methods & refused))}, "
                            "which the URL answers 405: a browser is told it may send them")


INVENTED_METHOD = "WHIPCHECK"  # a valid method token no specification defines


@pytest.mark.requirement("HTTP-20")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unrecognised_method_gets_501(case, protocol):
    """Send a method nobody defined to the endpoint and the session URL: 501 Not Implemented (405 is noted)."""
    endpoint, session = await _endpoint_and_session(case, protocol)
    for url in (endpoint, session):
        response = await case.signalling.request(INVENTED_METHOD, url)
        if response.status_code == 405:
            case.info("HTTP-20", f"{INVENTED_METHOD} {url} got 405: the method is treated as known but not allowed")
            continue
        case.expect(response.status_code == 501, "HTTP-20",
                    message=f"{INVENTED_METHOD} {url} got {response.status_code}, not 501 Not Implemented")


@pytest.mark.requirement("WHIP-4-2")
@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT"])
async def test_whip_session_turns_away_other_methods(case, method):
    """draft-ietf-wish-whip-06 §4: HEAD, POST and PUT on a WHIP session (resource) URL get 405 (GET is
    graded with the revision's GET rule, test_get_follows_the_revision)."""
    _, session = await _endpoint_and_session(case, "whip")
    response = await case.signalling.request(method, session, content=b"")
    case.expect(response.status_code == 405, "WHIP-4-2",
                message=f"{method} {session} got {response.status_code}, not the 405 draft-ietf-wish-whip-06 §4 reserves "
                        "it with")


@pytest.mark.requirement("WHEP01-4.3-9")
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT"])
async def test_whep_session_turns_away_other_methods(case, method):
    """draft-murillo-whep-01: GET, HEAD, POST and PUT on a WHEP session URL get 405."""
    _, session = await _endpoint_and_session(case, "whep")
    response = await case.signalling.request(method, session, content=b"")
    case.expect(response.status_code == 405, "WHEP01-4.3-9", message=f"{method} on the session got {response.status_code}")


@pytest.mark.requirement("HTTP-12")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_head_is_answered_like_get(case, protocol):
    """HEAD and GET the endpoint: the same status, and no content for HEAD."""
    endpoint, _ = await _endpoint_and_session(case, protocol)
    get = await case.signalling.request("GET", endpoint)
    head = await case.signalling.request("HEAD", endpoint)
    req = "HTTP-12"  # RFC 9110 §9.3.2, for WHIP and WHEP alike: "identical to GET except ... MUST NOT send content"
    case.expect(head.status_code == get.status_code and not head.content, req,
                message=f"GET answered {get.status_code}, HEAD answered {head.status_code} with {len(head.content)} bytes")


@pytest.mark.requirement("WHIP-4.3.1-10", "WHEPL-4.4.1-9")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_delete_ignores_if_match(case, protocol):
    """DELETE the session with If-Match naming a tag it never had: 2xx, and the session is gone."""
    _, session = await _endpoint_and_session(case, protocol)
    response = await case.signalling.request("DELETE", session, headers={"If-Match": '"not-the-current-tag"'})
    case.expect(200 <= response.status_code < 300, *rules.ids("delete-ignores-if-match", protocol),
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
