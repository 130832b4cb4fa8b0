"""Expected verdicts of real clients under `whip-whep-conformance clients`, as checked-in data
(tests/clients/expected/<client>.json), so a change in a client case or the harness that moves a real
client's verdict shows up as a named difference.

    python -m tests.clients.expected_verdicts record ffmpeg [CASE paths]   # run, write expected/ffmpeg.json
    python -m tests.clients.expected_verdicts check ffmpeg                  # run, print differences

Recording keeps the "cause" already written for a case whose verdict did not move; every other non-Pass
verdict is written with an empty cause and named on stdout: a person fills in why (a cause is a judgement,
not something a run can know). The client list and commands are tests/clients/real_clients.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.clients import in_namespace
from tests.clients.real_clients import CLIENTS, RealClient

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
REPO = HERE.parents[1]


# Verdicts that say something of the client and need a person's cause; Not applicable and Info carry
# the case's own message (the client never did the thing graded, or the profile states no rule).
FINDINGS = ("Fail", "Warning", "Error", "Unsupported")


def expected_file(name: str) -> Path:
    return EXPECTED / f"{name}.json"


def clients_command(client: RealClient, reports_dir: Path, cases: list[str]) -> list[str]:
    """The `clients` run grading `client` (in a namespace of its own when the client needs one)."""
    cmd = [sys.executable, "-m", "whip_whep_conformance.cli", "clients", f"--reports-dir={reports_dir}",
           f"--{client.protocol}-client={client.command()}", *cases]
    if client.namespace:  # libnice skips loopback: the server's candidates go on the namespace's veth
        from tests.interop.lab import SUITE_ADDR

        return in_namespace.command([*cmd, f"--server-ice-host={SUITE_ADDR}"])
    return cmd


def run(client: RealClient, reports_dir: Path, cases: list[str], timeout_s: float = 900) -> dict:
    """One `clients` run: {case id: {"verdict", "message"}} and the run's wall time and exit code."""
    t0 = time.monotonic()
    done = subprocess.run(clients_command(client, reports_dir, cases), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout_s)
    results = reports_dir / "results.json"
    if not results.exists():
        raise RuntimeError(f"`clients` wrote no results.json (exit {done.returncode}): {done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")
    data = json.loads(results.read_text())
    verdicts = {case["id"].removeprefix("suites/clients/"): {"verdict": case["verdict"], "message": case["message"],
                                                             "duration_s": case["duration_s"]}
                for case in data["cases"]}
    return {"verdicts": verdicts, "wall_s": round(time.monotonic() - t0, 1), "exit_code": done.returncode,
            "output": done.stdout[-3000:]}


def load(name: str) -> dict:
    path = expected_file(name)
    return json.loads(path.read_text()) if path.exists() else {"verdicts": {}}


def differences(expected: dict, got: dict) -> list[str]:
    """One line per case whose verdict moved, appeared or went: the case, expected and got (with its message)."""
    lines = []
    want, have = expected["verdicts"], got["verdicts"]
    for case in sorted(set(want) | set(have)):
        w, h = want.get(case, {}).get("verdict"), have.get(case, {}).get("verdict")
        if w != h:
            message = have.get(case, {}).get("message", "")
            lines.append(f"{case}: expected {w or '(no such case recorded)'}, got {h or '(case not run)'}"
                         + (f" — {message[:400]}" if message else ""))
    return lines


def record(name: str, got: dict, cases: list[str]) -> list[str]:
    """Write expected/<name>.json from `got` (a partial run updates only its cases); the non-Pass cases
    that still need a cause written."""
    client, old = CLIENTS[name], load(name)
    verdicts = dict(old["verdicts"]) if cases else {}
    for case, seen in got["verdicts"].items():
        entry = {"verdict": seen["verdict"]}
        before = old["verdicts"].get(case, {})
        if seen["verdict"] != "Pass":
            entry["cause"] = before.get("cause", "") if before.get("verdict") == seen["verdict"] else ""
            entry["message"] = seen["message"]
        verdicts[case] = entry
    EXPECTED.mkdir(exist_ok=True)
    expected_file(name).write_text(json.dumps({
        "client": client.label, "protocol": client.protocol, "namespace": client.namespace,
        **({"note": client.note} if client.note else {}),
        "regenerate": f"python -m tests.clients.expected_verdicts record {name}",
        "verdicts": dict(sorted(verdicts.items()))}, indent=1, ensure_ascii=False) + "\n")
    return [case for case, entry in verdicts.items() if entry["verdict"] in FINDINGS and not entry.get("cause")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("client", choices=sorted(CLIENTS))
    parser.add_argument("cases", nargs="*", help="suite case paths (default: every client case)")
    parser.add_argument("--reports-dir", type=Path)
    args = parser.parse_args()
    reports = args.reports_dir or Path(tempfile.mkdtemp(prefix=f"expected-{args.client}-"))
    got = run(CLIENTS[args.client], reports, args.cases)
    print(f"{args.client}: {len(got['verdicts'])} verdicts in {got['wall_s']} s (exit {got['exit_code']}); "
          f"reports {reports}")
    if args.action == "check":
        diffs = differences(load(args.client), got)
        print("\n".join(diffs) or "no differences")
        return 1 if diffs else 0
    missing = record(args.client, got, args.cases)
    print(f"wrote {expected_file(args.client)}" + "".join(f"\n  needs a cause: {c}" for c in missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
