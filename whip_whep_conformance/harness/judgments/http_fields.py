"""Is an ETag a target sent an entity-tag, and a strong one (RFC 9110 §8.8.3)? The suite's judgment."""

from __future__ import annotations

import re

# RFC 9110 §8.8.3: entity-tag = [ weak ] opaque-tag; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'^(W/)?"[\x21\x23-\x7e\x80-\xff]*"$')


def is_entity_tag(value: str) -> bool:
    return bool(_ENTITY_TAG.match(value.strip()))


def is_strong_entity_tag(value: str) -> bool:
    value = value.strip()
    return is_entity_tag(value) and not value.startswith("W/")


def is_imf_fixdate(value: str) -> bool:
    """The preferred HTTP-date form, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`."""
    return bool(re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                             r"\d{4} \d{2}:\d{2}:\d{2} GMT", value.strip()))
