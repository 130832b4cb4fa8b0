"""A fixed publish URL with its secret in the path (Cloudflare's scheme), as a vendor runs the suite:
no file of the reports folder (the merge matrix too) and no console line shows the secret, failures included."""

from __future__ import annotations

import httpx

from whip_whep_conformance.harness.embedded import EmbeddedServer
from whip_whep_conformance.protocol import profiles

from .test_plain_environment import PLAIN, cli_in_plain_environment

# A Fail whose messages name session URLs (the session URL carries the secret on this server),
# beside cases that pass: every kind of message and label is written.
FAULT = "delete-keeps-session"
CASES = "session_setup or test_http_methods or test_delete"


def test_fixed_url_secret_appears_in_no_report_and_no_console_line(tmp_path):
    server = EmbeddedServer(profiles.CLOUDFLARE, token=False, faults=[FAULT], ice_servers=[])
    server.start()
    try:
        live = httpx.post(f"{server.base_url}/client/v4/accounts/vendor/stream/live_inputs",
                          headers={"Authorization": f"Bearer {server.api_token}"}, timeout=10).json()["result"]
        secret = live["webRTC"]["url"].split("/")[-3]
        reports = tmp_path / "reports"
        run = cli_in_plain_environment(
            [f"--endpoint={live['webRTC']['url']}", f"--whep-endpoint={live['webRTCPlayback']['url']}",
             f"--reports-dir={reports}", "-k", CASES], tmp_path)
        merged = cli_in_plain_environment(["merge", str(reports / "results.json"), "-o", str(reports / "matrix.html")], tmp_path)
    finally:
        server.stop()
    assert merged.returncode == 0, merged.stderr
    results = (reports / "results.json").read_text()
    assert '"Fail"' in results and "[redacted]/webRTC/publish" in results, \
        f"the run did not fail and name the endpoint (exit {run.returncode}): nothing was proven\n{run.stdout[-2000:]}"
    leaks = {str(p.relative_to(reports)): p.read_bytes().count(secret.encode())
             for p in sorted(reports.rglob("*")) if p.is_file()}
    leaks["console"] = (run.stdout + run.stderr + merged.stdout + merged.stderr).count(secret)
    shown = {where: n for where, n in leaks.items() if n}
    assert not shown, f"the publish secret {secret} shows in {shown} (times each)"
