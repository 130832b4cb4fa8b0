"""Root conftest: the conformance plugin itself is registered by the `pytest11` entry point
(whip_whep_conformance.plugin), so `pytest` here and the `whip-whep-conformance` script behave the same."""

collect_ignore = ["reports", "reference_server", "build"]
