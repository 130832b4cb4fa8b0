"""Protocol model shared by the WHIP/WHEP conformance suite and the reference server.

SDP and sdpfrag handling, HTTP field syntax, the requirement registry, profiles and the
result formats live here once, so that no test and no server handler re-implements them.
"""

__version__ = "0.1.0"
