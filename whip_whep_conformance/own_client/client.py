"""One WHIP publisher or WHEP player session, driven by HTTP as RFC 9725 / the WHEP drafts say,
with the active client faults applied where each one acts."""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urljoin, urlsplit

import httpx
from aiortc import RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcicetransport import connection_kwargs, parse_stun_turn_uri

from whip_whep_conformance.protocol import headers, sdp, sdpfrag, whep_extensions
from whip_whep_conformance.protocol.link import Link, parse_links
from whip_whep_conformance.webrtc import peer
from whip_whep_conformance.webrtc.consent import ConsentCheck
from whip_whep_conformance.webrtc.ice_restart import IceRestart, IceRestartError, ice_connection
from whip_whep_conformance.webrtc.media import PatternVideoTrack

from .faults import ClientFault as F

log = logging.getLogger("own_client")

# The rels the client knows (it uses only ice-server, and knows the WHEP core extensions it leaves unused):
# the `unknown-link-fatal` defect gives up on any other, and not on the plain scenario's own Links, which
# is what the unknown-Link cases' control needs.
KNOWN_RELS = {"ice-server", whep_extensions.SSE_REL, whep_extensions.LAYER_REL}
RETRIES = 3  # 503/409 + Retry-After: tries before giving up
DROPPED_AFTER_FAILED_CHECKS = 3  # consent checks unanswered in a row before the path counts as lost


class ClientError(RuntimeError):
    """The session could not be set up; the message says why (printed, exit 1)."""


class OwnClient:
    def __init__(self, protocol: str, url: str, token: str | None, faults: frozenset[F]) -> None:
        self.protocol = protocol
        self.url = url
        self.token = token or None
        self.faults = faults
        self.pc: RTCPeerConnection | None = None
        self.session_url: str | None = None
        self.etag: str | None = None
        self._offer = ""  # the offer as POSTed
        self.restart_status: int | None = None  # the status of the last restart PATCH
        self.http = httpx.AsyncClient(timeout=10, follow_redirects=False)

    # --- HTTP ----------------------------------------------------------------------------
    def _auth(self, method: str) -> dict[str, str]:
        if F.NO_TOKEN_ON_DELETE in self.faults and method == "DELETE":
            return {}
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        # "Bearer" without a token: httpx refuses a value with a trailing space ("Bearer "), so the fault
        # would have sent nothing at all
        return {"Authorization": "Bearer"} if F.EMPTY_AUTHORIZATION in self.faults else {}

    async def _request(self, method: str, url: str, body: str | None = None, extra: dict[str, str] | None = None
                       ) -> httpx.Response:
        """One request, following redirects as RFC 9110 §15.4 says (307/308 keep method and body)."""
        for _ in range(5):
            response = await self.http.request(method, url, content=body, headers={**self._auth(method), **(extra or {})})
            if response.status_code not in (301, 302, 303, 307, 308) or "Location" not in response.headers:
                return response
            if F.NO_REDIRECTS in self.faults:
                raise ClientError(f"{method} {url} was redirected ({response.status_code}); not following")
            url = urljoin(str(response.url), response.headers["Location"])
            if response.status_code in (301, 302, 303) or F.REDIRECT_AS_GET in self.faults:
                method, body = "GET", None
        return response

    def _resolve(self, response: httpx.Response) -> str:
        location = response.headers["Location"]
        if F.LOCATION_FROM_ROOT in self.faults and not urlsplit(location).scheme and not location.startswith("/"):
            parts = urlsplit(str(response.url))
            return f"{parts.scheme}://{parts.netloc}/{location}"
        return urljoin(str(response.url), location)  # RFC 9110 §10.2.2: against the request URI, after redirects

    # --- the offer -----------------------------------------------------------------------
    def _peer(self) -> RTCPeerConnection:
        pc = peer.new_peer_connection([])  # explicit: no STUN/TURN (the Link's servers are optional, §4.6)
        if self.protocol == "whip":
            from aiortc.mediastreams import AudioStreamTrack

            # silent-audio: an audio section offered sendonly whose sender has no track (aiortc sends nothing on it)
            pc.addTransceiver(AudioStreamTrack() if F.SILENT_AUDIO not in self.faults else "audio", direction="sendonly")
            pc.addTransceiver(PatternVideoTrack(), direction="sendonly")
            if F.SECOND_VIDEO_TRACK in self.faults:
                pc.addTransceiver(PatternVideoTrack(), direction="sendonly")
        else:
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
        return pc

    def _distort_offer(self, text: str) -> str:
        if F.NO_RTCP_MUX_ONLY not in self.faults:
            text = sdp.with_media_attribute(text, "rtcp-mux-only")  # RFC 9725 §4.4.1; aiortc leaves it out
        wanted = "sendonly" if self.protocol == "whip" else "recvonly"
        if F.SENDRECV_OFFER in self.faults:
            text = text.replace(f"a={wanted}", "a=sendrecv")
        if F.WRONG_DIRECTION_OFFER in self.faults:
            text = text.replace(f"a={wanted}", "a=recvonly" if self.protocol == "whip" else "a=sendonly")
        if F.SETUP_ACTIVE in self.faults:
            text = text.replace("a=setup:actpass", "a=setup:active")
        if F.ICE_LITE_OFFER in self.faults:
            text = re.sub(r"(\r?\nt=[^\r\n]*)", r"\1\r\na=ice-lite", text, count=1)
        if F.WRONG_FINGERPRINT in self.faults:  # each line's hash of a certificate DTLS never presents
            from aiortc import RTCCertificate

            other = {f.algorithm: f.value for f in RTCCertificate.generateCertificate().getFingerprints()}
            text = re.sub(r"a=fingerprint:(\S+) \S+", lambda m: f"a=fingerprint:{m.group(1)} {other.get(m.group(1).lower(), '00')}", text)
        if F.STREAM_PER_TRACK in self.faults:
            count = iter(range(100))
            text = re.sub(r"a=msid:(\S+) ", lambda m: f"a=msid:{m.group(1)}-{next(count)} ", text)
        if F.TRICKLE in self.faults or F.EARLY_CANDIDATES in self.faults:
            # a trickling WHIP client offers the first candidate it gathered (RFC 9725 §4.3.2: the offer MAY
            # carry local candidates), which shows it had gathered before posting; trickle-spread offers none
            gathered_first = self.protocol == "whip" and not {F.TRICKLE_SPREAD, F.EARLY_CANDIDATES} & self.faults
            text = sdp.without_candidates(text, keep=1 if gathered_first else 0)
        return text

    @property
    def trickles(self) -> bool:
        return F.TRICKLE in self.faults or F.EARLY_CANDIDATES in self.faults

    async def start(self) -> None:
        """POST the offer (retrying a 503/409 after its Retry-After), apply the answer, wait for ICE."""
        self.pc = self._peer()
        offer = await peer.local_offer(self.pc)
        body = self._distort_offer(offer)
        if F.OPTIONS_FIRST in self.faults:
            await self._request("OPTIONS", self.url)
        if F.HEAD_FIRST in self.faults and self.protocol == "whep":
            # the player was told the URL is WHEP's: the answer (200 typed application/sdp) changes nothing here
            await self._request("HEAD", self.url)
        content_type = "text/plain" if F.POST_CONTENT_TYPE in self.faults else "application/sdp"
        if F.EMPTY_POST in self.faults:
            body = ""
        if F.EARLY_TRICKLE in self.faults and F.TRICKLE in self.faults and self.protocol == "whip":
            # the defect: candidates sent before the 201 (so before the session URL is known), to the endpoint
            await self._request("PATCH", self.url, str(self._fragment(offer)), {"Content-Type": headers.SDPFRAG})
        if F.EARLY_CANDIDATES in self.faults:  # before any session exists: to the only URL it knows
            self.session_url = self.url
            await self._trickle(offer)
            self.session_url = None
        self._offer = body
        if self.protocol == "whep" and F.SERVER_OFFER in self.faults and await self._ask_for_server_offer():
            return
        response = None
        for attempt in range(RETRIES + 1):
            response = await self._request("POST", self.url, body, {"Content-Type": content_type})
            delay = headers.delay_seconds(response.headers.get("Retry-After"))
            takes_any = self.protocol == "whip" and F.UNKNOWN_STATUS_AS_CREATED in self.faults  # no retry either
            given_up = takes_any or (response.status_code == 409 and F.NO_RETRY_ON_409 in self.faults) \
                or (response.status_code == 503 and F.NO_RETRY_ON_503 in self.faults)
            if response.status_code in (409, 503) and delay is not None and attempt < RETRIES and not given_up:
                if F.RETRY_AT_ONCE not in self.faults:
                    await asyncio.sleep(min(delay, 10) * (2 ** attempt))  # RFC 9110 §10.2.3, backing off (WHEP -03 §4.2.8)
                continue
            break
        assert response is not None
        if F.UNKNOWN_STATUS_AS_CREATED in self.faults and response.status_code not in (201, 406):
            self.session_url = self.url
            raise ClientError(f"POST got {response.status_code}")
        if response.status_code == 406 and self.protocol == "whep" and F.IGNORE_COUNTER_OFFER not in self.faults \
                and headers.media_type(response.headers.get("Content-Type")) == headers.SDP:
            await self._answer_counter_offer(response)
            return
        if response.status_code != 201:
            raise ClientError(f"POST {self.url} got {response.status_code}: {response.text[:200]}")
        self.session_url = self._resolve(response)
        self.etag = response.headers.get("ETag")
        unknown = [l for l in parse_links(response.headers.get_list("Link")) if not set(l.rels) & KNOWN_RELS]
        if unknown and F.UNKNOWN_LINK_FATAL in self.faults:
            raise ClientError(f"a Link with an unknown rel: {unknown[0]}")
        await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        if self.trickles:
            await self._trickle(offer)
        servers = self._link_ice_servers(response)
        if servers:
            await self._restart_with(servers)

    def _link_ice_servers(self, response: httpx.Response) -> list[RTCIceServer]:
        """The response's Link rel="ice-server" servers this client can use (RFC 9725 §4.6): stun: and
        turn: over UDP, with the Link's username and credential (RFC 8288 values, quoted-string unquoted)."""
        if F.IGNORE_LINK_ICE_SERVERS in self.faults:
            return []
        links = [l for l in parse_links(response.headers.get_list("Link")) if "ice-server" in l.rels]
        return [server for server in map(self._ice_server, links) if server is not None]

    def _ice_server(self, link: Link) -> RTCIceServer | None:
        try:
            parsed = parse_stun_turn_uri(link.target)
        except ValueError as exc:
            log.warning("ice-server Link <%s> skipped: %s", link.target, exc)
            return None
        if parsed["scheme"] != "stun" and (parsed["scheme"], parsed.get("transport")) != ("turn", "udp"):
            log.warning("ice-server Link <%s> skipped: only stun: and turn: over UDP are used", link.target)
            return None
        username, credential = link.params.get("username"), link.params.get("credential")
        if F.CREDENTIAL_CUT_AT_EQUALS in self.faults:  # the defect: `value.split("=")[0]`
            username, credential = (v.split("=")[0] if v is not None else None for v in (username, credential))
        if F.CREDENTIAL_KEEPS_QUOTES in self.faults:  # the defect: the quoted-string taken with its quotes
            username, credential = (f'"{v}"' if v is not None else None for v in (username, credential))
        return RTCIceServer(urls=link.target, username=username, credential=credential)

    async def _restart_with(self, servers: list[RTCIceServer]) -> None:
        """RFC 9725 §4.6 NOTE: aiortc gathered at setLocalDescription, before the POST, so the 201's STUN/TURN
        servers take a new ICE gathering: an ICE restart, begun at once (without them the first ICE session
        may never connect: a TURN-only path). A server that cannot restart yet (503: its ICE has not connected)
        is asked once more when the session is up."""
        assert self.pc is not None
        chosen = connection_kwargs(servers)  # aioice takes one STUN and one TURN server: the first of each
        log.info("the 201 names ice-servers %s: ICE restart to gather with them", [s.urls for s in servers])
        if await self.restart(chosen, before_connected=True) or self.restart_status != 503:
            return
        if await peer.wait_state(self.pc, lambda s: s in ("connected", "failed", "closed"), 15) == "connected":
            await self.restart(chosen)

    async def _ask_for_server_offer(self) -> bool:
        """draft-murillo-whep-01 §4.2: a POST without body, Accept: application/sdp, no Content-Type; a 201
        with the server's offer is answered by PATCH as a counter-offer is. False: the endpoint refused
        (it makes no offers: another profile), and the player POSTs its own offer instead."""
        accept = {} if F.SERVER_OFFER_NO_ACCEPT in self.faults else {"Accept": headers.SDP}
        response = await self._request("POST", self.url, None, accept)
        if response.status_code != 201 or headers.media_type(response.headers.get("Content-Type")) != headers.SDP:
            return False
        await self._answer_counter_offer(response)
        return True

    async def _answer_counter_offer(self, response: httpx.Response) -> None:
        """draft-ietf-wish-whep-03 §4.2.2: answer the 406's offer by PATCH (application/sdp) to the session;
        draft-murillo-whep-01 §4.2 answers the 201's server offer the same way."""
        assert self.pc is not None
        self.session_url = self._resolve(response)
        self.etag = response.headers.get("ETag")
        await self.pc.close()
        # the answer is gathered here, so the response's STUN/TURN servers are set before it (§4.6 NOTE): no restart
        self.pc = peer.new_peer_connection(self._link_ice_servers(response))
        await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "offer"))
        for transceiver in self.pc.getTransceivers():
            transceiver.direction = "recvonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = self.pc.localDescription.sdp
        if F.COUNTER_ANSWER_SENDRECV in self.faults:
            answer = answer.replace("a=recvonly", "a=sendrecv")
        if F.COUNTER_ANSWER_REOFFER in self.faults:
            answer = self._offer
        content_type = "text/plain" if F.ANSWER_PATCH_CONTENT_TYPE in self.faults else "application/sdp"
        patched = await self._request("PATCH", self.session_url, answer, {"Content-Type": content_type})
        if not 200 <= patched.status_code < 300:
            raise ClientError(f"the PATCH carrying the answer got {patched.status_code}")
        self.etag = patched.headers.get("ETag", self.etag)  # draft-murillo-whep-01 §4.4: a server offer's first tag

    async def _trickle(self, offer: str) -> None:
        """RFC 9725 §4.3.2: the candidates held back, in one PATCH, after the 201."""
        assert self.session_url is not None
        if (F.TRICKLE_SPLIT in self.faults or F.TRICKLE_SPREAD in self.faults) and self.protocol == "whip":
            # one PATCH per m-section (each with that section's host candidates, as aiortc gathered them),
            # not one aggregated PATCH: the defect where the offer shows the client had gathered (split)
            mlines = [ln for ln in re.split(r"\r?\n", offer) if ln.startswith("m=")]
            media = sdp.SessionDescription.parse(offer).media
            for i, (mline, section) in enumerate(zip(mlines, media)):
                part = sdpfrag.for_offer(offer, [])
                part.media = [sdpfrag.FragMedia(mline=mline, mid=section.mid, candidates=list(section.candidates),
                                                end_of_candidates=i == len(media) - 1)]
                await self._patch(str(part), self.etag)
            return
        await self._patch(str(self._fragment(offer)), self.etag)

    @staticmethod
    def _fragment(offer: str) -> sdpfrag.SdpFrag:
        """Every candidate the offer was made with and the end of candidates: the buffered ones, in one body."""
        candidates = [c for m in sdp.SessionDescription.parse(offer).media[:1] for c in m.candidates]
        return sdpfrag.for_offer(offer, candidates, end_of_candidates=True)

    async def _patch(self, body: str, tag: str | None) -> httpx.Response:
        assert self.session_url is not None
        content_type = "application/sdp" if F.PATCH_CONTENT_TYPE in self.faults else headers.SDPFRAG
        condition = {"ETag": tag} if F.ETAG_NOT_IF_MATCH in self.faults else {"If-Match": tag}
        return await self._request("PATCH", self.session_url, body,
                                   {"Content-Type": content_type, **({k: v for k, v in condition.items() if v})})

    # --- the running session ---------------------------------------------------------------
    async def hold(self, stop: asyncio.Event) -> None:
        """Until told to stop: watch the path; when consent checks go unanswered, restart ICE (§4.3.3)."""
        assert self.pc is not None
        connected = await peer.wait_state(self.pc, lambda s: s in ("connected", "failed", "closed"), 15)
        if connected != "connected":
            log.warning("the session did not connect (%s)", connected)
        elif F.NO_CONSENT_ANSWERS in self.faults:
            _stop_answering_checks(self.pc)
        failed = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
                break
            except asyncio.TimeoutError:
                pass
            if connected != "connected" or F.NO_RESTART in self.faults:
                continue
            check = ConsentCheck(self.pc)
            answered = await (check.answered_on_the_pair() if check.relayed else check.answered())
            failed = 0 if answered else failed + 1
            if failed >= DROPPED_AFTER_FAILED_CHECKS:
                failed = 0
                await self.restart()

    async def restart(self, servers: dict | None = None, before_connected: bool = False) -> bool:
        """ICE restart by PATCH with If-Match: "*" and the new credentials and candidates (§4.3.3), gathered
        with `servers` (aioice STUN/TURN keywords) where given, else with the session's current ones."""
        assert self.pc is not None and self.session_url is not None
        self.restart_status = None
        try:
            restart = await IceRestart.begin(self.pc, servers, before_connected=before_connected)
        except IceRestartError as exc:
            log.warning("no ICE restart: %s", exc)
            return False
        ufrag, pwd = restart.local_username, restart.local_password
        if F.RESTART_OLD_CREDENTIALS in self.faults:
            ufrag, pwd = sdp.SessionDescription.parse(self.pc.localDescription.sdp).media[0].ice_ufrag, \
                sdp.SessionDescription.parse(self.pc.localDescription.sdp).media[0].ice_pwd
        fragment = sdpfrag.for_description(self.pc.localDescription.sdp, ufrag, pwd,
                                           [c.to_sdp() for c in restart.local_candidates], end_of_candidates=True)
        response = await self._patch(str(fragment), self.etag if F.RESTART_WITHOUT_STAR in self.faults else "*")
        self.restart_status = response.status_code
        if response.status_code != 200:
            await restart.abandon()
            return False
        self.etag = response.headers.get("ETag", self.etag)
        answer = sdpfrag.parse(response.text)
        remote_ufrag, remote_pwd = answer.credentials()
        if not remote_ufrag or not remote_pwd:
            await restart.abandon()
            return False
        from aiortc.rtcicetransport import candidate_to_aioice
        from aiortc.sdp import candidate_from_sdp

        restart.set_remote(remote_ufrag, remote_pwd, ice_lite=answer.ice_lite)
        for media in answer.media:
            for line in media.candidates:
                try:
                    await restart.add_remote_candidate(candidate_to_aioice(candidate_from_sdp(line)))
                except (ValueError, IndexError, AssertionError):
                    continue
        await restart.add_remote_candidate(None)
        return await restart.complete(10)

    async def close(self) -> None:
        """End the session: DELETE its URL (RFC 9725 §4.2), no entity-tag condition (§4.3.1)."""
        try:
            if self.session_url is not None and F.NO_DELETE not in self.faults:
                url = self.url if F.DELETE_TO_ENDPOINT in self.faults else self.session_url
                extra = {"If-Match": self.etag} if F.IF_MATCH_ON_DELETE in self.faults and self.etag else {}
                await self._request("DELETE", url, None, extra)
        finally:
            if self.pc is not None:
                await self.pc.close()
            await self.http.aclose()


def _stop_answering_checks(pc: RTCPeerConnection) -> None:
    """The no-consent-answers defect: the ICE agent ignores every request from now on, so the server's
    consent checks (RFC 7675) go unanswered while media keeps flowing (aioice 0.13.0's Connection)."""
    ice_connection(pc).request_received = lambda message, addr, protocol: None  # type: ignore[method-assign]
