"""The `case` fixture: one conformance case's HTTP client, peers, live input and checks."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin
from typing import AsyncIterator

import allure
import pytest
import httpx
import pytest_asyncio
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcicetransport import candidate_to_aioice
from aiortc.sdp import candidate_from_sdp

from whip_whep_conformance.protocol import headers, link, profiles, sdp, sdpfrag, whep_extensions
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.harness import player, rules
from whip_whep_conformance.harness.judgments import sdp_syntax, sdpfrag_syntax
from whip_whep_conformance import registry
from whip_whep_conformance.harness.grading import ArrangeFailed, CaseRecord, NotApplicable
from whip_whep_conformance.webrtc.ice_restart import IceRestart
from whip_whep_conformance.harness.client import LiveInputsApi, LiveInputUrls, Posted, SignallingClient
from whip_whep_conformance.harness.target import Target
from whip_whep_conformance.harness.wire import TargetUnreachable, WireClient, WireLog, url_secrets

CASE = pytest.StashKey[CaseRecord]()
# The brief's codec promises, by the suite's codec names (player.VIDEO_CODECS).
CODEC_REQUIREMENT = {"vp9": "BRIEF-CODEC-1", "vp8": "BRIEF-CODEC-2", "h264": "BRIEF-CODEC-3"}
# Statuses that say nothing about an offer (its codecs, its form): refused for who we are or how often we ask.
NOT_ABOUT_THE_OFFER = (401, 403, 404, 409, 429)

# The WHEP revisions with the 406 counter-offer: draft-ietf-wish-whep-03 §4.2.2, and -04 §4.3.2 (the
# editor's copy words it the same). The suite's own reading, not the reference server's.
COUNTER_OFFER_PROFILES = frozenset({profiles.WHEP_03, profiles.WHEP_04})


# The rules that grade a POST's response ("created", "answered", "session-url", "dtls-role" in
# harness/rules.py): a case that only arranges a session with that POST points at them when the POST
# fails, rather than grading the rule again.


@dataclass
class Played(Posted):
    """A WHEP POST that arranged a session: its 201 (an answer), or under draft-ietf-wish-whep-03 a 406
    counter-offer that the suite's player answered by PATCH (§4.2.2)."""

    counter_offer: bool = False
    answer_patch: httpx.Response | None = None  # the PATCH that carried the player's answer to a counter-offer

    # The session's entity-tag, the If-Match baseline of its trickle PATCHes. draft-ietf-wish-whep-03
    # §4.4.1 defines where the first one is given only for the "201 Created" to the POST; §4.2.2 (the
    # 406 counter-offer and the PATCH carrying the player's answer, answered "204 No Content") names
    # no ETag, nor does its example. A counter-offer session has no 201, so -03 names no place for its
    # first tag: the suite takes the one the server gave on that flow, the latest first (the answer
    # PATCH's 2xx, where the session came to be — RFC 9110 §8.8.3: a 2xx's ETag is the tag of the
    # state it left — else the 406's). When neither has one a player has no tag to send: the cases
    # about the tag itself (a stale one gets 412, a missing one 428, sessions use tags) are Not
    # applicable (NO_COUNTER_OFFER_TAG), and trickle PATCHes use If-Match: *, which RFC 9110 §13.1.1
    # makes true for any existing resource.
    @property
    def etag(self) -> str | None:
        if not self.counter_offer:
            return self.response.headers.get("ETag")
        answered = self.answer_patch.headers.get("ETag") if self.answer_patch is not None else None
        return answered or self.response.headers.get("ETag")

    @classmethod
    def of(cls, posted: Posted) -> "Played":
        """The WHEP POST `posted` as a session that is yet to be arranged (no counter-offer followed)."""
        return cls(posted.response, posted.request_url, posted.redirects)

    @property
    def etag_source(self) -> str:
        """Which response gave `etag`, for messages ("the 201's", "the 406 counter-offer's", ...)."""
        if not self.counter_offer:
            return f"the {self.status}'s"
        if self.answer_patch is not None and self.answer_patch.headers.get("ETag"):
            return f"the {self.answer_patch.status_code} to the answer PATCH's"
        return "the 406 counter-offer's"


NO_COUNTER_OFFER_TAG = ("the session was made by a 406 counter-offer (draft-ietf-wish-whep-03 §4.2.2) and neither the "
                        "406 nor the reply to the answer PATCH carried an ETag: -03 §4.4.1 defines the first entity-tag "
                        "only on a 201, so this session has no tag for a player to match")


def answer_problem(answer: str) -> tuple[str, str] | None:
    """Why a 201's body is no answer a peer can apply, and which kind of rule says so ("answer": not SDP;
    "dtls-role": a=setup:actpass, which only an offer may say, RFC 8842 §5.3); None when it is usable.

    The suite's own judgment, made before aiortc sees the text: aiortc's parser stops with a bare
    AssertionError on what it cannot read (a format-less m-line), which says nothing to a vendor."""
    try:
        desc = sdp_syntax.parse(answer)
    except sdp.SdpSyntaxError as exc:
        return "answer", f"the body is not SDP: {exc}"
    if not desc.media:
        return "answer", "the body has no m-section"
    actpass = [m.mid for m in desc.media if not m.rejected and m.setup == "actpass"]
    if actpass:
        return "dtls-role", f"m-sections {actpass} say a=setup:actpass, as an offer does: the body is an offer, not an answer"
    return None


@dataclass
class RestartExchange:
    """One ICE restart as a client drives it: the PATCH's response, and whether the new ICE agent connected."""

    response: httpx.Response
    sent_ufrag: str  # the client's new ICE credentials (later trickle PATCHes speak for them)
    sent_pwd: str
    answer: sdpfrag.SdpFrag | None = None  # the 200's body, when it parsed
    connected: bool = False
    switched_at: float | None = None  # time.monotonic() when media moved to the new ICE session

    @property
    def status(self) -> int:
        return self.response.status_code


class Case:
    """What a test uses: verbs to talk to the target, and `expect` to grade what it saw."""

    def __init__(self, target: Target, record: CaseRecord, http: WireClient,
                 max_latency_ms: float | None = None, max_ttff_ms: float | None = None,
                 max_loss_pct: float | None = None, max_freeze_ms: float | None = None) -> None:
        self.target = target
        self.max_latency_ms, self.max_ttff_ms = max_latency_ms, max_ttff_ms
        self.max_loss_pct, self.max_freeze_ms = max_loss_pct, max_freeze_ms
        self.record = record
        self.http = http
        self.signalling = SignallingClient(http, target.token, may_create=target.may_create)
        self.api = LiveInputsApi(http, target.live_inputs, target.api_token, may_create=target.may_create) if target.live_inputs else None
        self._inputs: list[LiveInputUrls] = []
        self._peers: list[RTCPeerConnection] = []
        self._players: list[player.Player] = []
        self.expect = record.expect
        self.within = record.within
        self.capability = record.capability
        self.unsupported = record.unsupported
        self.info = record.info
        self.not_applicable = record.not_applicable
        self.signalling.on_conflict = self._publish_for_playback
        self._published: set[str] = set()  # WHEP URLs of the inputs this case publishes media to
        self._streams: list = []  # open event streams (wire.StreamedResponse)

    async def _publish_for_playback(self, whep_url: str, offer: bytes) -> bool:
        """A target that plays only live inputs with a publisher (409, WHEP §4.2.8, or a 5xx from one that
        says so badly): publish to the input first, in the first video codec the viewer offered, as a
        viewer would wait for one, so cases about playback still run. Not for WHIP URLs (no `whep_url`
        matches them): a WHIP POST's 5xx stands."""
        pairs = [*self._inputs, *([self._fixed_urls()] if self.target.endpoint and self.target.whep_endpoint else [])]
        urls = next((u for u in pairs if u.whep_url == whep_url), None)
        if urls is None or self.is_publishing(urls):
            return False  # not ours, or published already: the 409 stands
        await self.publish_media(_first_video_codec(offer), urls)
        return True

    def is_publishing(self, urls: LiveInputUrls) -> bool:
        """Whether this case already has a media publisher on `urls`."""
        return urls.whep_url in self._published

    # --- live inputs ---------------------------------------------------------------------
    async def live_input(self) -> LiveInputUrls:
        """A fresh publish/play pair from the live inputs API, or the fixed URLs given."""
        if self.api is None:
            if not (self.target.endpoint or self.target.whep_endpoint):
                self.not_applicable("no --endpoint, --whep-endpoint or --live-inputs given")
            return self._fixed_urls()
        response = await self.api.create()
        try:
            urls = LiveInputsApi.urls(response, self.api.collection_url)
        except ValueError as exc:
            raise RuntimeError(f"the live inputs API did not mint a publish/play pair: {exc}") from exc
        self._inputs.append(urls)
        return urls

    def _fixed_urls(self) -> LiveInputUrls:
        """The publish/play pair given as --endpoint/--whep-endpoint."""
        return LiveInputUrls(None, self.target.endpoint, self.target.whep_endpoint)

    def whip_url(self, urls: LiveInputUrls) -> str:
        if not urls.whip_url:
            self.not_applicable("no WHIP endpoint: the run is WHEP-only (--whep-endpoint without --endpoint)")
        return urls.whip_url

    def whep_url(self, urls: LiveInputUrls) -> str:
        if not urls.whep_url:
            self.not_applicable("no WHEP endpoint: give --whep-endpoint or --live-inputs")
        return urls.whep_url

    # --- peers ---------------------------------------------------------------------------
    def _track(self, pc: RTCPeerConnection) -> RTCPeerConnection:
        self._peers.append(pc)
        return pc

    async def publisher_offer(self) -> tuple[RTCPeerConnection, str]:
        pc = self._track(peer.publisher(self.target.ice_servers))
        return pc, await peer.local_offer(pc)

    async def viewer_offer(self, kinds: tuple[str, ...] = ("audio", "video"), data_channel: bool = False
                           ) -> tuple[RTCPeerConnection, str]:
        """A viewer's recvonly offer of `kinds`; `data_channel` adds an m=application section (SCTP) after them."""
        pc = self._track(peer.viewer(self.target.ice_servers, kinds))
        if data_channel:
            pc.createDataChannel("whep")
        return pc, await peer.local_offer(pc)

    def codec_peer(self, protocol: str, codecs: list[str]) -> RTCPeerConnection:
        """A publisher (WHIP) or player (WHEP) peer offering Opus and only `codecs` for video."""
        if protocol == "whip":
            return self._track(player.publisher(codecs, self.target.ice_servers))
        return self.new_player(codecs).pc

    def new_player(self, codecs: list[str] | None = None) -> player.Player:
        """A WHEP player (not yet offered), closed when the case ends."""
        the_player = player.Player(self.target.ice_servers, codecs=codecs)
        self._players.append(the_player)
        return the_player

    async def post_without_token(self, protocol: str) -> Posted:
        """POST a valid offer to a fresh WHIP or WHEP endpoint without the configured Bearer token."""
        if not self.target.token:
            self.not_applicable("no --token configured: the target authorises by URL (as Cloudflare does)")
        url, offer = await self.endpoint_and_offer(protocol, await self.live_input())
        return await self.signalling.post_offer(url, offer, with_token=False)

    async def endpoint_and_offer(self, protocol: str, urls: LiveInputUrls) -> tuple[str, str]:
        """The WHIP or WHEP endpoint of `urls` and a fresh publisher or viewer offer for it."""
        if protocol == "whip":
            return self.whip_url(urls), (await self.publisher_offer())[1]
        return self.whep_url(urls), (await self.viewer_offer())[1]

    async def publish(self, arrange: bool = True) -> tuple[LiveInputUrls, RTCPeerConnection, Posted]:
        """A WHIP session: a live input, a publisher offer, and the POST's response.

        `arrange` (the default): the POST only sets the case up, so anything but a 2xx whose body is
        SDP ends the case Not applicable, naming the rule that grades it (once, in its own case).
        Only the case about the POST's response itself passes False and grades what came."""
        urls = await self.live_input()
        url = self.whip_url(urls)
        pc, offer = await self.publisher_offer()
        posted = await self.signalling.post_offer(url, offer)
        if arrange:
            self.arranged(posted, "whip", "a publisher")
        return urls, pc, posted

    async def play(self, urls: LiveInputUrls, arrange: bool = True, counter_offer_ok: bool = False
                   ) -> tuple[RTCPeerConnection, Played]:
        """A WHEP session on `urls`: a viewer offer and the POST's response (see `publish` for `arrange`).

        Under draft-ietf-wish-whep-03 the endpoint may refuse the offer with a 406 counter-offer
        (§4.2.2). A case about the session (DELETE, PATCH) passes `counter_offer_ok`: the suite's
        player answers the counter-offer by PATCH, as a player must, and the returned peer is that
        player's; a case about the endpoint's answer has none to grade and is Not applicable."""
        pc, offer = await self.viewer_offer()
        posted = await self.signalling.post_offer(self.whep_url(urls), offer)
        played = Played.of(posted)
        if not arrange:
            return pc, played
        if self.is_counter_offer(played):
            if not counter_offer_ok:
                self.not_applicable("the endpoint refused the viewer's offer with a 406 counter-offer "
                                    "(draft-ietf-wish-whep-03 §4.2.2): there is no answer to grade; the counter-offer "
                                    "is graded in test_4_2_2_server_offers")
            return (await self.follow_counter_offer(played)).pc, played
        self.arranged(played, "whep", "a viewer")
        return pc, played

    def is_counter_offer(self, posted: Posted) -> bool:
        """A 406 carrying an SDP offer under a profile that defines it (draft-ietf-wish-whep-03 §4.2.2)."""
        return (self.target.whep_profile in COUNTER_OFFER_PROFILES and posted.status == 406
                and posted.media_type == headers.SDP and bool(posted.body.strip()))

    def proposal_amends_the_profile(self, *req_ids: str) -> None:
        """Open proposals (registry.PROPOSALS_SPEC, run under --whep-proposals) amend the drafts their rows name:
        under another WHEP profile (draft-murillo-whep-01 has no counter-offer to keep 406 for) the case is Not
        applicable."""
        for req in map(registry.get, req_ids):
            if not req.applies_to(self.target.whip_profile, self.target.whep_profile):
                self.not_applicable(f"{req.id} is a proposal to {', '.join(req.profiles)}; the WHEP profile in force "
                                    f"is {self.target.whep_profile}")

    def _rule(self, rule: str, protocol: str) -> str:
        """The ID of `rule` (harness/rules.py) in force for this target's profiles."""
        return rules.in_force(rule, protocol, self.target.whip_profile, self.target.whep_profile)

    def refused_for_the_offer(self, posted: Posted, what: str) -> bool:
        """Whether a 4xx to a bad offer speaks about the offer. A refusal of who we are or when we ask
        (401/403/404/409/429: simple-whip-server answers every POST 403 while its endpoint has a
        publisher) would pass a "malformed offer gets a 4xx" check vacuously: such a case is Not
        applicable instead. Other statuses are for the case to grade."""
        if posted.status in NOT_ABOUT_THE_OFFER:
            self.not_applicable(f"{what} got {posted.describe()}: a refusal of who we are or when we ask, "
                                "not of the offer, so it shows nothing about how malformed offers are refused")
        return 400 <= posted.status < 500

    async def refusal_of_the_offer(self, posted: Posted, protocol: str, urls: LiveInputUrls, what: str) -> bool:
        """Whether a bad offer's POST was refused (4xx) in a way that speaks about the offer; a refusal
        that cannot ends the case Not applicable, since a "bad offer gets a 4xx" check would pass vacuously:
        - a refusal of who we are or when we ask (NOT_ABOUT_THE_OFFER, see refused_for_the_offer);
        - the control: a well-formed offer POSTed to the same endpoint right after must be taken (2xx, or
          a -03 406 counter-offer) and not answered with the bad offer's status. An endpoint that answers
          every offer alike shows nothing about how it judges offers: janus-whep-server 1.1.0 in
          VideoRoom mode answers any POST holding "v=0" with a 406 counter-offer, never reading the offer
          (src/whep.js:257, 316), and simple-whip-server refuses every POST 403 while its endpoint has a
          publisher (src/whip.js:306-309)."""
        if not self.refused_for_the_offer(posted, what):
            return False
        url, offer = await self.endpoint_and_offer(protocol, urls)
        control = await self.signalling.post_offer(url, offer)
        taken = 200 <= control.status < 300 or (protocol == "whep" and self.is_counter_offer(control))
        if not taken:
            self.not_applicable(f"{what} got {posted.describe()}, but the control, a well-formed offer POSTed right "
                                f"after, was not taken either ({control.describe()}): the refusal shows nothing about "
                                "how the endpoint judges offers")
        if control.status == posted.status:
            self.not_applicable(f"{what} got {posted.describe()}, and so did the control, a well-formed offer POSTed "
                                "right after: the endpoint answers every offer so, which shows nothing about how it "
                                "judges them")
        return True

    def arranged(self, posted: Posted, protocol: str, what: str) -> None:
        """Check that a POST which only arranges the case made a session with an answer to work with;
        otherwise end the case Not applicable, naming the rule (graded in its own case) and what came.
        The case's wire log (in every report) shows the exchange."""
        name = protocol.upper()
        # Any 2xx made a session: "exactly 201" is graded once by the 201 case, and an answer in a 200
        # can still be judged by the rules about answers.
        if not 200 <= posted.status < 300:
            raise ArrangeFailed(f"arranging {what} failed: {name} POST answered {posted.describe()} "
                                f"(graded under {self._rule('created', protocol)})")
        if not posted.body.strip():
            raise ArrangeFailed(f"arranging {what} failed: the {name} POST's {posted.describe()} has an empty body "
                                f"(graded under {self._rule('answered', protocol)})")
        problem = answer_problem(posted.body)
        if problem is not None and problem[0] == "answer":
            raise ArrangeFailed(f"no usable answer: see {self._rule('answered', protocol)} ({problem[1]})")

    def session_url(self, posted: Posted, protocol: str) -> str:
        """The session URL of an arranged POST; a 201 without Location ends the case Not applicable."""
        if not posted.location:
            rule = self._rule("session-url", protocol)
            raise ArrangeFailed(f"arranging a session failed: the {protocol.upper()} POST's {posted.describe()} "
                                f"has no Location (graded under {rule})")
        return posted.location

    def answer_of(self, posted: Posted, protocol: str) -> sdp.SessionDescription:
        """The endpoint's answer parsed; one that is not SDP is graded once (WHIP-4.2-5 / WHEP §4.2.1), elsewhere Not applicable."""
        try:
            return sdp_syntax.parse(posted.body)
        except sdp.SdpSyntaxError as exc:
            raise ArrangeFailed(f"no usable answer: see {self._rule('answered', protocol)} (the body is not SDP: {exc})") from None

    async def follow_counter_offer(self, played: Played, trickle_only: bool = False) -> player.Player:
        """Answer a 406 counter-offer by PATCH, as a player must (draft-ietf-wish-whep-03 §4.2.2), and mark
        `played` so; a PATCH that is not taken ends the case (graded under WHEPL-4.2.2-6). `trickle_only`:
        the answer carries no candidates and the player starts no checks (its candidates go by PATCH)."""
        the_player, response = await self.answer_server_offer(played, trickle_only=trickle_only)
        self.answer_patch_ok(response)
        played.counter_offer, played.answer_patch = True, response
        return the_player

    def answer_patch_ok(self, response: httpx.Response) -> None:
        """A PATCH carrying the player's answer to a counter-offer was taken (2xx), or the case ends naming its rule."""
        if not 200 <= response.status_code < 300:
            raise ArrangeFailed(f"arranging a viewer failed: the PATCH answering the 406 counter-offer got "
                                f"{response.status_code} (graded under WHEPL-4.2.2-6)")

    async def connect(self, pc: RTCPeerConnection, posted: Posted, protocol: str | None = None) -> str:
        """Apply the answer and wait for ICE+DTLS; returns the final connection state.

        An answer no peer can apply (not SDP, an offer's a=setup:actpass, or text aiortc refuses) ends
        the case Not applicable ("no usable answer: see RULE"): the rule is graded in its own case."""
        protocol = protocol or _protocol_of(pc)
        problem = answer_problem(posted.body)
        if problem is not None:
            rule = "answered" if problem[0] == "answer" else "dtls-role"
            raise ArrangeFailed(f"no usable answer: see {self._rule(rule, protocol)} ({problem[1]})")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(posted.body, "answer"))
        except Exception as exc:  # aiortc's parser and negotiation raise bare AssertionError/ValueError
            raise ArrangeFailed(f"no usable answer: the suite's peer (aiortc) could not apply it: "
                                f"{type(exc).__name__}: {exc or 'no reason given'}") from None
        return await peer.wait_connected(pc, self.target.timeout_s)


    async def start_publisher(self, codec: str, urls: LiveInputUrls | None = None) -> tuple[LiveInputUrls, Posted]:
        """A live input (a new one, or `urls`) with a connected WHIP publisher sending `codec` video and Opus audio.

        A target that refuses the codec (a 4xx about the offer, or an answer without it) makes
        the case Unsupported for the brief's codec promise rather than an Error."""
        urls, _, posted = await self.publish_media(codec, urls)
        return urls, posted

    async def live_stream(self, urls: LiveInputUrls | None = None) -> LiveInputUrls:
        """Something playable live on `urls` (a new input if None), for cases that watch media without
        judging what it is: the suite publishes VP8 over WHIP; a WHEP-only run (no WHIP endpoint)
        plays what the user has live there."""
        urls = urls or await self.live_input()
        if not urls.whip_url:
            return urls
        return (await self.publish_media("vp8", urls))[0]

    async def publish_media(self, codec: str = "vp8", urls: LiveInputUrls | None = None
                            ) -> tuple[LiveInputUrls, RTCPeerConnection, Posted]:
        """As start_publisher, also returning the publisher's peer connection."""
        urls = urls or await self.live_input()
        if not urls.whip_url:  # only viewers need a WHEP URL (start_player): publishing needs none
            self.not_applicable("this case publishes the suite's own media (stamped frames, a chosen codec) over WHIP; "
                                "the run is WHEP-only (--whep-endpoint without --endpoint), so it plays only what is "
                                "already live: give --endpoint too")
        pc = self._track(player.publisher(codec, self.target.ice_servers))
        posted = await self.signalling.post_offer(urls.whip_url, await peer.local_offer(pc))
        if 400 <= posted.status < 500 and posted.status not in NOT_ABOUT_THE_OFFER:
            self.record.unsupported(CODEC_REQUIREMENT[codec],
                                    f"an offer of {player.VIDEO_CODECS[codec]} + Opus was refused: {posted.describe()}")
        self.arranged(posted, "whip", "a publisher")
        if not _answers_video(posted.body):
            self.record.unsupported(CODEC_REQUIREMENT[codec],
                                    f"the answer to an offer of {player.VIDEO_CODECS[codec]} + Opus rejects video")
        state = await self.connect(pc, posted, "whip")
        if state != "connected":
            raise ArrangeFailed(f"arranging a publisher failed: its connection ended {state!r} within "
                                f"{self.target.timeout_s:g} s (graded under WHIP-4.3.2-3)")
        self._published.add(urls.whep_url or "")
        return urls, pc, posted

    async def start_player(self, urls: LiveInputUrls) -> tuple[player.Player, Played]:
        """A WHEP player on `urls`, connected by the flow the profile allows: the endpoint's 201 answer,
        or under draft-ietf-wish-whep-03 its 406 counter-offer answered by PATCH (§4.2.2).

        A step that fails ends the case Not applicable, naming the rule graded in its own case
        ("arranging a viewer failed: WHEP POST answered 500 …"): the cases that play grade what they
        are about, not the flow."""
        the_player = self.new_player()
        offer = await peer.local_offer(the_player.pc)
        started = time.monotonic()
        posted = await self.signalling.post_offer(self.whep_url(urls), offer)
        played = Played.of(posted)
        if self.is_counter_offer(played):
            await the_player.close()
            self._players.remove(the_player)
            the_player = await self.follow_counter_offer(played)
            the_player.started = started  # time to first frame counts from the POST, whatever the flow
            state = await peer.wait_connected(the_player.pc, self.target.timeout_s)
        else:
            the_player.started = started
            self.arranged(played, "whep", "a viewer")
            state = await self.connect(the_player.pc, played, "whep")
        if state != "connected":
            rule = self._rule("viewer-connects", "whep")
            raise ArrangeFailed(f"arranging a viewer failed: its connection ended {state!r} within "
                                f"{self.target.timeout_s:g} s (graded under {rule})")
        return the_player, played

    async def answer_server_offer(self, posted: Posted, trickle_only: bool = False
                                  ) -> tuple[player.Player, "httpx.Response"]:
        """Answer the server's offer (a 201 server offer or a 406 counter-offer) by PATCHing a recvonly
        answer to its Location, as a WHEP player does; the player then connects and decodes.

        `trickle_only`: the answer carries no candidates and the player starts no ICE checks of its own
        (peer.answer_only_ice), so only candidates trickled later by PATCH can connect it."""
        the_player = self.new_player()
        rule = "WHEPL-4.2.2-1" if posted.status == 406 else "WHEP01-4.2-2"
        if not posted.location:
            raise ArrangeFailed(f"the server's offer ({posted.describe()}) has no Location to send the answer to "
                                f"(graded under {rule})")
        try:
            await the_player.pc.setRemoteDescription(RTCSessionDescription(posted.body, "offer"))
        except Exception as exc:  # aiortc's parser and negotiation raise bare AssertionError/ValueError
            raise ArrangeFailed(f"no usable server offer: see {rule} (the suite's player could not answer it: "
                                f"{type(exc).__name__}: {exc or 'no reason given'})") from None
        if trickle_only and not peer.answer_only_ice(the_player.pc):  # before setLocalDescription starts ICE
            raise RuntimeError("the player's ICE connection could not be made answer-only")
        try:
            await the_player.pc.setLocalDescription(await the_player.pc.createAnswer())
        except Exception as exc:
            raise ArrangeFailed(f"no usable server offer: see {rule} (the suite's player could not answer it: "
                                f"{type(exc).__name__}: {exc or 'no reason given'})") from None
        answer = the_player.pc.localDescription.sdp
        if trickle_only:
            answer = sdp.without_candidates(answer)
        the_player.started = time.monotonic()
        response = await self.signalling.patch(posted.location, answer, if_match=None, content_type=headers.SDP)
        return the_player, response

    async def restart_ice(self, pc: RTCPeerConnection, session_url: str) -> RestartExchange:
        """Restart `pc`'s ICE through the session (RFC 9725 §4.3.3): a new local agent, PATCH its
        credentials and candidates with If-Match: *, then run checks against the 200's candidates.
        `connected` says whether the new ICE session really came up (media then moves to it)."""
        restart = await IceRestart.begin(pc)
        fragment = sdpfrag.for_description(pc.localDescription.sdp, restart.local_username, restart.local_password,
                                           [c.to_sdp() for c in restart.local_candidates], end_of_candidates=True)
        response = await self.signalling.patch(session_url, str(fragment), if_match="*")
        exchange = RestartExchange(response, restart.local_username, restart.local_password)
        if response.status_code != 200 or headers.media_type(response.headers.get("Content-Type")) != headers.SDPFRAG:
            await restart.abandon()
            return exchange
        try:
            exchange.answer = sdpfrag_syntax.parse(response.text)
        except sdpfrag.SdpFragError:
            await restart.abandon()
            return exchange
        ufrag, pwd = exchange.answer.credentials()
        if not ufrag or not pwd:
            await restart.abandon()
            return exchange
        restart.set_remote(ufrag, pwd, ice_lite=exchange.answer.ice_lite)
        for media in exchange.answer.media:
            for line in media.candidates:
                try:
                    await restart.add_remote_candidate(candidate_to_aioice(candidate_from_sdp(line)))
                except (ValueError, IndexError, AssertionError):
                    continue  # not ours to judge here; the checks grade the body
        await restart.add_remote_candidate(None)
        exchange.connected = await restart.complete(self.target.timeout_s)
        exchange.switched_at = time.monotonic() if exchange.connected else None
        return exchange

    # --- WHEP extensions (§4.9) ------------------------------------------------------------
    def links(self, response: httpx.Response) -> list[link.Link]:
        """The Links of a response, targets resolved against the URL that answered; unparseable ones are skipped
        (their syntax is graded by the Link cases)."""
        found = []
        for value in response.headers.get_list("Link"):
            try:
                parsed = link.parse_links(value)
            except link.LinkSyntaxError:
                continue
            found += [link.Link(urljoin(str(response.url), item.target), item.params) for item in parsed]
        return found

    async def open_events(self, stream_url: str) -> tuple[httpx.Response | None, whep_extensions.EventReader]:
        """GET an event stream and keep it open (closed when the case ends)."""
        streamed = await self.http.open_stream(stream_url, headers={"Accept": whep_extensions.EVENT_STREAM})
        self._streams.append(streamed)
        return streamed.response, whep_extensions.EventReader(streamed)

    async def close(self) -> None:
        for streamed in self._streams:
            try:
                await streamed.aclose()
            except Exception:
                pass
        for the_player in self._players:
            await the_player.close()
        for pc in self._peers:
            await pc.close()
        await self.signalling.cleanup()
        if self.api is not None:
            for urls in self._inputs:
                if urls.uid:
                    try:
                        await self.api.delete(urls.uid)
                    except Exception:
                        pass
        await self.http.aclose()


def _first_video_codec(offer: bytes) -> str:
    """The suite's name (player.VIDEO_CODECS) of the first video codec in an offer; VP8 if none is known."""
    try:
        media = sdp_syntax.parse(offer.decode("utf-8", "replace")).media if offer else []
    except ValueError:
        media = []
    by_mime = {mime.lower(): name for name, mime in player.VIDEO_CODECS.items()}
    offered = [f"video/{codec.name.lower()}" for m in media if m.kind == "video" for codec in m.codecs]
    return next((by_mime[mime] for mime in offered if mime in by_mime), "vp8")


def _protocol_of(pc: RTCPeerConnection) -> str:
    """"whip" for a peer that offered to send (a publisher), else "whep"."""
    local = pc.localDescription.sdp if pc.localDescription else ""
    return "whip" if re.search(r"^a=sendonly", local, re.MULTILINE) else "whep"


def _answers_video(answer: str) -> bool:
    try:
        media = sdp_syntax.parse(answer).media
    except sdp.SdpSyntaxError:
        return True  # not ours to judge here: connecting will fail with the reason
    return any(m.kind == "video" and not m.rejected and m.codecs for m in media)


# --- a target that dies mid-run ------------------------------------------------------------------
# One headline ("the target stopped answering at case N") instead of dozens of unrelated Errors: the
# case that met the silence keeps its Error (what it sent, what failed), the run reports the target
# unreachable (exit code 6), and later cases are Not applicable while a probe still gets no answer.
PROBE_TIMEOUT_S = 2.0
_STOPPED: dict[str, str] = {}  # "headline": why, once a probe confirmed the silence
_CASES_STARTED = [0]


def _probe_url(target: Target) -> str | None:
    return target.endpoint or target.whep_endpoint or target.live_inputs


def target_answers(target: Target) -> bool:
    """Whether the target answers HTTP at all (any status): an OPTIONS to its first URL."""
    url = _probe_url(target)
    if url is None:
        return True
    try:
        with httpx.Client(timeout=min(PROBE_TIMEOUT_S, target.timeout_s), verify=target.verify) as http:
            http.options(url)
        return True
    except httpx.HTTPError:
        return False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A case that met TargetUnreachable: if a probe gets no answer either, the target stopped (not just
    this request): say so once, as the run's headline, where the reports put an unreachable target."""
    try:
        return (yield)
    except TargetUnreachable as exc:
        target = getattr(item, "funcargs", {}).get("target")
        if isinstance(target, Target) and not _STOPPED and not target_answers(target):
            record = item.stash.get(CASE, None)
            why = record.log.redact(str(exc)) if record is not None else "no answer"  # publish URLs are secrets
            _STOPPED["headline"] = (f"the target stopped answering at case {_CASES_STARTED[0]} ({item.nodeid}): {why}; "
                                    "later cases were not run against it")
            from whip_whep_conformance.harness.target_fixture import UNREACHABLE

            item.config.stash[UNREACHABLE] = _STOPPED["headline"]
        raise


@pytest_asyncio.fixture
async def case(request: pytest.FixtureRequest, target: Target) -> AsyncIterator[Case]:
    _CASES_STARTED[0] += 1
    if _STOPPED:
        if not target_answers(target):
            raise NotApplicableTargetStopped(_STOPPED["headline"])
        _STOPPED.clear()  # it came back: later failures are the cases' own
    log = WireLog(target.secrets)
    log.add_secrets(url_secrets(target.endpoint, public=(target.whep_endpoint,)))
    record = CaseRecord(target.whip_profile, target.whep_profile, log,
                        product_in_scope=bool(target.live_inputs) or (target.whip_profile, target.whep_profile)
                        == (profiles.CLOUDFLARE.whip, profiles.CLOUDFLARE.whep))
    request.node.stash[CASE] = record
    _label_for_allure(request.node, record)
    http = WireClient(record.log, target.timeout_s, target.verify)
    the_case = Case(target, record, http, request.config.getoption("max_latency_ms"),
                    request.config.getoption("max_ttff_ms"), request.config.getoption("max_loss_pct"),
                    request.config.getoption("max_freeze_ms"))
    try:
        yield the_case
    finally:
        await the_case.close()
        _attach_for_allure(record)


class NotApplicableTargetStopped(NotApplicable):
    """The target stopped answering in an earlier case and still does not answer."""


def _attach_for_allure(record: CaseRecord) -> None:
    """The redacted wire log and the figures, as attachments of the allure result."""
    if record.log.exchanges:
        allure.attach("\n\n".join(_exchange_text(e) for e in record.log.exchanges),
                      name="wire log", attachment_type=allure.attachment_type.TEXT)
    if record.figures:
        allure.attach(json.dumps(record.figures, indent=2), name="figures", attachment_type=allure.attachment_type.JSON)


def _exchange_text(e) -> str:
    request = "\n".join([f"{e.method} {e.url}", *(f"{k}: {v}" for k, v in e.request_headers), "", e.request_body])
    if e.status is None:
        return f"{request}\n--> no response: {e.error}"
    response = "\n".join([f"{e.status} {e.reason}", *(f"{k}: {v}" for k, v in e.response_headers), "", e.response_body])
    return f"{request}\n-->\n{response}"


def _label_for_allure(item: pytest.Item, record: CaseRecord) -> None:
    """Epic, feature and link cite the revision in force (as results.json does), not the row's own text."""
    marker = item.get_closest_marker("requirement")
    if marker is None:
        return
    rows = [registry.get(i) for i in marker.args]
    in_force = [r for r in rows if r.applies_to(record.whip_profile, record.whep_profile)] or rows
    req = in_force[0].cited(record.whip_profile, record.whep_profile)
    allure.dynamic.epic(req.spec)
    allure.dynamic.feature(f"{req.spec} §{req.section}")
    for req_id in marker.args:
        allure.dynamic.story(req_id)
    allure.dynamic.severity(
        allure.severity_level.CRITICAL if req.grade == "fail" else allure.severity_level.NORMAL
    )
    if req.url:
        allure.dynamic.link(req.url, name=f"{req.spec} §{req.section}")
