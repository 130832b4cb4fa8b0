"""Client cases graded on hand-made observations: what a real client did, written down as the recording
front saw it, so a case's reading of it is checked without starting a client (milliseconds)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from whip_whep_conformance.harness.clients.client_case import ClientCase
from whip_whep_conformance.harness.clients.client_process import Stopped
from whip_whep_conformance.harness.clients.observatory import Request
from whip_whep_conformance.harness.clients.observed import Observed
from whip_whep_conformance.harness.clients.scenario import scenario
from whip_whep_conformance.harness.grading import CaseRecord, ConformanceFailure, NotApplicable
from whip_whep_conformance.harness.wire import WireLog
from whip_whep_conformance.protocol import profiles
from whip_whep_conformance.suites.clients import test_whep_4_1_http_usage as whep_http
from whip_whep_conformance.suites.clients import test_whip_4_1_http_usage as whip_http
from whip_whep_conformance.suites.clients import test_whip_4_5_redirects as redirects
from whip_whep_conformance.suites.clients import test_whep_4_2_playback_session_setup as whep_setup
from whip_whep_conformance.suites.clients import test_whip_4_2_ingest_session_setup as setup

BASE = "http://127.0.0.1:9"
ENDPOINT = "/0123456789abcdef0123456789abcdef/webRTC/publish"


def _request(method: str, path: str, at: float, status: int, response_headers: list[tuple[str, str]] = ()) -> Request:
    return Request("main", method, path, [], b"v=0\r\n" if method == "POST" else b"", at, status,
                   list(response_headers), b"", at + 0.05)


def _observed(protocol: str, name: str, requests: list[Request]) -> Observed:
    return Observed(scenario(protocol, name), "a client", BASE + ENDPOINT, None, {"main": BASE}, requests, [], [],
                    Stopped(0, "SIGINT", 0.5, ""), True)


@dataclass(frozen=True)
class _Target:
    whip_profile: str = profiles.STANDARD.whip
    whep_profile: str = profiles.STANDARD.whep


@dataclass
class _Case:
    """The part of ClientCase a case's body uses, grading into a real CaseRecord (standard pair)."""

    seen: Observed
    record: CaseRecord
    target: _Target = _Target()

    async def observe(self, protocol: str, name: str) -> Observed:
        return self.seen

    def expect(self, ok: bool, *ids: str, message: str) -> bool:
        return self.record.expect(ok, *ids, message=message)

    def capability(self, supported: bool, req_id: str, message: str) -> bool:
        return self.record.capability(supported, req_id, message)

    def info(self, req_id: str, message: str) -> None:
        self.record.info(req_id, message)

    def not_applicable(self, reason: str):
        self.record.not_applicable(reason)

    retried_after = ClientCase.retried_after  # the retry cases' shared check, as the cases run it


def _grade(case_fn, seen: Observed) -> CaseRecord:
    record = CaseRecord(profiles.STANDARD.whip, profiles.STANDARD.whep, WireLog())
    try:
        asyncio.run(case_fn(_Case(seen, record)))
    except ConformanceFailure:
        pass
    return record


# Cloudflare's example clients retry a refused POST after 5 s; WHIPClient.disconnectStream() then DELETEs
# the endpoint URL, which ends the session the retry made (at the wrong URL: WHIP-4.2-14's Fail).
RETRIED_THEN_DELETED = [
    _request("POST", ENDPOINT, 1.0, 533),
    _request("POST", ENDPOINT, 6.0, 201, [("Location", ENDPOINT + "/s1")]),
    _request("DELETE", ENDPOINT, 9.0, 200),
]
# A client that takes the 533 for a session: it never POSTs again and DELETEs the endpoint.
TOOK_THE_REFUSAL = [_request("POST", ENDPOINT, 1.0, 533), _request("DELETE", ENDPOINT, 3.0, 405)]


@pytest.mark.parametrize("protocol, case_fn", [("whip", whip_http.test_client_takes_an_error_answer_as_no_session),
                                               ("whep", whep_http.test_player_takes_an_unknown_5xx_as_no_session)])
def test_a_delete_after_a_retry_made_a_session_is_not_taking_the_refusal_for_one(protocol, case_fn):
    retried = _grade(case_fn, _observed(protocol, "unavailable", RETRIED_THEN_DELETED))
    assert [c.verdict.value for c in retried.checks] == ["Pass"], retried.checks
    took = _grade(case_fn, _observed(protocol, "unavailable", TOOK_THE_REFUSAL))
    assert [c.verdict.value for c in took.checks] == ["Fail"], took.checks
    assert "DELETE " + ENDPOINT in took.checks[0].message


def _preflight(path: str, method: str, at: float) -> Request:
    return Request("main", "OPTIONS", path, [("Access-Control-Request-Method", method)], b"", at, 200, [], b"", at + 0.05)


VIA = "/via" + ENDPOINT
REDIRECTED = [
    _request("POST", ENDPOINT, 1.0, 307, [("Location", VIA)]),
    _request("POST", VIA, 1.2, 201, [("Location", "publish/s1")]),  # names /via/…/webRTC/publish/s1
]


@pytest.mark.parametrize("after, verdict, says", [
    # Cloudflare's WHIPClient under RFC 9725: disconnectStream() DELETEs the endpoint URL; the endpoint's
    # preflight does not allow DELETE, so the browser sends only the preflight
    ([_preflight(ENDPOINT, "DELETE", 5.0)], "Fail", f"DELETE {ENDPOINT} (its CORS preflight only"),
    ([_preflight(ENDPOINT, "DELETE", 5.0), _request("DELETE", ENDPOINT, 5.1, 200)], "Fail", f"DELETE {ENDPOINT} -> 200"),
    ([_preflight(VIA + "/s1", "DELETE", 5.0), _request("DELETE", VIA + "/s1", 5.1, 200)], "Pass", ""),
    ([], "Not applicable", "no PATCH or DELETE"),  # nothing aimed at any session: no resolution to see
])
def test_relative_location_is_judged_by_where_the_session_requests_were_aimed(after, verdict, says):
    seen = _observed("whip", "relative-location", REDIRECTED + after)
    try:
        record = _grade(redirects.test_client_resolves_a_relative_location_against_the_redirected_uri, seen)
    except NotApplicable as skipped:
        assert verdict == "Not applicable" and says in str(skipped)
        return
    assert [c.verdict.value for c in record.checks] == [verdict], record.checks
    assert says in record.checks[0].message


def _not_published_retry_after() -> int:
    """The 409's Retry-After the `not-published` scenario's server gives (the server's default: 5)."""
    options = scenario("whep", "not-published").server
    given = [o.split("=", 1)[1] for o in options if o.startswith("--not-published-retry-after=")]
    return int(given[0]) if given else 5


@pytest.mark.parametrize("gap_s, verdict", [(5.0, "Unsupported"), (None, "Supported")])
def test_a_player_waiting_a_fixed_5_s_is_not_taken_for_one_honouring_retry_after(gap_s, verdict):
    """Cloudflare's WHEPClient retries any refused POST 5 s later whatever Retry-After says; the scenario's
    Retry-After must differ from that for the case to tell the two apart (None: the player waits as told)."""
    wait = _not_published_retry_after()
    gap = gap_s if gap_s is not None else float(wait)
    posts = [Request("main", "POST", ENDPOINT, [], b"v=0\r\n", t, 409, [("Retry-After", str(wait))], b"", t + 0.05)
             for t in (1.0, 1.05 + gap, 1.1 + 2 * gap)]
    record = _grade(whep_setup.test_player_retries_a_409_after_its_retry_after, _observed("whep", "not-published", posts))
    assert [c.verdict.value for c in record.checks] == [verdict], record.checks


@pytest.mark.parametrize("gaps, says", [([5.01, 5.01, 5.01], "not backing off"), ([7.0, 14.0], "(backing off)")])
def test_equal_waits_are_not_called_backing_off(gaps, says):
    """Cloudflare's WHEPClient waits 5.01 s every time: the message said "backing off" for equal waits."""
    at, posts = 1.0, []
    for gap in [0.0, *gaps]:
        at += gap
        posts.append(Request("main", "POST", ENDPOINT, [], b"v=0\r\n", at, 409, [("Retry-After", "7")], b"", at))
    record = _grade(whep_setup.test_player_retries_a_409_after_its_retry_after, _observed("whep", "not-published", posts))
    assert says in record.checks[0].message, record.checks


# Cloudflare's example WHIPClient: disconnectStream() DELETEs the endpoint URL; the Location is never kept.
DELETED_THE_ENDPOINT = [
    _request("POST", ENDPOINT, 1.0, 201, [("Location", ENDPOINT + "/s1")]),
    _request("DELETE", ENDPOINT, 5.0, 200),
]


@pytest.mark.parametrize("pair, verdict", [(profiles.STANDARD, "Fail"), (profiles.CLOUDFLARE, "Info")])
def test_a_delete_on_the_endpoint_url_is_info_only_in_cloudflares_dialect(pair, verdict):
    """The issue's rule: Cloudflare's profile reports a DELETE to the endpoint URL as Info (its service takes
    it, BRIEF-CF-1), the standard profile as a Fail (RFC 9725 §4.2: the Location's URL)."""
    record = CaseRecord(pair.whip, pair.whep, WireLog())
    case = _Case(_observed("whip", "plain", DELETED_THE_ENDPOINT), record)
    case.target = _Target(pair.whip, pair.whep)
    try:
        asyncio.run(setup.test_client_ends_its_session_with_delete_on_the_location(case))
    except ConformanceFailure:
        pass
    assert [c.verdict.value for c in record.checks] == [verdict], (
        f"{pair.id}: a DELETE on the endpoint URL, not the Location, should be {verdict}: {record.checks}")


class _Scenarios(_Case):
    """A case whose scenarios were each observed apart (name -> Observed)."""

    def __init__(self, by_name: dict[str, Observed], record: CaseRecord) -> None:
        super().__init__(by_name["relative-location"], record)
        self.by_name = by_name

    async def observe(self, protocol: str, name: str) -> Observed:
        return self.by_name[name]


def test_a_client_that_ends_sessions_but_sends_nothing_after_a_relative_location_lost_its_url():
    """simple-whip-client: given an absolute-path Location it DELETEs; given a relative one it builds no
    usable URI and sends nothing at all. That is the relative Location misread, not "nothing to see"."""
    ended = [_request("POST", ENDPOINT, 1.0, 201, [("Location", ENDPOINT + "/s1")]),
             _request("DELETE", ENDPOINT + "/s1", 4.0, 200)]
    record = CaseRecord(profiles.STANDARD.whip, profiles.STANDARD.whep, WireLog())
    case = _Scenarios({"relative-location": _observed("whip", "relative-location", REDIRECTED),
                       "plain": _observed("whip", "plain", ended)}, record)
    try:
        asyncio.run(redirects.test_client_resolves_a_relative_location_against_the_redirected_uri(case))
    except ConformanceFailure:
        pass
    assert [c.verdict.value for c in record.checks] == ["Fail"], (
        f"a client that DELETEs given an absolute-path Location but sends nothing given a relative one: {record.checks}")


# A session the server saw complete one DTLS handshake (GET /client/v4/sessions' `dtls.handshakes`).
SHOWN = "AB:" * 31 + "AB"
OTHER = "CD:" * 31 + "CD"


def _sdp(fingerprint: str) -> bytes:
    return (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
            f"c=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\na=setup:actpass\r\n"
            f"a=fingerprint:sha-256 {fingerprint}\r\n").encode()


def _with_handshakes(protocol: str, requests: list[Request], handshakes: list[dict]) -> Observed:
    seen = _observed(protocol, "plain", requests)
    seen.sessions = [{"url": ENDPOINT + "/s1", "connected": bool(handshakes), "checks_received": 3, "ended_by": "delete",
                      "dtls": {"state": "connected" if handshakes else "failed", "handshakes": handshakes}}]
    return seen


def _posted(body: bytes) -> Request:
    return Request("main", "POST", ENDPOINT, [("Content-Type", "application/sdp")], body, 1.0, 201,
                   [("Location", ENDPOINT + "/s1")], b"", 1.05)


HANDSHAKE = {"presented": {"sha-256": SHOWN}, "key": "EC P-256"}


@pytest.mark.parametrize("offered, verdict", [(SHOWN.lower(), "Pass"), (OTHER, "Fail")], ids=["same", "other"])
def test_the_presented_certificate_is_matched_against_the_offers_fingerprint(offered, verdict):
    """RFC 8122 §5 compares hex case-blind; a Fail names both fingerprints."""
    from whip_whep_conformance.suites.clients import test_whip_4_4_webrtc_constraints as constraints

    record = _grade(constraints.test_client_presents_the_certificate_its_offer_names,
                    _with_handshakes("whip", [_posted(_sdp(offered))], [HANDSHAKE]))
    assert [c.verdict.value for c in record.checks] == [verdict], record.checks
    assert verdict == "Pass" or (SHOWN in record.checks[0].message and OTHER in record.checks[0].message), record.checks


def test_a_player_answering_a_server_offer_is_matched_against_its_answer():
    """draft-murillo-whep-01 §4.2: the bodiless POST has no SDP; the PATCH's answer is the player's SDP."""
    from whip_whep_conformance.suites.clients import test_whep_4_5_webrtc_constraints as constraints

    answered = Request("main", "PATCH", ENDPOINT + "/s1", [("Content-Type", "application/sdp")], _sdp(SHOWN), 2.0, 204,
                       [], b"", 2.05)
    record = _grade(constraints.test_player_presents_the_certificate_its_sdp_names,
                    _with_handshakes("whep", [_posted(b""), answered], [HANDSHAKE]))
    assert [c.verdict.value for c in record.checks] == ["Pass"], record.checks


def test_no_handshake_seen_is_not_applicable_and_says_what_was_seen():
    from whip_whep_conformance.suites.clients import test_whip_4_4_webrtc_constraints as constraints

    record = CaseRecord(profiles.STANDARD.whip, profiles.STANDARD.whep, WireLog())
    with pytest.raises(NotApplicable, match=r"no DTLS handshake .*\(DTLS failed"):
        asyncio.run(constraints.test_client_presents_the_certificate_its_offer_names(
            _Case(_with_handshakes("whip", [_posted(_sdp(SHOWN))], []), record)))
