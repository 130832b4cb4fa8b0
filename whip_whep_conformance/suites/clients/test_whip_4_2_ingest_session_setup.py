"""RFC 9725 §4.2 as the client's side of it: the offer POSTed, the session ended by DELETE."""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.clients.observed import Observed
from whip_whep_conformance.protocol import headers, profiles, sdp

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("WHIP-4.2-1")
async def test_client_posts_its_offer_to_the_endpoint(client_case):
    """The client makes a JSEP offer and POSTs it to the endpoint URL it was given."""
    seen = await client_case.observe("whip", "plain")
    offer = seen.offer()
    client_case.expect(offer is not None and any(m.kind in ("audio", "video") for m in offer.media), "WHIP-4.2-1",
                       message=f"no POST to the endpoint URL {seen.endpoint_path} carried an SDP offer with media; "
                               f"the client sent: {seen.seen()}")


@pytest.mark.requirement("WHIP-4.2-2")
async def test_client_types_its_offer_application_sdp(client_case):
    """The offer POST is typed application/sdp and its body is the offer (an SDP description, not empty)."""
    seen = await client_case.observe("whip", "plain")
    posts = seen.endpoint_posts()
    if not posts:
        client_case.not_applicable(f"the client sent no POST to the endpoint: {seen.seen()}")
    types = [p.header("Content-Type") for p in posts]
    bodies = [p.text.lstrip()[:12] or "(empty)" for p in posts]
    client_case.expect(all(headers.media_type(t) == headers.SDP for t in types)
                       and all(p.text.lstrip().startswith("v=0") for p in posts), "WHIP-4.2-2",
                       message=f"the endpoint POSTs were typed {types} with bodies starting {bodies}")


@pytest.mark.requirement("WHIP-4.2-14")
async def test_client_ends_its_session_with_delete_on_the_location(client_case):
    """Told to stop (SIGINT), the client DELETEs the session URL the 201's Location named.

    Cloudflare's pair (whip-06 + murillo-01): a DELETE on the endpoint URL that the server took (2xx) is
    reported as Info, not failed. draft-ietf-wish-whip-06 §4 words the same MUST as RFC 9725 §4.2 (the
    resource URL), but Cloudflare's service ends a live input's publisher on a DELETE of its publish URL
    (BRIEF-CF-1: its own example client stops that way), so against that dialect such a client does end
    its session; the issue that defines client conformance asks for exactly this split. Under the
    standard pair it stays a Fail: RFC 9725 servers answer it 405 and the session lives on."""
    seen = await client_case.observe("whip", "plain")
    if seen.created() is None:
        client_case.not_applicable(f"the client made no session (no 201): {seen.seen()}")
    deletes = seen.deletes()
    to_endpoint = [r for r in seen.by_method("DELETE") if r.path.split("?")[0] == seen.endpoint_path
                   and 200 <= r.status < 300]
    if not deletes and to_endpoint and client_case.target.whip_profile == profiles.WHIP_06:
        client_case.info("WHIP-4.2-14", f"Cloudflare's dialect: the client ended its session with "
                                        f"{to_endpoint[0].line()} on the endpoint URL, which Cloudflare's service "
                                        f"takes (BRIEF-CF-1), not on its Location {seen.session_url()}; under "
                                        f"RFC 9725 this is a Fail")
        return
    client_case.expect(bool(deletes), "WHIP-4.2-14",
                       message=f"after {seen.stopped.how} the client exited ({seen.stopped.exit_code}) "
                               f"without a DELETE on {seen.session_url()}; it sent: {seen.seen()}")


def _av(seen: Observed) -> list[sdp.Media]:
    """The offer's audio and video m-sections (NA without an offer: WHIP-4.2-1 grades that)."""
    offer = seen.offer()
    return [m for m in offer.media if m.kind in ("audio", "video")] if offer is not None else []


@pytest.mark.requirement("WHIP-4.2-9")
async def test_client_offer_marks_its_media_sendonly(client_case):
    """SHOULD: a publisher's offer marks every audio/video m-section sendonly."""
    seen = await client_case.observe("whip", "plain")
    media = _av(seen)
    if not media:
        client_case.not_applicable(f"no offer with media to read: {seen.seen()}")
    directions = [f"{m.mid}:{m.direction}" for m in media]
    client_case.expect(all(m.direction == "sendonly" for m in media), "WHIP-4.2-9",
                       message=f"the offer's media are marked {directions}, not all sendonly")


@pytest.mark.requirement("WHIP-4.2-11")
async def test_client_offer_marks_no_media_inactive_or_recvonly(client_case):
    """MUST NOT: no m-section of a publisher's offer is inactive or recvonly (sendrecv is a SHOULD, 4.2-9)."""
    seen = await client_case.observe("whip", "plain")
    media = _av(seen)
    if not media:
        client_case.not_applicable(f"no offer with media to read: {seen.seen()}")
    bad = [f"{m.mid}:{m.direction}" for m in media if m.direction in ("inactive", "recvonly")]
    client_case.expect(not bad, "WHIP-4.2-11", message=f"the offer marks m-sections {bad}")


@pytest.mark.requirement("WHIP-D-14")
async def test_client_sends_media_on_every_sendonly_m_section(client_case):
    """SHOULD (derived): an m-section offered sendonly is a stream the client wishes to send (RFC 3264
    §5.1), and WHIP ingests what it sends; once the session is up, RTP reaches the server on each such
    section the answer accepted. A section that stays silent is media the client offered and never
    sent: the partial ingest RFC 9725 §4.4.3 calls misleading to users. Read from the server's RTP
    count per mid (GET /client/v4/sessions), at the end of the plain scenario's hold."""
    seen = await client_case.observe("whip", "plain")
    offer, answer, view = seen.offer(), seen.answer(), seen.session_view()
    if offer is None or answer is None or view is None or not view.get("connected"):
        client_case.not_applicable(f"the client's session never came up with an offer and answer to read: {seen.seen()}")
    accepted = {m.mid for m in answer.media if not m.rejected}
    sending = [(m.mid, m.kind) for m in offer.media
               if m.kind in ("audio", "video") and m.direction in ("sendonly", "sendrecv") and m.mid in accepted]
    if not sending:
        client_case.not_applicable(f"the offer has no sendonly audio or video section the answer accepted: "
                                   f"{[(m.mid, m.kind, m.direction) for m in offer.media]}")
    packets = view.get("rtp_packets", {})
    silent = [f"{kind} (mid {mid})" for mid, kind in sending if not packets.get(str(mid))]
    client_case.expect(not silent, "WHIP-D-14",
                       message=f"no RTP reached the server on {silent} in the {seen.scenario.hold_s:g} s the session "
                               f"was held; RTP packets per mid: {packets}")


@pytest.mark.requirement("WHIP-4.2-13")
async def test_client_answers_consent_checks_while_its_session_runs(client_case):
    """SHALL: consent freshness (RFC 7675) is how a full-ICE media server tells a live publisher from one
    gone silent, which works only if the client keeps answering the server's checks (STUN Binding
    requests on the selected pair, RFC 8445 §7.3) for as long as the session runs, not only during ICE.
    The session is held through two consent checks (~10 s); two unanswered in a row fail it (a client
    that stopped answering), one is a lost packet. The row is joint: the server cases grade its half."""
    seen = await client_case.observe("whip", "consent")
    client_case.consent_kept(seen, "WHIP-4.2-13")
