"""A launcher only: `python -m reference_server`. The server is whip_whep_conformance.reference_server."""
