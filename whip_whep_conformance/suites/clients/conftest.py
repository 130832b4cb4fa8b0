"""Client cases: the target is the client under test, graded in the profile pair the server runs."""

from __future__ import annotations

import pytest

from whip_whep_conformance.harness.clients.client_case import clients_label
from whip_whep_conformance.harness.target import Target
from whip_whep_conformance.protocol import profiles


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The client(s) graded, in the profile pair the plugin parametrises (auto: both the server offers).
    The scenarios start their own servers; this names what the reports call the target."""
    pair = getattr(request, "param", profiles.STANDARD)
    return Target(whip_profile=pair.whip, whep_profile=pair.whep, timeout_s=request.config.getoption("timeout_s"),
                  embedded=True, label=pair.id, client=clients_label(request.config),
                  token=request.config.getoption("token"))
