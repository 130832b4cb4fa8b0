"""Resource hygiene: create/delete cycles leave nothing behind (CI size; benchmarks/churn.py runs 1000)."""

import asyncio
import sys

from .suite_run import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import churn  # noqa: E402


def test_create_delete_cycles_leave_no_sessions_tasks_fds_or_sockets():
    """Half the cycles connect ICE/DTLS, which exercises closing a connection aiortc is still starting."""
    before, after, _ = asyncio.run(churn.churn(cycles=40, connect_every=2))
    leaked = {k: (before[k], after[k]) for k in ("live_inputs", "sessions", "tasks", "open_fds", "udp_sockets") if after[k] > before[k]}
    assert not leaked, f"left behind (before, after): {leaked}"
