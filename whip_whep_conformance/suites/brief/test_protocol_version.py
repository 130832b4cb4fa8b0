"""Product brief — the `protocol-version` header naming the spec revision (Cloudflare's convention)."""

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("BRIEF-PV-1")
@pytest.mark.viewer
async def test_whip_and_whep_name_their_revision(case):
    """POST to the WHIP and WHEP endpoints: record the protocol-version each POST's response names.

    The WHIP session is a connected publisher, so the WHEP POST has something live to play: a
    signalling-only publisher left the endpoint held (simple-whip-server answers every POST 403
    while one is live, src/whip.js:306-309) and gave a viewer nothing to play, so a target that
    plays only what is published (409, or janus-whep-server's 500 in VideoRoom mode) sent the suite
    to publish again, into that 403. Its own 201 is the control that the endpoint took us. The WHEP
    POST is read whatever flow the profile allows (a -03 406 counter-offer is that POST's response)."""
    urls, _, whip = await case.publish_media("vp8")
    _, whep = await case.play(urls, counter_offer_ok=True)
    for name, posted, profile in (("WHIP", whip, case.target.whip_profile), ("WHEP", whep, case.target.whep_profile)):
        value = posted.response.headers.get("protocol-version")
        name = f"{name} ({posted.status} counter-offer)" if getattr(posted, "counter_offer", False) else name
        if value is None:
            case.info("BRIEF-PV-1", f"{name}: protocol-version header absent")
        else:
            note = "matches" if value == profile else "differs from"
            case.info("BRIEF-PV-1", f"{name}: protocol-version {value!r} ({note} the profile in force, {profile})")
