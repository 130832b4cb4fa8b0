"""The interop lab: the conformance suite run against independently written servers (Janus with
Meetecho's WHIP and WHEP servers) must give exactly the verdicts checked in under expected/, each
justified by the spec text and the peer's source. A verdict that changes in either direction fails:
a suite change that loses a true defect, or adds a false one, is caught here.

Cases whose verdict differs are run once more on their own before the test fails (a media case can
miss a deadline on a loaded machine; a real change shows twice). Needs root and network namespaces (the servers run in a private one); skipped otherwise, with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from tests.interop import expectations, lab


@pytest.fixture(scope="session")
def namespaces() -> None:
    why_not = lab.namespace_support()
    if why_not:
        pytest.skip(why_not)


@pytest.mark.interop
@pytest.mark.parametrize("server", sorted(lab.SERVERS))
def test_verdicts_match_expectations(server: str, namespaces) -> None:
    header, rows = expectations.load(server)
    # Reports go to WHIP_WHEP_LAB_RESULTS/<server> when set (e.g. for CI artifacts), else to a folder of
    # our own that is removed when the verdicts match (pytest's tmp_path is pruned by any other pytest
    # session of the same user, which can happen during a run of several minutes).
    keep = os.environ.get("WHIP_WHEP_LAB_RESULTS")
    out = Path(keep) / server if keep else Path(tempfile.mkdtemp(prefix=f"whip-whep-lab-{server}-"))
    run = lab.run(lab.SERVERS[server], out, list(header.get("suite_args", [])),
                  timeout_s=float(header.get("timeout_s", 600)))
    assert run.results is not None, f"{server}: the lab produced no results.json: {run.error} (timings {run.timings}, logs in {out})"
    assert not run.error, f"{server}: {run.error}"
    comparison = expectations.compare(rows, run.results)
    if comparison.changed_ids:
        again = lab.run(lab.SERVERS[server], out / "recheck", list(header.get("suite_args", [])),
                        timeout_s=float(header.get("timeout_s", 600)), cases=comparison.changed_ids)
        assert again.results is not None, f"{server}: the re-run of changed cases produced no results: {again.error}"
        rechecked = {k: v for k, v in rows.items() if k in comparison.changed_ids}
        comparison = expectations.recheck(comparison, expectations.compare(rechecked, again.results))
    if comparison.pending or comparison.fix_landed:
        warnings.warn(f"{server}: {comparison.report()}", stacklevel=1)
    assert comparison.ok, f"{server}: verdicts differ from expected/{server}.toml (reports in {out})\n{comparison.report()}"
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
