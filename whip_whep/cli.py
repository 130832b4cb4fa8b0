"""`whip-whep-conformance`: run the conformance suite from anywhere, with the suite's options.

It is pytest with this project's suite and settings pinned, so the options are the same as
`pytest` in the repository (`--endpoint`, `--live-inputs`, `--reports-dir`, …) and the exit codes
are the suite's: 0 no Fail/Error, 1 a Fail or Error, 6 target unreachable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def merge(argv: list[str]) -> int:
    """`whip-whep-conformance merge RESULTS.json... -o matrix.html`: runs side by side."""
    import argparse

    from .report_matrix import write_matrix

    parser = argparse.ArgumentParser(prog="whip-whep-conformance merge", description=merge.__doc__)
    parser.add_argument("results", nargs="+", type=Path, help="results.json files of conformance runs")
    parser.add_argument("-o", "--output", type=Path, default=Path("matrix.html"), help="HTML file to write (default matrix.html)")
    args = parser.parse_args(argv)
    try:
        count = write_matrix(args.results, args.output)
    except ValueError as exc:
        print(f"whip-whep-conformance merge: {exc}", file=sys.stderr)
        return 2
    print(f"{args.output}: {count} runs side by side")
    return 0


def main(argv: list[str] | None = None) -> int:
    from importlib.util import find_spec

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["merge"]:
        return merge(args[1:])
    # located, not imported, so that pytest can still rewrite the suite's asserts
    suite_dir = Path(next(iter(find_spec("suites").submodule_search_locations))).resolve()
    ini = Path(__file__).resolve().parent / "suite.ini"
    # Select cases by node id relative to the suite (`whip/test_4_2_...py::test_x`) or by -k.
    selected = [a for a in args if not a.startswith("-") and (suite_dir / a.split("::")[0]).exists()]
    options = [a for a in args if a not in selected]
    paths = [str(suite_dir / a) for a in selected] or [str(suite_dir)]
    # this module's own package is imported by the time pytest starts: its asserts need no rewriting
    quiet = ["-W", "ignore:Module already imported so cannot be rewritten; whip_whep:pytest.PytestAssertRewriteWarning"]
    return int(pytest.main(["-c", str(ini), f"--rootdir={suite_dir.parent}", "-p", "no:cacheprovider", *quiet, *options, *paths]))


if __name__ == "__main__":
    sys.exit(main())
