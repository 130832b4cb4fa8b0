"""WHIP protocol extensions — RFC 9725 §4.9: each extension a session supports is announced on the 201,
one Link per extension (its URN as rel, its resource as target), and no session needs one to work.

No WHIP extension URN is registered yet (§6.4), so a target that announces none is Not applicable
here; whatever a target does announce in the urn:ietf:params:whip:ext namespace must follow §4.9.
"""

from collections import Counter

import pytest

from whip_whep_conformance.protocol.link import WHIP_EXTENSIONS, extension_links

pytestmark = pytest.mark.asyncio

NO_EXTENSIONS = "the target announces no WHIP extension (none is registered yet, and they are optional)"
GONE = (404, 410)


def _extension_rels(case, response) -> set[str]:
    """The extension URNs a response's Links announce."""
    return {rel for link in extension_links(case.links(response), WHIP_EXTENSIONS)
            for rel in link.rels if rel.startswith(WHIP_EXTENSIONS)}


async def _session(case):
    """A WHIP session (POSTed, not connected): (urls, POST response)."""
    urls, _, posted = await case.publish()
    if posted.status != 201 or not posted.location:
        case.not_applicable(f"no WHIP session to look at: the POST got {posted.describe()}")
    return urls, posted


@pytest.mark.requirement("WHIP-4.9-1")
async def test_extensions_are_announced_on_the_201(case):
    """Every extension the endpoint or session URL announces (on OPTIONS) is announced on the 201 too."""
    urls, posted = await _session(case)
    on_201 = _extension_rels(case, posted.response)
    elsewhere: dict[str, str] = {}
    for url in (urls.whip_url, posted.location):
        answered = await case.signalling.request("OPTIONS", url)
        for rel in _extension_rels(case, answered) - on_201:
            elsewhere.setdefault(rel, url)
    if not on_201 and not elsewhere:
        case.not_applicable(NO_EXTENSIONS)
    case.expect(not elsewhere, "WHIP-4.9-1",
                message="extensions announced on OPTIONS but not on the 201: "
                        + ", ".join(f"{rel} (OPTIONS {url})" for rel, url in elsewhere.items())
                        + f"; the 201 announced {sorted(on_201) or 'none'}")


@pytest.mark.requirement("WHIP-4.9-2")
async def test_each_extension_has_one_link_to_its_resource(case):
    """Each extension on the 201 has a Link of its own, with its URN as the one rel, to a resource that exists.

    The URN appears on no other Link, and the target is an http(s) URL that an OPTIONS does not find
    gone (404 or 410)."""
    _, posted = await _session(case)
    links = extension_links(case.links(posted.response), WHIP_EXTENSIONS)
    if not links:
        case.not_applicable(NO_EXTENSIONS)
    problems = []
    counts = Counter(rel for link in links for rel in link.rels if rel.startswith(WHIP_EXTENSIONS))
    problems += [f"{rel} is announced by {n} Links" for rel, n in counts.items() if n > 1]
    for link in links:
        if len(link.rels) != 1:
            problems.append(f"the Link <{link.target}> has rel {' '.join(link.rels)!r}: one extension per Link")
        if not link.target.startswith(("http://", "https://")):
            problems.append(f"the Link for {link.rels[0]} targets {link.target!r}, not an http(s) URL")
            continue
        answered = await case.signalling.request("OPTIONS", link.target)
        if answered.status_code in GONE:
            problems.append(f"the resource of {' '.join(link.rels)}, {link.target}, answered OPTIONS {answered.status_code}")
    case.expect(not problems, "WHIP-4.9-2", message="; ".join(problems))


@pytest.mark.requirement("WHIP-4.9-4")
@pytest.mark.viewer
async def test_session_works_without_its_extensions(case):
    """Publish without making any request to the extensions the 201 announces: a WHEP player still decodes the video."""
    urls, _, posted = await case.publish_media("vp8")
    announced = _extension_rels(case, posted.response)
    if not announced:
        case.not_applicable(NO_EXTENSIONS)
    the_player, _ = await case.start_player(urls)
    decoded = await the_player.wait_frames("video", 5, case.target.timeout_s)
    case.expect(decoded, "WHIP-4.9-4",
                message=f"the publisher used none of the announced extensions ({', '.join(sorted(announced))}), "
                        f"and the player decoded {the_player.streams['video'].frames} video frames in {case.target.timeout_s:g} s")
