"""The fault catalogue is typed and every fault is reachable: applied by the fault layer or a hook,
and shown failing a check by tests/fault_map.toml. Static (the server's source) and in-process: no
server is started."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from whip_whep_conformance.reference_server import fault_layer
from whip_whep_conformance.reference_server.fault_layer import Check, Exchange, FaultLayer, Route
from whip_whep_conformance.reference_server.faults import FAULTS, ActiveFaults, Fault, Kind

from .suite_run import fault_map

SERVER = Path(fault_layer.__file__).parent
# Where each kind of fault is applied. Response-shaping kinds and the signalling hooks live in the
# fault layer (faults.py holds its SDP-answer and WHIP-extension helpers, which only the layer calls);
# the media relay, the WHEP event streams and the live-input API keep their faults at their own hook
# points (those modules are the relay's hot path and the events/API model).
APPLIED_IN = {
    Kind.RELAY: {"relay.py"},
    Kind.EVENTS: {"events.py", "event_streams.py"},
    Kind.API: {"live_inputs_api.py", "server.py"},
}
LAYER = {"fault_layer.py", "faults.py"}
# Faults proven by a named test rather than a fault_map.toml row: what they change no conformance
# check can see without timing it.
PROVEN_ELSEWHERE: dict[str, str] = {
    # joiners wait for the next keyframe: TTFF goes back up (benchmarks/latency.py --together), which the
    # suite reports as a figure only; the test shows the joiner decodes nothing cached before its join
    "no-gop-cache": "tests/test_gop_cache.py::test_without_the_cache_a_joiner_waits_for_the_next_keyframe",
}


def _references() -> dict[str, set[str]]:
    """Fault member name -> the server modules that name it (`Fault.X`, or `F.X` where F is Fault)."""
    found: dict[str, set[str]] = {}
    for path in sorted(SERVER.glob("*.py")):
        tree = ast.parse(path.read_text())
        aliases = {"Fault"} | {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
                               and isinstance(n.value, ast.Name) and n.value.id == "Fault"
                               for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.setdefault(node.attr, set()).add(path.name)
    return found


def test_every_fault_named_in_code_exists():
    members = set(Fault.__members__) | {"value", "kind", "help", "name"}
    unknown = sorted(name for name in _references() if name not in members)
    assert not unknown, f"the server names faults the catalogue does not have (misspelt?): {unknown}"


def test_every_fault_is_applied_where_its_kind_says():
    refs = _references()
    misplaced = []
    for fault in Fault:
        where = APPLIED_IN.get(fault.kind, LAYER)
        if not refs.get(fault.name, set()) & where:
            misplaced.append(f"{fault.value} ({fault.kind.name}): named in {sorted(refs.get(fault.name, ()))}, "
                             f"expected in {sorted(where)}")
    assert not misplaced, "faults no hook or layer step applies (dead, or applied outside their kind):\n" + "\n".join(misplaced)


def test_the_layer_applies_the_answer_and_extension_helpers():
    source = (SERVER / "fault_layer.py").read_text()
    assert "rewrite_answer(" in source and "whip_extension_links(" in source, (
        "faults.py's answer and WHIP-extension helpers are applied only through the fault layer")


def test_every_fault_is_proven_by_a_fault_map_row_or_a_named_test():
    mapped = {row["fault"] for row in fault_map()} | set(PROVEN_ELSEWHERE)
    unproven = sorted(f.value for f in Fault if f.value not in mapped)
    assert not unproven, f"faults no fault_map.toml row (or named test) exercises: {unproven}"


@pytest.mark.parametrize("module", ["signalling.py", "whip.py", "whep.py"])
def test_handlers_name_no_fault_and_import_no_app(module):
    tree = ast.parse((SERVER / module).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    named = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & {"Fault", "ActiveFaults"}
    assert "app" not in imported and not named, (
        f"{module}: handlers reach faults only through the fault layer and the server only through ports "
        f"(imports {sorted(m or '' for m in imported)}, names {sorted(named)})")


# Issue 20's target: the handlers build the correct response; what stays in signalling.py is a few named
# hook points (the auth verdict, the methods in force, a refusal of an offer, the answers instead of the
# handler, what follows a restart, the checks a fault switches off). Response shaping is fault_http's.
SIGNALLING_LAYER_REFERENCES_MAX = 10


def _layer_references(source: str) -> list[str]:
    """Every call into the fault layer, one each: an access `<anything>.layer` (e.g. `server.layer.auth(...)`
    is one), or an attribute of a name `layer` (an alias of it)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "layer":
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "layer":
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_signalling_reaches_the_fault_layer_at_a_few_hook_points():
    references = _layer_references((SERVER / "signalling.py").read_text())
    assert len(references) <= SIGNALLING_LAYER_REFERENCES_MAX, (
        f"signalling.py calls the fault layer {len(references)} times (at most {SIGNALLING_LAYER_REFERENCES_MAX}: "
        "response shaping belongs to fault_http's middleware):\n" + "\n".join(references))


def test_the_catalogue_keeps_the_fault_names():
    assert FAULTS == {f.value: f.help for f in Fault} and len(FAULTS) == len(Fault)
    assert Fault("etag-weak") is Fault.ETAG_WEAK and str(Fault.S405_WITHOUT_ALLOW) == "405-without-allow"


def test_active_faults_refuse_a_string():
    active = ActiveFaults.named(["etag-weak"])
    assert Fault.ETAG_WEAK in active
    with pytest.raises(TypeError):
        "etag-weak" in active  # noqa: B015  a string would be silently False
    with pytest.raises(ValueError, match="no-such-fault"):
        ActiveFaults.named(["no-such-fault"])


def test_without_faults_the_layer_changes_nothing():
    layer = FaultLayer(ActiveFaults())
    request = make_mocked_request("PATCH", "/k/webRTC/publish/s", headers={"Content-Type": "text/plain"})

    async def shaped() -> list[tuple[Route, bool]]:
        results = []
        for route in Route:
            response = web.Response(status=204)
            results.append((route, await layer.shape(route, response, Exchange(request)) is response))
        return results

    changed = [route for route, same in asyncio.run(shaped()) if not same]
    assert not changed, f"a layer with no fault rewrote the responses of {changed}"
    assert not [c for c in Check if layer.waives(c)] and not layer.waived(), "a layer with no fault switched checks off"
    assert layer.base_headers({"a": "1", "protocol-version": "rfc9725", "Access-Control-Expose-Headers": "x"}) == {
        "a": "1", "protocol-version": "rfc9725", "Access-Control-Expose-Headers": "x"}
    assert layer.session_id(7, lambda: "random") == "random" and layer.get_is_405(False) is False
