"""Product brief — the `protocol-version` header naming the spec revision (Cloudflare's convention)."""

import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.requirement("BRIEF-PV-1")
@pytest.mark.viewer
async def test_whip_and_whep_name_their_revision(case):
    """POST to the WHIP and WHEP endpoints: record the protocol-version each 201 names."""
    urls, _, whip = await case.publish()
    _, whep = await case.play(urls)
    for name, posted, profile in (("WHIP", whip, case.target.whip_profile), ("WHEP", whep, case.target.whep_profile)):
        value = posted.response.headers.get("protocol-version")
        if value is None:
            case.info("BRIEF-PV-1", f"{name}: protocol-version header absent")
        else:
            note = "matches" if value == profile else "differs from"
            case.info("BRIEF-PV-1", f"{name}: protocol-version {value!r} ({note} the profile in force, {profile})")
