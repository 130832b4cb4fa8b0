"""WHEP endpoint URL discoverability — the editor's copy after draft-ietf-wish-whep-03, §4.2 (it stands in for
draft-ietf-wish-whep-04, whose body is not available: ../shared/specs/whep/SOURCES.md).

"WHEP endpoints SHOULD support HTTP HEAD requests as defined in Section 9.3.2 of RFC9110"; the HEAD is
answered "200 OK" with `Content-Type: application/sdp`, "the same headers that would be returned in
response to a GET request", and no message body. Each case grades only where its row applies to the WHEP
profile in force (the registry's `profiles`), and is Not applicable elsewhere: draft-murillo-whep-01 §4.3
reserves HEAD on the endpoint (405), and draft-ietf-wish-whep-03 has no HEAD rule of its own (RFC 9110's,
HEAD answered like GET, is graded in suites/common/test_http_methods.py for every profile).
"""

from __future__ import annotations

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.protocol import headers

pytestmark = pytest.mark.asyncio

REFUSED = (405, 501)  # "not allowed here" and "not implemented": the endpoint does not take HEAD
# Header fields a HEAD answer may lack (or have) where the GET answer has them (or not), and why:
# - Content-Length, Transfer-Encoding: the framing of content HEAD does not send (RFC 9110 §8.6 lets a
#   HEAD answer omit Content-Length; §9.3.2: a server "MAY omit header fields for which a value is
#   determined only while generating the content"; a GET answer may be chunked);
# - Date, Age: the time of each message and a cache's age of it, which a cache or proxy in front may put on one only;
# - Connection, Keep-Alive: hop-by-hop, the connection's management, not the resource's (RFC 9110 §7.6.1);
# - Set-Cookie: per client and moment (a load balancer's affinity cookie goes on the first answer only).
PER_RESPONSE = frozenset({"content-length", "transfer-encoding", "date", "age", "connection", "keep-alive", "set-cookie"})


def _only_where_it_applies(case, req_id: str) -> None:
    """Not applicable unless `req_id` holds under the WHEP profile in force."""
    if not registry.get(req_id).applies_to(case.target.whip_profile, case.target.whep_profile):
        case.not_applicable(f"{req_id} is a rule of the editor's copy after draft-ietf-wish-whep-03 (§4.2 WHEP Endpoint URL "
                            f"Discoverability), not of {case.target.whep_profile}")


async def _endpoint(case) -> str:
    return case.whep_url(await case.live_input())


async def _head_taken(case, req_id: str):
    """The endpoint URL and its answer to HEAD; Not applicable when HEAD is refused (test_endpoint_accepts_head grades that)."""
    _only_where_it_applies(case, req_id)
    url = await _endpoint(case)
    head = await case.signalling.request("HEAD", url)
    if head.status_code in REFUSED:
        case.not_applicable(f"HEAD {url} was refused {head.status_code}: graded by test_endpoint_accepts_head (WHEPE-4.2-2)")
    return url, head


@pytest.mark.requirement("WHEPE-4.2-2")
async def test_endpoint_accepts_head(case):
    """SHOULD: HEAD on the endpoint URL is taken, not refused 405 or 501. Editor's copy §4.2: "WHEP endpoints
    SHOULD support HTTP HEAD requests as defined in {{Section 9.3.2 of !RFC9110}}", so that players can tell a
    WHEP URL from others (players "MAY use HTTP HEAD requests to determine if a URL is a WHEP endpoint")."""
    _only_where_it_applies(case, "WHEPE-4.2-2")
    url = await _endpoint(case)
    head = await case.signalling.request("HEAD", url)
    case.expect(head.status_code not in REFUSED, "WHEPE-4.2-2",
                message=f"HEAD {url} was refused {head.status_code} (Allow: {head.headers.get('Allow')!r}): a player cannot "
                        "discover the endpoint")


@pytest.mark.requirement("WHEPE-4.2-3")
async def test_head_is_answered_200_typed_application_sdp(case):
    """SHOULD: HEAD on the endpoint gets 200 with Content-Type application/sdp. Editor's copy §4.2: "When a WHEP
    endpoint receives a HEAD request, it SHOULD respond with a "200 OK" status code and include a `Content-Type`
    header field with the value `application/sdp`" ("This allows players to identify WHEP endpoints by examining
    the `Content-Type` header in the response"). Media type parameters are ignored (RFC 9110 §8.3.1)."""
    url, head = await _head_taken(case, "WHEPE-4.2-3")
    typed = head.headers.get("Content-Type")
    case.expect(head.status_code == 200 and headers.media_type(typed) == headers.SDP, "WHEPE-4.2-3",
                message=f"HEAD {url} answered {head.status_code} typed {typed!r}, not 200 typed {headers.SDP}")


@pytest.mark.requirement("WHEPE-4.2-4")
async def test_head_bears_the_header_fields_of_get(case):
    """MUST: GET, then HEAD, the endpoint: every header field name of the GET answer is on the HEAD answer, and
    Content-Type alike. Editor's copy §4.2: "The HEAD response MUST include the same headers that would be
    returned in response to a GET request, including the `Content-Type` header". Names, not values (most carry
    per-response values); fields of the message's framing, time and connection are left out (PER_RESPONSE).
    Fields on HEAD alone are Info: "include the same headers" asks for GET's, and RFC 9110 §9.3.2 has only a
    SHOULD ("SHOULD send the same header fields")."""
    url, head = await _head_taken(case, "WHEPE-4.2-4")
    get = await case.signalling.request("GET", url)
    got, headed = ({k.lower() for k in r.headers} - PER_RESPONSE for r in (get, head))
    missing, extra = sorted(got - headed), sorted(headed - got)
    types = [headers.media_type(r.headers.get("Content-Type")) for r in (get, head)]
    problems = ([f"HEAD lacks {', '.join(missing)}, which GET (answered {get.status_code}) carries"] if missing else []) \
        + ([f"GET is typed {types[0]!r}, HEAD {types[1]!r}"] if types[0] != types[1] else [])
    case.expect(not problems, "WHEPE-4.2-4", message=f"{url}: " + "; ".join(problems))
    if extra:
        case.info("WHEPE-4.2-4", f"HEAD {url} carries {', '.join(extra)}, which GET does not")


@pytest.mark.requirement("WHEPE-4.2-5")
async def test_head_answer_has_no_body(case):
    """MUST NOT: nothing follows the HEAD answer's header section on the wire. Editor's copy §4.2: the HEAD
    response "MUST NOT include a message body as per {{Section 9.3.2 of !RFC9110}}". httpx never reads content
    after a HEAD answer (h11 frames it as bodiless, so stray bytes would spoil the next answer on the connection
    and be blamed on it): an OPTIONS is pipelined behind the HEAD and the bytes between the two answers are read
    off the socket. Content-Length is no evidence either way: a HEAD answer may carry GET's (RFC 9110 §8.6)."""
    _only_where_it_applies(case, "WHEPE-4.2-5")
    url = await _endpoint(case)
    reply = await case.signalling.pipelined("HEAD", url)
    case.expect(not reply.between, "WHEPE-4.2-5",
                message=f"{len(reply.between)} bytes followed the header section of the answer ({reply.status}) to "
                        f"HEAD {url}: {reply.between[:60]!r}")
