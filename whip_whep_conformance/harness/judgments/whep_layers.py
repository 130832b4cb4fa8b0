"""Is `layers` event data what WHEP §4.9.1.3 describes? The suite's judgment."""

from __future__ import annotations

import json
from typing import Any

from whip_whep_conformance.protocol.whep_extensions import LAYER_IDS

def layer_problems(data: Any) -> list[str]:
    """What is wrong with `layers` event data (§4.9.1.3): an object keyed by m-line index, each an
    array of layer objects with at least one of rid, spatialLayerId, temporalLayerId."""
    if not isinstance(data, dict):
        return [f"the data is a JSON {type(data).__name__}, not an object keyed by m-line index"]
    found = []
    for key, layers in data.items():
        if not str(key).isdigit():
            found.append(f"key {key!r} is not an m-line index")
        if not isinstance(layers, list):
            found.append(f"m-line {key}: {json.dumps(layers)[:80]} is not an array of layers")
            continue
        for layer in layers:
            if not isinstance(layer, dict) or not any(k in layer for k in LAYER_IDS):
                found.append(f"m-line {key}: layer {json.dumps(layer)[:80]} has none of {', '.join(LAYER_IDS)}")
    return found
