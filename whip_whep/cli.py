"""`whip-whep-conformance`: run the conformance suite from anywhere, with the suite's options.

It is pytest with this project's suite and settings pinned, so the options are the same as
`pytest` in the repository (`--endpoint`, `--live-inputs`, `--reports-dir`, …) and the exit codes
are the suite's: 0 no Fail/Error, 1 a Fail or Error, 6 target unreachable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def main(argv: list[str] | None = None) -> int:
    import suites

    args = list(sys.argv[1:] if argv is None else argv)
    suite_dir = Path(suites.__file__).resolve().parent
    ini = Path(__file__).resolve().parent / "suite.ini"
    # Select cases by node id relative to the suite (`whip/test_4_2_...py::test_x`) or by -k.
    selected = [a for a in args if not a.startswith("-") and (suite_dir / a.split("::")[0]).exists()]
    options = [a for a in args if a not in selected]
    paths = [str(suite_dir / a) for a in selected] or [str(suite_dir)]
    return int(pytest.main(["-c", str(ini), f"--rootdir={suite_dir.parent}", "-p", "no:cacheprovider", *options, *paths]))


if __name__ == "__main__":
    sys.exit(main())
