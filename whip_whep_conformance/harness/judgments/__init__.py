"""The suite's judgments: predicates that decide whether what a target sent conforms.

Kept on the suite's side of the house: the reference server decides its own behaviour with rules of
its own (reference_server/offers.py, codecs.py, etag.py) and may not import these (the import contract
in pyproject.toml), so a misreading of a spec cannot make server and suite agree. The protocol model
(whip_whep_conformance.protocol) only parses and formats.
"""
