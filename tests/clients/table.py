"""Write the README's table of tested clients from the last run of `./run tests tests/clients`.

    .venv/bin/python -m tests.clients.table          # rewrite the README section in place
    .venv/bin/python -m tests.clients.table --print  # print it only

The section sits between `<!-- clients:begin -->` and `<!-- clients:end -->`. One row per client, role and
test, one column per profile pair; a cell is the outcome and what was measured (codec, frames…).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from tests.clients.conftest import PAIRS, REPO, RESULTS_DIR

BEGIN, END = "<!-- clients:begin -->", "<!-- clients:end -->"
README = REPO / "README.md"
MARK = {"passed": "works", "failed": "**fails**", "xfailed": "fails (known)", "skipped": "not run"}


def _variant(record: dict) -> str:
    """What distinguishes one test of a client from another: its name, and its parameters but the pair."""
    name, _, params = record["test"].split("::")[-1].partition("[")
    kept = [p for p in params.rstrip("]").split("-") if p and p not in PAIRS]
    words = name.removeprefix("test_").replace("_", " ")
    return f"{words} ({', '.join(kept)})" if kept else words


def _figures(measured: dict) -> str:
    """The figures a reader compares across cells: codec, frames (or seconds held), and what the
    client's DELETE and PATCH requests were answered; the rest stays in build/clients/*.json."""
    shown = []
    if "codec" in measured:
        shown.append(str(measured["codec"]))
    if "hold_s" in measured and float(measured["hold_s"]) >= 10:
        shown.append(f"held {measured['hold_s']} s")
    elif "frames" in measured:
        shown.append(f"{measured['frames']} frames")
    for key, label in (("delete", "DELETE"), ("deletes", "DELETE"), ("unload_delete", "DELETE"),
                       ("patch", "PATCH"), ("whip_patch", "WHIP PATCH"), ("whep_patch", "WHEP PATCH")):
        if key in measured:
            value = measured[key]
            values = value if isinstance(value, list) else [value]
            statuses = sorted({"not sent" if v is None else str(v) for v in values})
            shown.append(f"{label} {'/'.join(statuses)}")
    if "disconnect" in measured:
        shown.append(f"disconnect {measured['disconnect']}")
    return ", ".join(shown)


def _cell(records: list[dict]) -> str:
    if not records:
        return "—"
    parts = []
    for record in sorted(records, key=lambda r: r["test"]):
        figures = _figures(record.get("measured", {}))
        text = MARK.get(record["outcome"], record["outcome"])
        parts.append(f"{text}: {figures}" if figures else text)
    return "; ".join(dict.fromkeys(parts))


def table(results_dir: Path = RESULTS_DIR) -> str:
    rows: dict[tuple[str, str, str], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(results_dir.glob("*.json")):
        record = json.loads(path.read_text())
        rows[(record["client"], record["role"], _variant(record))][record["pair"] or "standard"].append(record)
    header = "| client | role | test | " + " | ".join(f"{name} ({PAIRS[name].id})" for name in PAIRS) + " |"
    lines = [header, "|---|---|---|" + "---|" * len(PAIRS)]
    for (client, role, variant), by_pair in sorted(rows.items()):
        cells = " | ".join(_cell(by_pair.get(name, [])) for name in PAIRS)
        lines.append(f"| {client} | {role} | {variant} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table, leave the README alone")
    args = parser.parse_args(argv)
    if not RESULTS_DIR.is_dir() or not any(RESULTS_DIR.glob("*.json")):
        print(f"no client results in {RESULTS_DIR}: run ./run tests tests/clients first", file=sys.stderr)
        return 1
    text = table()
    if args.print:
        print(text)
        return 0
    readme = README.read_text()
    if BEGIN not in readme or END not in readme:
        print(f"README.md has no {BEGIN} … {END} section", file=sys.stderr)
        return 1
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    print(f"README.md: client table rewritten from {RESULTS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
