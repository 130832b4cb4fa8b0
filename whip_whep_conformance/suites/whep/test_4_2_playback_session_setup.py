"""WHEP playback session setup — draft-ietf-wish-whep-03 §4.2 / draft-murillo-whep-01 §4.1, §4.4, §4.5.

Each check names the rule in both revisions; the profile in force decides which one grades it.
"""

import pytest

from whip_whep_conformance.harness.case import answer_problem
from whip_whep_conformance.harness.judgments import http_fields
from whip_whep_conformance.protocol import headers
from whip_whep_conformance.harness.judgments import sdp_syntax

pytestmark = pytest.mark.asyncio

CREATED = ("WHEPL-4.2.1-1", "WHEP01-4.1-3")


@pytest.mark.requirement(*CREATED)
async def test_offer_is_answered_201_with_sdp_and_location(case):
    """POST a recvonly offer to the play URL: 201 Created, typed application/sdp, with a Location and
    an SDP answer (under draft-ietf-wish-whep-03 a 406 counter-offer is the other allowed outcome).

    The one WHEP case that grades whether the body is an answer: it must parse as SDP (RFC 8866 §5)
    and, being a JSEP answer to an actpass offer, take a DTLS role (RFC 8842 §5.3: never actpass).
    Every other case that needs the answer is Not applicable then ("no usable answer: see …")."""
    urls = await case.live_input()
    _, posted = await case.play(urls, arrange=False)
    if case.is_counter_offer(posted):
        case.not_applicable("the endpoint refused the offer with a 406 counter-offer, which draft-ietf-wish-whep-03 "
                            "§4.2.2 allows; the counter-offer is graded in test_4_2_2_server_offers")
    case.expect(posted.status == 201, *CREATED, message=f"expected 201 Created, got {posted.describe()}")
    case.expect(posted.media_type == headers.SDP, *CREATED,
                message=f"Content-Type is {posted.response.headers.get('Content-Type')!r}")
    case.expect(posted.location is not None, *CREATED, message="the 201 has no Location header")
    problem = answer_problem(posted.body)
    case.expect(problem is None, *CREATED, message=f"the 201's body is no SDP answer: {problem[1] if problem else ''}")


@pytest.mark.requirement(*CREATED)
async def test_answer_mirrors_the_offer_m_sections(case):
    """POST an audio+video offer: the answer has the same m-sections, in order, kind and mid."""
    urls = await case.live_input()
    pc, posted = await case.play(urls)
    offer = sdp_syntax.parse(pc.localDescription.sdp)
    answer = sdp_syntax.parse(posted.body)
    offered = [(m.kind, m.mid) for m in offer.media]
    answered = [(m.kind, m.mid) for m in answer.media]
    case.expect(answered == offered, *CREATED, message=f"offer m-sections {offered}, answer m-sections {answered}")


@pytest.mark.requirement("WHEPL-4.2.5-4", "WHEP01-4.1-5")
async def test_answer_is_sendonly(case):
    """POST a recvonly offer: every accepted m-section of the answer is sendonly."""
    urls = await case.live_input()
    _, posted = await case.play(urls)
    answer = sdp_syntax.parse(posted.body)
    wrong = [(m.mid, m.direction) for m in answer.media if not m.rejected and m.direction != "sendonly"]
    case.expect(not wrong, "WHEPL-4.2.5-4", "WHEP01-4.1-5", message=f"m-sections not sendonly (mid, direction): {wrong}")


@pytest.mark.requirement("WHEPL-4.5.1-1", "WHEP01-4.5-1")
async def test_answer_bundles_every_accepted_mid(case):
    """POST a BUNDLE offer: the answer bundles every accepted mid and multiplexes RTCP."""
    urls = await case.live_input()
    _, posted = await case.play(urls)
    answer = sdp_syntax.parse(posted.body)
    accepted = {m.mid for m in answer.media if not m.rejected}
    case.expect(bool(answer.bundle_groups) and accepted <= answer.bundled_mids, "WHEPL-4.5.1-1", "WHEP01-4.5-1",
                message=f"BUNDLE groups {answer.bundle_groups}, accepted mids {sorted(accepted)}")
    no_mux = [m.mid for m in answer.media if not m.rejected and not m.rtcp_mux]
    case.expect(not no_mux, "WHEPL-4.5.1-1", "WHEP01-4.5-1", message=f"no a=rtcp-mux in m-sections {no_mux}")


@pytest.mark.requirement("HTTP-1")
async def test_etag_is_a_strong_entity_tag(case):
    """POST a recvonly offer: an ETag on the 201, if any, is a strong, quoted entity-tag."""
    urls = await case.live_input()
    _, posted = await case.play(urls)
    if posted.etag is None:
        case.not_applicable("the 201 carries no ETag")
    case.expect(http_fields.is_strong_entity_tag(posted.etag), "HTTP-1",
                message=f"ETag {posted.etag!r} is not a strong entity-tag")


@pytest.mark.requirement("WHEPL-4.4.2-3", "WHEP01-4.4-2")
async def test_viewer_connects_with_the_answer(case):
    """Apply the answer: it lists the server's candidates, and ICE and DTLS connect with them."""
    urls = await case.live_input()
    pc, posted = await case.play(urls)
    answer = sdp_syntax.parse(posted.body)
    case.expect(any(m.candidates for m in answer.media), "WHEPL-4.4.2-3", "WHEP01-4.4-2",
                message="the answer has no a=candidate line")
    state = await case.connect(pc, posted, "whep")
    case.expect(state == "connected", "WHEPL-4.4.2-3", "WHEP01-4.4-2",
                message=f"the viewer's connection ended {state!r} within {case.target.timeout_s:g} s")


@pytest.mark.requirement("WHEPL-4.2.4-1")
@pytest.mark.parametrize("content_type", ["text/plain", None])
async def test_offer_with_wrong_content_type_is_refused(case, content_type):
    """POST a valid offer typed text/plain or untyped: a 4xx."""
    urls = await case.live_input()
    _, offer = await case.viewer_offer()
    posted = await case.signalling.post_offer(case.whep_url(urls), offer, content_type=content_type)
    case.expect(await case.refusal_of_the_offer(posted, "whep", urls, f"an offer typed {content_type or '(none)'}"),
                "WHEPL-4.2.4-1",
                message=f"an offer typed {content_type or '(none)'} got {posted.describe()}")


@pytest.mark.requirement("WHEPL-4.2.4-1")
@pytest.mark.parametrize("body", ["", "v=0\r\n", "hello, WHEP"], ids=["empty", "version-only", "not-sdp"])
async def test_malformed_offer_is_refused(case, body):
    """POST malformed SDP typed application/sdp: a 4xx."""
    urls = await case.live_input()
    posted = await case.signalling.post_offer(case.whep_url(urls), body)
    case.expect(await case.refusal_of_the_offer(posted, "whep", urls, "malformed SDP"), "WHEPL-4.2.4-1",
                message=f"malformed SDP got {posted.describe()}")


@pytest.mark.requirement("WHEPL-4.3-1", "WHEP01-4.3-4")
async def test_delete_ends_the_session(case):
    """DELETE the session URL: 2xx."""
    urls = await case.live_input()
    _, posted = await case.play(urls, counter_offer_ok=True)
    response = await case.signalling.delete(case.session_url(posted, "whep"))
    case.expect(200 <= response.status_code < 300, "WHEPL-4.3-1", "WHEP01-4.3-4",
                message=f"DELETE {posted.location} answered {response.status_code}")


@pytest.mark.requirement("HTTP-16")
async def test_deleted_session_is_gone(case):
    """DELETE the session URL twice: the second DELETE finds nothing (404)."""
    urls = await case.live_input()
    _, posted = await case.play(urls, counter_offer_ok=True)
    session_url = case.session_url(posted, "whep")
    await case.signalling.delete(session_url)
    again = await case.signalling.delete(session_url)
    case.expect(again.status_code in (404, 410), "HTTP-16",
                message=f"a second DELETE answered {again.status_code}, so the session looks alive")


NO_PUBLISHER = ("WHEPL-4.2.8-1", "WHEP01-4.3-1")


@pytest.mark.requirement(*NO_PUBLISHER, "HTTP-8")
async def test_playback_before_publication_is_409_with_retry_after(case):
    """POST a viewer offer for an input nobody publishes: played (not applicable), or 409 with Retry-After in seconds."""
    urls = await case.live_input()
    _, offer = await case.viewer_offer()
    posted = await case.signalling.post_offer(case.whep_url(urls), offer, arrange_publisher=False)
    if posted.status >= 500:
        await _grade_failure_before_publication(case, urls, posted)
    if posted.status != 409:
        case.not_applicable(f"the endpoint does not refuse playback before publication (it answered {posted.status})")
    retry_after = posted.response.headers.get("Retry-After")
    if retry_after is not None:
        case.expect(headers.delay_seconds(retry_after) is not None or headers.http_date(retry_after) is not None, "HTTP-8",
                    message=f"Retry-After {retry_after!r} is neither delay-seconds nor an HTTP-date")
    case.expect(headers.delay_seconds(retry_after) is not None, *NO_PUBLISHER,
                message=f"the 409 has Retry-After {retry_after!r}, not a whole number of seconds")


async def _grade_failure_before_publication(case, urls, before) -> None:
    """A 5xx to a viewer of an input nobody publishes. If the same offer is taken once the input is live
    (the control), the endpoint needs a live publication and said so with a 5xx, not the 409 + Retry-After
    that §4.2.8 prescribes: a Fail of that rule, graded here once. Otherwise the endpoint fails viewers
    whether or not anything is live: graded by the 201 case."""
    if case.is_publishing(urls) or urls.whip_url is None:
        case.not_applicable(f"a viewer got {before.describe()}; no publication to compare with")
    await case.start_publisher("vp8", urls)
    _, offer = await case.viewer_offer()
    after = await case.signalling.post_offer(case.whep_url(urls), offer, arrange_publisher=False)
    if after.status != 201 and not case.is_counter_offer(after):
        case.not_applicable(f"a viewer got {before.describe()} before publication and {after.describe()} after it: "
                            f"not about publication (graded under {' / '.join(CREATED)})")
    case.expect(False, *NO_PUBLISHER,
                message=f"before publication a viewer's POST got {before.describe()}; once the input was live the same "
                        f"offer got {after.describe()}: an endpoint that needs a live publication answers 409 with Retry-After")
