"""The protocol model shared by suite and server: parsers and formatters of SDP, sdpfrag, Link, headers, problem details, and the profiles. No conformance judgments live here."""
