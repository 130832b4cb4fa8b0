"""Which requirement IDs grade a rule, by protocol: one table, not an `X if protocol == "whip" else Y`
in every case.

The cases in `suites/common/` state one rule for WHIP and WHEP alike; each revision numbers it its own
way. A rule's entry lists its WHIP ID and its WHEP IDs, one per WHEP revision that states it (draft-ietf-
wish-whep-03 `WHEPL-`, draft-murillo-whep-01 `WHEP01-`); CaseRecord.expect grades the first that holds in
the profile in force, so a revision that lacks the rule simply has no ID in the tuple (the check is then
Info). Arrangement rules (what a case that only sets a session up points at when the POST fails) are
here too, resolved to one ID by `in_force`.
"""

from __future__ import annotations

from whip_whep_conformance import registry

RULES: dict[str, dict[str, tuple[str, ...]]] = {
    # POST and the session it creates (arrangement: the rule a failed set-up step points at)
    "created": {"whip": ("WHIP-4.2-4",), "whep": ("WHEPL-4.2.1-1", "WHEP01-4.1-3")},
    "answered": {"whip": ("WHIP-4.2-5",), "whep": ("WHEPL-4.2.1-1", "WHEP01-4.1-3")},
    "session-url": {"whip": ("WHIP-4.2-6",), "whep": ("WHEPL-4.2.1-1", "WHEP01-4.1-3")},
    "dtls-role": {"whip": ("WHIP-D-11",), "whep": ("WHEPL-4.2.1-1", "WHEP01-4.1-3")},
    "viewer-connects": {"whep": ("WHEPL-4.4.2-3", "WHEP01-4.4-2")},
    "ice-server-links": {"whep": ("WHEPL-4.7-1", "WHEP01-4.7-1")},
    "token-refusal": {"whep": ("WHEPL-4.8.1-1", "WHEP01-4.8-1")},
    "extension-link-each": {"whep": ("WHEPL-4.9-2", "WHEP01-4.9-2")},
    # methods, OPTIONS and CORS
    "get-on-endpoint": {"whip": ("WHIP-4.1-4",), "whep": ("WHEPL-4.1-4", "WHEP01-4.3-6")},
    "put-is-405": {"whip": ("WHIP-4-1", "HTTP-19"), "whep": ("WHEP01-4.3-6", "HTTP-19")},
    "delete-ignores-if-match": {"whip": ("WHIP-4.3.1-10",), "whep": ("WHEPL-4.4.1-9",)},
    "preflight-without-credentials": {"whip": ("WHIP-4.2-17",), "whep": ("WHEPL-4.3-3", "WHEP01-4.3-7")},
    "options-accept-post": {"whip": ("WHIP-4.2-18",), "whep": ("WHEPL-4.3-4", "WHEP01-4.3-8")},
    # consent and the end of a session (RFC 7675)
    "consent-withdrawn-on-delete": {"whip": ("WHIP-4.2-16",), "whep": ("WHEPL-4.3-2", "WHEP01-4.3-5")},
    "session-ends-with-consent": {"whip": ("WHIP-4.2-13",), "whep": ("WHEPL-4.2.8-3", "WHEP01-4.3-3")},
    "refused-restart-ends-silent-session": {"whip": ("WHIP-4.3.3-12",), "whep": ("WHEPL-4.4.3-13",)},
    # security
    "session-ids-unguessable": {"whip": ("WHIP-5-3",), "whep": ("WHEPL-5-3",)},
    "https-only": {"whip": ("WHIP-5-1",), "whep": ("WHEPL-5-1", "WHEP01-5-1")},
    # media
    "one-bundle-transport": {"whip": ("WHIP-4.4.1-2",), "whep": ("WHEPL-4.5.1-2", "WHEP01-4.5-4")},
    # trickle ICE by PATCH
    "trickle-supported": {"whip": ("WHIP-4.3-1",), "whep": ("WHEPL-4.4-1",)},
    "trickle-204-no-content": {"whip": ("WHIP-4.3.2-11",), "whep": ("WHEPL-4.4.2-10", "WHEP01-4.4-16")},
    "trickle-204-no-etag": {"whip": ("WHIP-4.3.2-12",), "whep": ("WHEPL-4.4.2-11",)},
    "patch-wrong-type-4xx": {"whip": ("WHIP-4.3.1-3",), "whep": ("WHEPL-4.4.1-2",)},
    "patch-malformed-4xx": {"whip": ("WHIP-4.3.1-4",), "whep": ("WHEPL-4.4.1-2",)},
    "patch-stale-if-match-412": {"whip": ("WHIP-4.3.1-11",), "whep": ("WHEPL-4.4.1-10", "WHEP01-4.4-14")},
    "patch-without-if-match-428": {"whip": ("WHIP-4.3.1-11",), "whep": ("WHEPL-4.4.1-10",)},
    "patch-foreign-if-match-412": {"whip": ("WHIP-4.3.2-10",), "whep": ("WHEPL-4.4.2-9",)},
    "unusable-candidates-ignored": {"whip": ("WHIP-4.3.2-13",), "whep": ("WHEPL-4.4.2-12", "WHEP01-4.4-17")},
    "trickled-candidates-connect": {"whip": ("WHIP-4.3.2-8",), "whep": ("WHEPL-4.4.2-7",)},
    # ICE restart
    "restart-not-204": {"whip": ("WHIP-4.3.3-4",), "whep": ("WHEPL-4.4.3-4",)},
    "restart-refused-status": {"whip": ("WHIP-4.3.1-5",), "whep": ("WHEPL-4.4.1-3", "WHEP01-4.4-7")},
    "restart-connects": {"whip": ("WHIP-4.3.3-5",), "whep": ("WHEPL-4.4.3-5", "WHEP01-4.4-19")},
    "restart-new-entity-tag": {"whip": ("WHIP-4.3.3-6",), "whep": ("WHEPL-4.4.3-6", "WHEP01-4.4-11")},
    "restartable-session-strong-tag": {"whip": ("WHIP-4.3.1-8",), "whep": ("WHEPL-4.4.1-7", "WHEP01-4.4-12")},
    "ice-session-own-tag": {"whip": ("WHIP-D-6",), "whep": ("WHEPL-4.4.1-5", "WHEP01-4.4-9")},
    "restart-repeats-ice-lite": {"whip": ("WHIP-4.3.3-9",), "whep": ("WHEPL-4.4.3-9",)},
    "media-continues-across-restart": {"whip": ("WHIP-4.3.3-1",), "whep": ("WHEPL-4.4.3-1",)},
    "old-candidates-released": {"whip": ("WHIP-4.3.3-8",), "whep": ("WHEPL-4.4.3-8",)},
    "failed-restart-refused": {"whip": ("WHIP-4.3.3-10",), "whep": ("WHEPL-4.4.3-10", "WHEPL-4.4.3-11")},
    "failed-restart-keeps-session": {"whip": ("WHIP-4.3.3-10",), "whep": ("WHEPL-4.4.3-11",)},
}


def ids(rule: str, protocol: str) -> tuple[str, ...]:
    """The IDs `rule` is graded under for `protocol` ("whip" or "whep"), for CaseRecord.expect."""
    return RULES[rule][protocol]


def in_force(rule: str, protocol: str, whip_profile: str, whep_profile: str) -> str:
    """The one ID of `rule` that holds in the profiles in force (else its first), for a message or a
    capability, which name a single requirement."""
    candidates = ids(rule, protocol)
    return next((i for i in candidates if registry.get(i).applies_to(whip_profile, whep_profile)), candidates[0])
