"""werift and @roamhq/wrtc — two WebRTC stacks for Node that we did not write — publish to and play from
the reference server in both profile pairs, through glue as thin as a user's (tests/clients/node/*.mjs:
create an offer, POST it with the token, set the answer, send or receive media, DELETE the Location).

Each test proves decoded media at a viewer, that the viewer got the publisher's codec, and teardown:
the client's DELETE answered 2xx and the server's session count dropped by exactly the client's session
(read before and after, so a server that held nothing cannot pass) down to 0.

Figures: codec, frames and audio_frames decoded, media_s (seconds from starting the client to the
viewer's 30th decoded video frame, ICE and DTLS included), keyframes (werift as viewer: as it counted them).

Needs root and network namespaces (werift and libwebrtc never gather loopback candidates; see
node_session.py): skipped otherwise, with the reason. The first run installs the pinned npm packages
into the peers cache (about 20 s). Wall time: 6 client tests and 3 that prove the checks fail on a
faulty server, 4-10 s each on an idle 2-core machine (about 65 s in all; up to twice that under load).
"""

from __future__ import annotations

import pytest

from tests.clients import node_session, node_stack
from tests.interop import lab
from whip_whep_conformance.protocol import profiles

# The client names are literal strings in the markers: tests/clients/test_table.py reads them from the source.


@pytest.fixture(scope="module")
def node_clients():
    """Root, a namespace with a veth pair, and the Node clients installed (cached)."""
    why_not = lab.namespace_support()
    if why_not:
        pytest.skip(why_not)
    return node_stack.node_clients()


def _session(scenario: str, pair, tmp_path, measured: dict) -> dict:
    seen = node_session.run(scenario, pair.whip, pair.whep, tmp_path)
    assert "error" not in seen, (
        f"{scenario} in {pair.id}: {seen['error']}\nwhat the client said: {seen.get('client_events')}")
    measured.update(codec=str(seen.get("publisher_codec")).split("/")[-1], frames=seen["frames"],
                    audio_frames=seen["audio_frames"], media_s=seen["media_s"])
    return seen


def _teardown_problems(seen: dict, before: int) -> list[str]:
    """RFC 9725 §4.2 / whep-03 §4.3: the client's DELETE ends its session, and only its own."""
    problems = []
    status = seen.get("client_delete")
    if not (isinstance(status, int) and 200 <= status < 300):
        problems.append(f"the client's DELETE of its session URL was answered {status} (2xx expected)")
    if seen["sessions_before_client_delete"] != before:
        problems.append(f"before the client's DELETE the server held {seen['sessions_before_client_delete']} "
                        f"sessions, not {before}: the drop after it would prove nothing")
    after = seen.get("sessions_after_client", seen["sessions_after"])
    if after != before - 1:
        problems.append(f"after the client's DELETE the server held {after} sessions (expected {before - 1})")
    if seen["sessions_after"] != 0:
        problems.append(f"{seen['sessions_after']} sessions left at the end (expected 0)")
    return problems


def _media_problems(seen: dict, who: str) -> list[str]:
    problems = []
    if not seen["video_decoded"]:
        problems.append(f"{who} decoded {seen['frames']} video frames, fewer than {node_session.FRAMES} "
                        f"within {seen['media_deadline_s']} s")
    if not seen["audio_decoded"]:
        problems.append(f"{who} decoded {seen['audio_frames']} audio frames, fewer than "
                        f"{node_session.AUDIO_FRAMES} within {seen['media_deadline_s']} s")
    return problems


def werift_publish_problems(seen: dict) -> list[str]:
    problems = _media_problems(seen, "the aiortc viewer")
    if seen["viewer_codecs"] != ["video/VP8"] or seen["publisher_codec"] != "video/VP8":
        problems.append(f"werift published {seen['publisher_codec']} (VP8 offered), the viewer received "
                        f"{seen['viewer_codecs']}: not the publisher's codec")
    return problems + _teardown_problems(seen, before=1)


def wrtc_publish_problems(seen: dict) -> list[str]:
    problems = _media_problems(seen, "the aiortc viewer")
    if seen["viewer_codecs"] != [seen["publisher_codec"]]:
        problems.append(f"libwebrtc published {seen['publisher_codec']} (the answer's choice), the viewer "
                        f"received {seen['viewer_codecs']}: not the publisher's codec")
    return problems + _teardown_problems(seen, before=1)


def werift_play_problems(seen: dict) -> list[str]:
    problems = _media_problems(seen, "werift (its RTP, decoded)")
    # The answer may list every codec both sides have (werift offers H.264 first, then VP8): RFC 3264
    # lets the server send any of them, so what counts is the codec werift maps the arriving payload
    # type to, and that it decodes as the publisher's.
    first, counts = seen["client_first_rtp"], seen.get("client_counts") or {}
    if not (seen["publisher_codec"] == first["mimeType"] == "video/VP8") or counts.get("other"):
        problems.append(f"the publisher sent {seen['publisher_codec']}; werift received payload type "
                        f"{first['payloadType']}, {first['mimeType']} in its answer ({counts.get('other')} "
                        f"packets of a codec other than VP8/Opus): not the publisher's codec")
    if not counts.get("keyframes"):
        problems.append("werift received no VP8 keyframe (RFC 7741 §4.3: P bit 0 on a partition start)")
    return problems + _teardown_problems(seen, before=2)


@pytest.mark.client("werift 0.24.4", role="publish")
def test_werift_publishes_vp8_and_opus_that_a_viewer_decodes(node_clients, pair, measured, tmp_path):
    seen = _session("werift-publish", pair, tmp_path, measured)
    problems = werift_publish_problems(seen)
    assert not problems, f"werift publishing in {pair.id}: " + "; ".join(problems) + f"\n{seen}"


@pytest.mark.client("@roamhq/wrtc 0.10.0", role="publish")
def test_wrtc_publishes_what_a_viewer_decodes(node_clients, pair, measured, tmp_path):
    seen = _session("wrtc-publish", pair, tmp_path, measured)
    problems = wrtc_publish_problems(seen)
    assert not problems, f"@roamhq/wrtc publishing in {pair.id}: " + "; ".join(problems) + f"\n{seen}"


@pytest.mark.client("werift 0.24.4", role="play")
def test_werift_plays_what_a_publisher_sends(node_clients, pair, measured, tmp_path):
    """werift's received RTP is forwarded to a VP8/Opus decoder here: decoded frames, not packets, count."""
    seen = _session("werift-play", pair, tmp_path, measured)
    measured["keyframes"] = (seen.get("client_counts") or {}).get("keyframes")
    problems = werift_play_problems(seen)
    assert not problems, f"werift playing in {pair.id}: " + "; ".join(problems) + f"\n{seen}"


# The checks above fail when the server is at fault (whip_whep_conformance/reference_server/faults.py); short deadlines keep
# these runs to a few seconds each.
@pytest.mark.parametrize("scenario, fault, judge, expected", [
    ("werift-play", "delete-keeps-session", werift_play_problems, "after the client's DELETE the server held 2"),
    ("werift-publish", "wrong-payload-type", werift_publish_problems, "not the publisher's codec"),
    ("werift-play", "wrong-payload-type", werift_play_problems, "not the publisher's codec"),
], ids=["delete-keeps-session", "wrong-payload-type", "werift-plays-wrong-payload-type"])
def test_the_checks_catch_a_faulty_server(node_clients, scenario, fault, judge, expected, tmp_path):
    seen = node_session.run(scenario, profiles.RFC9725, profiles.WHEP_03, tmp_path, faults=(fault,),
                            media_deadline_s=4, teardown_s=3)
    assert "error" not in seen, f"{scenario} with fault {fault}: {seen['error']}"
    problems = judge(seen)
    assert any(expected in p for p in problems), (
        f"with fault {fault} the {scenario} checks should report '{expected}'; they reported {problems}")
