"""Wall time of the default conformance run (README command 1, after set-up), by concurrency.

Runs `whip-whep-conformance --max-concurrency=N` against the embedded reference server (both profile
pairs, every case) several times per N and prints the median wall time of the whole command, the
run's own duration from results.json, and the sum of the cases' durations (the time one process
would need). Every run must end with exit code 0 and the same number of cases, or the figure is void.

    .venv/bin/python benchmarks/suite_time.py --runs 3 --concurrency 1 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = Path(sys.executable).parent / "whip-whep-conformance"


def one_run(concurrency: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as reports:
        started = time.monotonic()
        proc = subprocess.run([str(CLI), "-q", f"--max-concurrency={concurrency}", f"--reports-dir={reports}"],
                              capture_output=True, text=True)
        wall = time.monotonic() - started
        doc = json.loads((Path(reports) / "results.json").read_text())
    if proc.returncode != 0:
        sys.exit(f"run at --max-concurrency={concurrency} exited {proc.returncode}:\n{proc.stdout[-3000:]}")
    return wall, doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.runs} runs per concurrency, embedded server, both profile pairs")
    print("concurrency | wall (median, s) | run duration (median, s) | sum of case durations (s) | cases | runs (wall, s)")
    for n in args.concurrency:
        walls, durations, sums, cases = [], [], [], set()
        for _ in range(args.runs):
            wall, doc = one_run(n)
            walls.append(wall)
            durations.append(doc["duration_s"])
            sums.append(sum(c["duration_s"] for c in doc["cases"]))
            cases.add(len(doc["cases"]))
        if len(cases) != 1:
            sys.exit(f"--max-concurrency={n}: the runs had different case counts {sorted(cases)}")
        print(f"{n:>11} | {statistics.median(walls):16.1f} | {statistics.median(durations):24.1f} | "
              f"{statistics.median(sums):25.1f} | {cases.pop():5} | {', '.join(f'{w:.1f}' for w in walls)}", flush=True)


if __name__ == "__main__":
    main()
