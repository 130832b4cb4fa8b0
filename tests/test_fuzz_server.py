"""Fuzzing every entry point of the reference server: hostile input gets a 4xx, never a 5xx or a
crash, and the server keeps serving a session that was there before.

CI runs FUZZ_EXAMPLES (default 60) per entry point; `benchmarks/fuzz_server.py` runs thousands.
PATCH bodies go to a real session (the "keeper"), so fragments reach the sdpfrag parser and aiortc.
"""

from __future__ import annotations

import os

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles

from .fuzz_inputs import CONTENT_TYPES, HEADER_VALUE, JSON, METHODS, PATH_SEGMENT, SDP_BODIES, SDPFRAG_BODIES, VALID_OFFER

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
COUNTS = {"inputs": 0, "5xx": 0}


class FuzzTarget:
    def __init__(self) -> None:
        self.server = EmbeddedServer(profiles.STANDARD, token=True, faults=[], ice_servers=[],
                                     extra_args=["--session-timeout", "600"])
        self.server.start()
        self.http = httpx.Client(timeout=20)
        self.api = f"{self.server.base_url}/client/v4/accounts/fuzz/stream/live_inputs"
        self.api_auth = {"Authorization": f"Bearer {self.server.api_token}"}
        self.auth = {"Authorization": f"Bearer {self.server.token}"}
        self.input = self.http.post(self.api, headers=self.api_auth).json()["result"]
        # A session on another input that must outlive the fuzzing (long enough: it never connects).
        keeper = self.http.post(self.api, headers=self.api_auth).json()["result"]
        posted = self.http.post(keeper["webRTCPlayback"]["url"], content=_viewer_offer(),
                                headers={**self.auth, "Content-Type": "application/sdp"})
        assert posted.status_code == 201, posted.text
        self.keeper_url = str(httpx.URL(keeper["webRTCPlayback"]["url"]).join(posted.headers["Location"]))
        self.keeper_etag = posted.headers["ETag"]

    def send(self, method: str, url: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, url, **kwargs)
        COUNTS["inputs"] += 1
        if response.status_code >= 500:
            COUNTS["5xx"] += 1
        assert response.status_code < 500, f"{method} {url} -> {response.status_code}: {response.text[:300]!r}"
        assert "Traceback" not in response.text, "a stack trace in a response"
        return response


def _viewer_offer() -> str:
    return VALID_OFFER.replace("a=sendonly", "a=recvonly")


@pytest.fixture(scope="module")
def fuzz_target():
    t = FuzzTarget()
    yield t
    try:
        assert t.server.proc.poll() is None, "the server process died during fuzzing"
        kept = t.http.request("DELETE", t.keeper_url, headers=t.auth)
        assert kept.status_code == 200, "the session that was there before the fuzzing did not survive it"
        alive = t.http.get(t.api, headers=t.api_auth)
        assert alive.status_code == 200, "the server stopped serving after the fuzzing"
    finally:
        print(f"\nfuzz: {COUNTS['inputs']} inputs, {COUNTS['5xx']} answered 5xx, server "
              f"{'alive' if t.server.proc.poll() is None else 'DEAD'}")
        t.http.close()
        t.server.stop()


@FUZZ
@given(body=SDP_BODIES, content_type=CONTENT_TYPES)
def test_whip_post_bodies(fuzz_target, body, content_type):
    fuzz_target.send("POST", fuzz_target.input["webRTC"]["url"], content=body, headers={**fuzz_target.auth, "Content-Type": content_type})


@FUZZ
@given(body=SDP_BODIES)
def test_whep_post_bodies(fuzz_target, body):
    fuzz_target.send("POST", fuzz_target.input["webRTCPlayback"]["url"], content=body,
                headers={**fuzz_target.auth, "Content-Type": "application/sdp"})


@FUZZ
@given(method=METHODS, authorization=HEADER_VALUE, if_match=HEADER_VALUE, content_type=CONTENT_TYPES,
       body=st.binary(max_size=300), session=PATH_SEGMENT)
def test_headers_and_methods_on_sessions(fuzz_target, method, authorization, if_match, content_type, body, session):
    url = f"{fuzz_target.input['webRTC']['url']}/{session}" if session else fuzz_target.input["webRTC"]["url"]
    fuzz_target.send(method, url, content=body, headers={"Authorization": authorization, "If-Match": if_match,
                                                     "Content-Type": content_type})


@FUZZ
@given(body=SDPFRAG_BODIES, if_match=st.sampled_from(["*", '"x"', None]), content_type=st.sampled_from(["application/trickle-ice-sdpfrag", "text/plain"]))
def test_patch_bodies_on_a_live_session(fuzz_target, body, if_match, content_type):
    extra = {"If-Match": fuzz_target.keeper_etag if if_match is None else if_match}
    fuzz_target.send("PATCH", fuzz_target.keeper_url, content=body,
                     headers={**fuzz_target.auth, **extra, "Content-Type": content_type})


@FUZZ
@given(segments=st.lists(PATH_SEGMENT, min_size=1, max_size=5), method=METHODS)
def test_url_paths(fuzz_target, segments, method):
    fuzz_target.send(method, f"{fuzz_target.server.base_url}/{'/'.join(segments)}", headers=fuzz_target.auth)


@FUZZ
@given(payload=JSON, raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_live_inputs_api_bodies(fuzz_target, payload, raw):
    if raw is None:
        response = fuzz_target.send("POST", fuzz_target.api, json=payload, headers=fuzz_target.api_auth)
    else:
        response = fuzz_target.send("POST", fuzz_target.api, content=raw, headers={**fuzz_target.api_auth, "Content-Type": "application/json"})
    if response.status_code in (200, 201):
        fuzz_target.send("DELETE", f"{fuzz_target.api}/{response.json()['result']['uid']}", headers=fuzz_target.api_auth)


def test_oversized_bodies_are_refused(fuzz_target):
    big = b"v=0\r\n" + b"a=x\r\n" * 400_000
    response = fuzz_target.send("POST", fuzz_target.input["webRTC"]["url"], content=big,
                           headers={**fuzz_target.auth, "Content-Type": "application/sdp"})
    assert response.status_code == 413
