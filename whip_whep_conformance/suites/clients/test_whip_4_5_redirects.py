"""RFC 9725 §4.5 as the client's side of it: it follows redirects, as RFC 9110 says a 307 is followed."""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.clients.observatory import Request
from whip_whep_conformance.harness.clients.observed import Observed

pytestmark = pytest.mark.asyncio


def _redirected(client_case, seen: Observed) -> tuple[Request, list[Request]]:
    """The POST the server answered 307, and what the client sent to where it pointed (/via/...). A
    browser's CORS preflight of the redirected request is the browser's own step, not what the client
    sent: the request the preflight was for comes after it."""
    first = next((r for r in seen.endpoint_posts() if r.status in (301, 302, 303, 307, 308)), None)
    if first is None:
        client_case.not_applicable(f"no POST of the client's was answered with a redirect: {seen.seen()}")
    target = first.response_header("Location") or ""
    followed = [r for r in seen.requests if r.sent_at > first.sent_at and not r.is_preflight() and r.path.split("?")[0] == target.split("?")[0]]
    return first, followed


@pytest.mark.requirement("WHIP-4.5-1")
async def test_client_follows_the_redirect(client_case):
    """SHALL: the client takes the 307's Location and asks there (how it asks is HTTP-11's business)."""
    seen = await client_case.observe("whip", "redirect")
    first, followed = _redirected(client_case, seen)
    client_case.expect(bool(followed), "WHIP-4.5-1",
                       message=f"POST {first.path} got {first.status} to {first.response_header('Location')}, "
                               f"which the client never asked; it sent: {seen.seen()}")


@pytest.mark.requirement("HTTP-11")
async def test_client_follows_a_307_with_the_same_method_and_body(client_case):
    """RFC 9110 §15.4.8: a 307 is followed with the method and body unchanged (the offer POSTed again)."""
    seen = await client_case.observe("whip", "redirect")
    first, followed = _redirected(client_case, seen)
    if first.status not in (307, 308):
        client_case.not_applicable(f"the redirect was a {first.status}, which may be followed as a GET")
    if not followed:
        client_case.not_applicable("the client did not follow the redirect (WHIP-4.5-1 grades that)")
    again = followed[0]
    client_case.expect(again.method == first.method and again.body == first.body, "HTTP-11",
                       message=f"after {first.method} {first.path} -> {first.status}, the client sent {again.method} "
                               f"{again.path} with a body of {len(again.body)} bytes (the original: {len(first.body)}, "
                               f"{'the same' if again.body == first.body else 'different'})")


@pytest.mark.requirement("WHIP-D-9")
async def test_client_resolves_a_relative_location_against_the_redirected_uri(client_case):
    """RFC 9110 §10.2.2: a relative Location is resolved against the URI of the request it answered,
    which after a redirect is the redirected one, not the URL the client was given or the host root.
    The session's requests (DELETE at the end) have to reach the URL resolved that way. A browser's CORS
    preflight names the request it is for (Access-Control-Request-Method), so a DELETE the browser then
    refused to send still shows where the client aimed it. A client that aims nothing at any session URL
    shows no resolution; one that ends its sessions given an absolute-path Location (the plain scenario)
    but sends nothing here has lost the URL the relative one named: a Fail."""
    seen = await client_case.observe("whip", "relative-location")
    created = seen.created()
    if created is None:
        client_case.not_applicable(f"the client made no session (no 201): {seen.seen()}")
    location = created.response_header("Location") or ""
    if location.startswith("/") or "://" in location:
        client_case.not_applicable(f"the 201's Location {location!r} is not relative (the server cannot make one)")
    aimed = seen.session_requests_aimed()
    if not aimed:
        # Nothing aimed anywhere: a lost session URL, or a client that never sends any. The plain scenario
        # (an absolute-path Location, same client) tells them apart.
        plain = await client_case.observe("whip", "plain")
        ended_there = [r.line() for r in plain.session_requests_aimed()]
        if not ended_there:
            client_case.not_applicable(f"the client sent no PATCH or DELETE anywhere, here or with an absolute-path "
                                       f"Location, so where it resolved the Location {location!r} cannot be seen: "
                                       f"{seen.seen()}")
        client_case.expect(False, "WHIP-D-9",
                           message=f"after the 201 with Location {location!r} (naming {seen.session_url()}) the client "
                                   f"sent no PATCH or DELETE at all, though given an absolute-path Location it sent "
                                   f"{ended_there}: the relative Location lost it its session URL; it sent: {seen.seen()}")
    session = seen.to_session()
    elsewhere = [_aimed_line(r) for r in aimed if r not in session]
    client_case.expect(not elsewhere, "WHIP-D-9",
                       message=f"Location {location!r} on POST {created.path} names {seen.session_url()}; the client's "
                               f"session requests went to {elsewhere}")


@pytest.mark.requirement("WHIP-4.5-6")
async def test_client_retries_a_503_after_its_retry_after(client_case):
    """MAY: the endpoint answers the first POST 503 with Retry-After: 7 (the `busy` scenario), a load that "will likely be
    alleviated after some delay" (RFC 9725 §4.5); the client tries again, no sooner than the Retry-After,
    "the minimum time that the user agent ought to wait". Supported when a retry came at or after it; a
    retry sooner, or none, is Unsupported ("ought to" is no MUST: giving up is allowed). The unknown-5xx
    case (`unavailable`, 533) grades what a refusal must not be taken for."""
    seen = await client_case.observe("whip", "busy")
    client_case.retried_after(seen, 503, "WHIP-4.5-6")


def _aimed_line(request: Request) -> str:
    if request.is_preflight():
        return f"{request.header('Access-Control-Request-Method')} {request.path} (its CORS preflight only, {request.status or 'no answer'})"
    return request.line()
