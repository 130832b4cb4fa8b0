"""Every fault × the whole suite (run on purpose; minutes per fault): which tests react to which fault.

For each fault of whip_whep_conformance/reference_server/faults.py the whole suite runs against an embedded server started
with it; the script prints the tests mapped to the fault (tests/fault_map.toml) that did NOT react
(a defect), and the other tests that did react (collateral: fine when the fault breaks what they need,
worth a look when a test fails for a fault it does not name).

    .venv/bin/python benchmarks/fault_cross_check.py [--faults NAME ...] [--pair standard|cloudflare]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whip_whep_conformance.reference_server.faults import FAULTS  # noqa: E402
from tests.suite_run import fault_map, pair_args, run_suite  # noqa: E402

REACTED = {"Fail", "Error", "Warning"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", nargs="*", default=sorted(FAULTS))
    parser.add_argument("--pair", default="standard", choices=["standard", "cloudflare"])
    args = parser.parse_args()
    mapped: dict[str, dict[str, str]] = defaultdict(dict)  # fault -> test -> the verdict it must reach
    for row in fault_map():
        if row.get("pair", "standard") == args.pair:
            mapped[row["fault"]][row["test"]] = row.get("verdict", "Fail")
    defects = 0
    for fault in args.faults:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_suite([f"--server-fault={fault}", "--timeout-s=3", *pair_args(args.pair)], Path(tmp))
        cases = (run.doc or {}).get("cases", [])
        verdicts: dict[str, set[str]] = defaultdict(set)
        for c in cases:
            verdicts[c["id"].split("[")[0]].add(c["verdict"])
        reacted = {test for test, seen in verdicts.items() if seen & REACTED}
        silent = sorted(test for test, want in mapped[fault].items() if want not in verdicts.get(test, set()))
        collateral = sorted(reacted - set(mapped[fault]))
        defects += len(silent)
        print(f"{fault}: {len(reacted)} tests reacted; mapped but silent: {silent or 'none'}")
        for test in collateral:
            print(f"    also reacted: {test}")
    print(f"{len(args.faults)} faults; mapped tests that did not react: {defects}")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
