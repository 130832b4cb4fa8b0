"""RFC 9725 §4.2 — Ingest session setup: the POST, its 201, the answer, and teardown by DELETE."""

import pytest

from whip_whep_conformance.harness.judgments import http_fields, sdp_syntax
from whip_whep_conformance.harness.judgments.candidates import candidate_problem
from whip_whep_conformance.protocol import headers
from whip_whep_conformance.protocol.sdp import SdpSyntaxError, without_attribute, without_candidates

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.2-4")
async def test_offer_is_answered_201_created(case):
    """POST a valid offer to the endpoint: the answer comes with exactly 201 Created."""
    _, _, posted = await case.publish(arrange=False)
    case.expect(posted.status == 201, "WHIP-4.2-4", message=f"expected 201 Created, got {posted.describe()}")


@pytest.mark.requirement("WHIP-4.2-5")
async def test_answer_is_typed_application_sdp(case):
    """POST a valid offer: the 201 is typed application/sdp and its body is a session description.

    The one case that grades whether the body is SDP at all (RFC 8866 §5: an m= line has at least one
    format): every other case that needs the answer is Not applicable then, pointing here."""
    _, _, posted = await case.publish(arrange=False)
    if posted.status != 201:
        case.not_applicable(f"no 201 to judge: the POST answered {posted.describe()} (graded under WHIP-4.2-4)")
    case.expect(posted.media_type == headers.SDP, "WHIP-4.2-5",
                message=f"Content-Type is {posted.response.headers.get('Content-Type')!r}, not application/sdp")
    try:
        sdp_syntax.parse(posted.body)
        parsed = ""
    except SdpSyntaxError as exc:
        parsed = str(exc)
    case.expect(not parsed, "WHIP-4.2-5", message=f"the body does not parse as SDP: {parsed}")


@pytest.mark.requirement("WHIP-4.2-6")
async def test_location_names_a_new_session(case):
    """POST two offers: each 201 has a Location, distinct from the endpoint and from each other."""
    urls = await case.live_input()
    _, first_offer = await case.publisher_offer()
    first = await case.signalling.post_offer(urls.whip_url, first_offer)
    case.expect(first.location is not None, "WHIP-4.2-6", message=f"the {first.describe()} has no Location header")
    case.expect(first.location != urls.whip_url, "WHIP-4.2-6", message="Location is the endpoint URL itself")
    await case.signalling.delete(first.location)
    _, second_offer = await case.publisher_offer()
    second = await case.signalling.post_offer(urls.whip_url, second_offer)
    case.expect(second.location not in (None, first.location), "WHIP-4.2-6",
                message=f"two sessions got the same Location {first.location}")


@pytest.mark.requirement("WHIP-4.2-3")
async def test_answer_mirrors_the_offer_m_sections(case):
    """POST an audio+video offer: the answer has the same m-sections, in order, kind and mid."""
    _, pc, posted = await case.publish()
    offer = sdp_syntax.parse(pc.localDescription.sdp)
    answer = sdp_syntax.parse(posted.body)
    offered = [(m.kind, m.mid) for m in offer.media]
    answered = [(m.kind, m.mid) for m in answer.media]
    case.expect(answered == offered, "WHIP-4.2-3", message=f"offer m-sections {offered}, answer m-sections {answered}")


@pytest.mark.requirement("WHIP-4.2-12")
async def test_answer_is_recvonly(case):
    """POST a sendonly offer: every m-section of the answer is recvonly."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    wrong = [(m.mid, m.direction) for m in answer.media if m.direction != "recvonly"]
    case.expect(not wrong, "WHIP-4.2-12", message=f"m-sections not recvonly (mid, direction): {wrong}")


@pytest.mark.requirement("WHIP-4.3.1-7")
async def test_etag_is_a_strong_entity_tag(case):
    """POST a valid offer: an ETag on the 201, if any, is a strong, quoted entity-tag."""
    _, _, posted = await case.publish()
    if posted.etag is None:
        case.not_applicable("the 201 carries no ETag (the session supports no ICE restart)")
    case.expect(http_fields.is_strong_entity_tag(posted.etag), "WHIP-4.3.1-7",
                message=f"ETag {posted.etag!r} is not a strong entity-tag (RFC 9110 §8.8.3)")


@pytest.mark.requirement("WHIP-4.3.2-3")
async def test_answer_lists_the_server_candidates(case):
    """POST a valid offer: the answer already lists the media server's ICE candidates."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    candidates = [c for m in answer.media for c in m.candidates]
    case.expect(bool(candidates), "WHIP-4.3.2-3", message="the answer has no a=candidate line")


@pytest.mark.requirement("WHIP-4.3.2-4")
async def test_answer_candidates_are_usable(case):
    """Every candidate of the answer is well formed and names a real address and port: the server cannot add more later."""
    _, _, posted = await case.publish()
    answer = sdp_syntax.parse(posted.body)
    problems = [p for m in answer.media for c in m.candidates if (p := candidate_problem(c))]
    if not any(m.candidates for m in answer.media):
        case.not_applicable("the answer has no candidates at all (graded under WHIP-4.3.2-3)")
    case.expect(not problems, "WHIP-4.3.2-4", message="; ".join(problems))


OFFERED_CANDIDATES = ["all", "some", "none"]


@pytest.mark.requirement("WHIP-4.3.2-1")
@pytest.mark.parametrize("candidates", OFFERED_CANDIDATES)
async def test_offer_may_carry_all_some_or_no_candidates(case, candidates):
    """POST an offer with all its candidates, only the first and no end-of-candidates (more to be
    trickled), or none: 201 each time."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    if candidates != "all":
        offer = without_candidates(offer, keep=1 if candidates == "some" else 0)
    posted = await case.signalling.post_offer(urls.whip_url, offer)
    case.capability(posted.status == 201, "WHIP-4.3.2-1", f"an offer with {candidates} of its candidates got {posted.describe()}")


@pytest.mark.requirement("WHIP-4.3.2-3", "WHIP-D-11")
async def test_publisher_connects_with_the_answer(case):
    """Apply the answer: ICE and DTLS connect using the answer's candidates alone."""
    _, pc, posted = await case.publish()
    state = await case.connect(pc, posted)
    case.expect(state == "connected", "WHIP-4.3.2-3",
                message=f"the publisher's connection ended {state!r} within {case.target.timeout_s:g} s")


@pytest.mark.requirement("WHIP-4.2-15")
async def test_delete_ends_the_session(case):
    """DELETE the session URL: 2xx."""
    _, _, posted = await case.publish()
    response = await case.signalling.delete(case.session_url(posted, "whip"))
    case.expect(200 <= response.status_code < 300, "WHIP-4.2-15",
                message=f"DELETE {posted.location} answered {response.status_code}")


@pytest.mark.requirement("WHIP-D-4")
async def test_deleted_session_is_gone(case):
    """DELETE the session URL twice: the second DELETE finds nothing (404)."""
    _, _, posted = await case.publish()
    session_url = case.session_url(posted, "whip")
    await case.signalling.delete(session_url)
    again = await case.signalling.delete(session_url)
    case.expect(again.status_code in (404, 410), "WHIP-D-4",
                message=f"a second DELETE answered {again.status_code}, so the session looks alive")


@pytest.mark.requirement("WHIP-D-4")
async def test_unknown_session_is_not_found(case):
    """DELETE a well-formed session URL that was never issued: 404."""
    _, _, posted = await case.publish()
    never_issued = case.session_url(posted, "whip").rstrip("/") + "0badc0de"
    response = await case.signalling.delete(never_issued)
    case.expect(response.status_code in (404, 410), "WHIP-D-4",
                message=f"DELETE on a never-issued session answered {response.status_code}")


@pytest.mark.requirement("WHIP-4.2-7")
@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
async def test_offer_with_wrong_content_type_is_refused(case, content_type):
    """POST a valid offer typed text/plain, application/json, or untyped: a 4xx."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    posted = await case.signalling.post_offer(urls.whip_url, offer, content_type=content_type)
    case.expect(await case.refusal_of_the_offer(posted, "whip", urls, f"an offer typed {content_type or '(none)'}"),
                "WHIP-4.2-7",
                message=f"an offer typed {content_type or '(none)'} got {posted.describe()}")


MALFORMED = {
    "empty": "",
    "not-sdp": "hello, WHIP",
    "version-only": "v=0\r\n",
    "truncated": None,  # filled from a real offer
    "no-ice-credentials": None,
    "no-fingerprint": None,
}


@pytest.mark.requirement("WHIP-4.2-8")
@pytest.mark.parametrize("kind", list(MALFORMED))
async def test_malformed_offer_is_refused(case, kind):
    """POST malformed SDP typed application/sdp (empty, garbage, truncated, no ICE credentials, no fingerprint): a 4xx."""
    urls = await case.live_input()
    _, offer = await case.publisher_offer()
    body = {
        "truncated": "\r\n".join(offer.splitlines()[:6]) + "\r\nm=video",
        "no-ice-credentials": without_attribute(without_attribute(offer, "ice-ufrag"), "ice-pwd"),
        "no-fingerprint": without_attribute(offer, "fingerprint"),
    }.get(kind, MALFORMED[kind])
    posted = await case.signalling.post_offer(urls.whip_url, body)
    case.expect(await case.refusal_of_the_offer(posted, "whip", urls, f"a {kind} offer"), "WHIP-4.2-8",
                message=f"a {kind} offer got {posted.describe()}")

