"""The interop lab's marker: `./run tests -m interop` runs only the lab, `-m "not interop"` all but it."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "interop: runs the suite against an independent server in a namespace (root)")
