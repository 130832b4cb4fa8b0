"""Which cases run: every conformance case names registry requirements (an unknown ID is a usage
error), and `--requirement` / `--level` keep only the cases that check what was asked for. The cases of
open proposals (WHEPP-*, registry.PROPOSALS_SPEC) run only under `--whep-proposals`: deselected otherwise,
so a default run's counts and reports are those of the published drafts alone."""

from __future__ import annotations

import pytest

from whip_whep_conformance import registry
from whip_whep_conformance.harness import needs


def add_markers(config: pytest.Config) -> None:
    """The markers the cases carry (declared in every run, so --strict-markers knows them)."""
    config.addinivalue_line("markers", "requirement(*ids): registry requirement IDs a conformance case checks")
    config.addinivalue_line("markers", f"{needs.VIEWER_MARK}: the case watches media at a WHEP viewer (needs a WHEP endpoint)")


LEVELS = {"must": "fail", "should": "warn", "may": "capability", "info": "info"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every conformance case must name registry requirements (an unknown ID is a usage error);
    `--requirement` and `--level` keep only the cases that check what was asked for."""
    wanted_ids = set(config.getoption("requirement") or [])
    proposals = bool(config.getoption("whep_proposals"))
    for req_id in wanted_ids:
        if req_id not in registry.load():
            raise pytest.UsageError(f"--requirement {req_id}: not in the registry (see --list-requirements)")
    wanted_grades = {LEVELS[level] for level in config.getoption("level") or []}
    selected, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("requirement")
        if marker is None:
            selected.append(item)
            continue
        for req_id in marker.args:
            try:
                registry.get(req_id)
            except registry.UnknownRequirement as exc:
                raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        if not proposals and all(registry.get(i).proposed for i in marker.args):
            deselected.append(item)
            continue
        keep = (not wanted_ids or wanted_ids & set(marker.args)) and (
            not wanted_grades or any(registry.get(i).grade in wanted_grades for i in marker.args)
        )
        (selected if keep else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
