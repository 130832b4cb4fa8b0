"""The import contract (pyproject.toml's [tool.importlinter]) holds, and would catch a breach.

The house's directions: cli -> plugin -> reporting -> suites -> harness -> webrtc -> protocol; the reference
server imports the protocol model and the aiortc adaptations only, never the harness and its judgments, so a
misreading of a spec cannot make server and suite agree (issue 20).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                "sys.exit(lint_imports_command())", "--no-cache", "--no-logo"]


def _lint(tree: Path) -> subprocess.CompletedProcess:
    """lint-imports over the package in `tree`, with `tree`'s pyproject.toml, importing from `tree` first."""
    return subprocess.run(LINT_IMPORTS + [str(tree / "pyproject.toml")], cwd=tree, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


def test_the_tree_keeps_every_contract():
    run = _lint(REPO)
    assert run.returncode == 0, f"lint-imports found a broken import contract:\n{run.stdout}{run.stderr}"


def test_a_server_importing_a_judgment_breaks_the_contract(tmp_path):
    """The control above proves nothing unless a breach fails: give a copy of the server one judgment import."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "whip_whep_conformance", tmp_path / "whip_whep_conformance",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "whip_whep_conformance" / "reference_server" / "borrowed.py").write_text(
        "from whip_whep_conformance.harness.judgments import codecs  # the breach\n")
    run = _lint(tmp_path)
    report = " ".join(run.stdout.split())  # lint-imports wraps its lines
    assert run.returncode != 0 and "reference_server.borrowed -> whip_whep_conformance.harness.judgments" in report, (
        f"lint-imports let the server import a suite judgment:\n{run.stdout}{run.stderr}")
