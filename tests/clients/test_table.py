"""The README's client table names every client the tests run: a client test added without
regenerating the table (`python -m tests.clients.table`) is caught here."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.clients.table import BEGIN, END, README

HERE = Path(__file__).resolve().parent


def _marked_clients() -> set[tuple[str, str]]:
    found = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                role = next((k.value.value for k in node.keywords if k.arg == "role"), "both")
                found.add((node.args[0].value, role))
    return found


def test_readme_table_lists_every_client_tested():
    readme = README.read_text()
    assert BEGIN in readme and END in readme, f"README.md lost its {BEGIN} … {END} section"
    section = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]) for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| client ")}
    missing = _marked_clients() - rows
    assert not missing, f"clients tested but not in the README table (run python -m tests.clients.table): {sorted(missing)}"
