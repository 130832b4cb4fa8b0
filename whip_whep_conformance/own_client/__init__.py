"""The project's own WHIP/WHEP client, as a command: the client that `whip-whep-conformance clients`
grades when no other is named, and, with client faults (`--fault`), the proof that every client
check fails against a client with the matching defect, as server faults prove the server checks.

    python -m whip_whep_conformance.own_client whip URL [--token=T] [--fault=NAME ...]
    python -m whip_whep_conformance.own_client whep URL [--token=T] [--fault=NAME ...]

It publishes (or plays) until SIGINT/SIGTERM, then DELETEs its session and exits 0.
"""
