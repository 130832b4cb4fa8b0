"""The README's client table names every client the tests run: a client test added without
regenerating the table (`python -m tests.clients.table`) is caught here.

The clients are read as pytest itself sees them: the test folder is collected (in a child pytest,
`--collect-only`), and each item's `client` mark read as tests/clients/conftest.py records it (its
closest mark, first argument, `role`). So a name built in a variable or an f-string is resolved, not
missed; a mark without a string name, or a folder that does not collect, fails here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.clients.conftest import REPO
from tests.clients.table import BEGIN, END, README

HERE = Path(__file__).resolve().parent
COLLECT_TIMEOUT_S = 120
# Run as `python -c`: collects ARGV[2:] and writes each item's client mark to the file ARGV[1].
COLLECT = r"""
import json, sys
import pytest

class ClientMarks:
    def __init__(self):
        self.marks = []

    def pytest_collection_finish(self, session):
        for item in session.items:
            mark = item.get_closest_marker("client")
            if mark is not None:
                self.marks.append({"test": item.nodeid, "args": [repr(a) if not isinstance(a, str) else a for a in mark.args],
                                   "name_is_str": bool(mark.args) and isinstance(mark.args[0], str),
                                   "role": mark.kwargs.get("role", "both") if isinstance(mark.kwargs.get("role", "both"), str)
                                           else repr(mark.kwargs["role"]),
                                   "role_is_str": isinstance(mark.kwargs.get("role", "both"), str)})

plugin = ClientMarks()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[2:]], plugins=[plugin])
with open(sys.argv[1], "w") as out:
    json.dump({"exit": int(code), "marks": plugin.marks}, out)
"""


def collected_client_marks(folder: Path, tmp_path: Path) -> dict:
    """{"exit": pytest's exit code, "marks": [each collected item's client mark]} for the tests in `folder`."""
    out = tmp_path / "client-marks.json"
    run = subprocess.run([sys.executable, "-c", COLLECT, str(out), str(folder)], cwd=REPO, capture_output=True,
                         text=True, timeout=COLLECT_TIMEOUT_S)
    assert out.exists(), f"collecting {folder} wrote nothing: exit {run.returncode}\n{run.stdout[-2000:]}{run.stderr[-1000:]}"
    found = json.loads(out.read_text())
    found["output"] = run.stdout[-2000:]
    return found


def _clients(found: dict) -> set[tuple[str, str]]:
    bad = [m for m in found["marks"] if not (m["name_is_str"] and m["role_is_str"])]
    assert not bad, f"client marks whose name (first argument) or role is not a string: {bad}"
    return {(m["args"][0], m["role"]) for m in found["marks"]}


def test_readme_table_lists_every_client_tested(tmp_path):
    found = collected_client_marks(HERE, tmp_path)
    assert found["exit"] == 0, f"tests/clients does not collect (exit {found['exit']}): its clients are unknown\n{found['output']}"
    clients = _clients(found)
    assert clients, f"no client mark collected in {HERE}: the reading of the marks is broken"
    readme = README.read_text()
    assert BEGIN in readme and END in readme, f"README.md lost its {BEGIN} … {END} section"
    section = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:2]) for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| client ")}
    missing = clients - rows
    assert not missing, f"clients tested but not in the README table (run python -m tests.clients.table): {sorted(missing)}"


def test_client_names_are_read_as_collected_and_a_mark_without_a_string_name_is_refused(tmp_path):
    """The control: a literal name, a name in a variable and one built by an f-string are all read;
    a mark whose name is not a string is refused (it could not be a table row)."""
    folder = tmp_path / "example"
    folder.mkdir()
    (folder / "test_example.py").write_text(
        'import pytest\n'
        'VERSION = "2.0"\n'
        'NAME = f"Built client {VERSION}"\n'
        '@pytest.mark.client("Literal client 1.0", role="play")\n'
        'def test_a(): pass\n'
        '@pytest.mark.client(NAME, role="publish")\n'
        'def test_b(): pass\n'
        '@pytest.mark.client(3)\n'
        'def test_c(): pass\n')
    found = collected_client_marks(folder, tmp_path)
    read = {(m["args"][0], m["role"]) for m in found["marks"] if m["name_is_str"]}
    refused = [m["test"].rsplit("::", 1)[1] for m in found["marks"] if not m["name_is_str"]]
    assert (found["exit"], read, refused) == (0, {("Literal client 1.0", "play"), ("Built client 2.0", "publish")}, ["test_c"]), \
        f"collected {found}"
