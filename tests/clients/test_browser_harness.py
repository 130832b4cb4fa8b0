"""The browser harness's own guards, proven both ways: a page's request for a host name resolves
nowhere (no name resolves in the harness's Chromium) and fails the scenario that made it, while a
scenario whose requests stay on loopback passes.

The name asked for is under `.localhost`, which Chromium answers itself with a loopback address when
no rule stops it (no DNS query is ever sent, whatever happens), and which the harness's check counts as
a name, not loopback: so it sees the request, and the failure it records is the resolver rule's."""

from __future__ import annotations

import pytest

from tests.clients.browser_harness import NetworkLog, harness, serve_folder  # noqa: F401 (a fixture)

FETCH = "url => fetch(url, { mode: 'no-cors' }).then(() => 'answered', e => `threw ${e.name}`)"


async def _fetch_from_a_page(harness, page_url: str, url: str, seen: dict) -> None:
    log = NetworkLog()
    seen["log"] = log
    page = await harness.new_page(log)
    await page.goto(page_url)
    seen["fetch"] = await page.evaluate(FETCH, url)
    await page.context.close()


def test_a_request_by_host_name_resolves_nowhere_and_fails_the_run(harness, tmp_path):
    (tmp_path / "page.html").write_text("<!doctype html><title>a page</title>")
    with serve_folder({"/": tmp_path}) as origin:
        control: dict = {}
        harness.run(_fetch_from_a_page(harness, f"{origin}/page.html", f"{origin}/page.html", control), 20,
                    "a page fetching from its loopback origin")
        assert control["fetch"] == "answered", f"the control fetch on loopback failed: {control}"
        seen: dict = {}
        name = f"http://conformance-harness.localhost:{origin.rsplit(':', 1)[1]}/page.html"
        with pytest.raises(pytest.fail.Exception) as failed:
            harness.run(_fetch_from_a_page(harness, f"{origin}/page.html", name, seen), 20, "a page fetching a name")
    assert "non-loopback" in str(failed.value) and name in str(failed.value), f"the run's failure: {failed.value}"
    assert seen["fetch"] == "threw TypeError" and seen["log"].failures == [("GET", name, "net::ERR_NAME_NOT_RESOLVED")], \
        f"a fetch of {name} gave {seen['fetch']}, failures {seen['log'].failures} (ERR_NAME_NOT_RESOLVED wanted)"
