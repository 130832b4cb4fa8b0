"""The bundled WHIP/WHEP reference server: live inputs API, WHIP ingest, WHEP playback.

Small enough to read in an afternoon; every conformance test passes against it, and every
test fails against it when started with the matching `--fault`.
"""
