"""A browser WHIP/WHEP library as a command `whip-whep-conformance clients` can start and stop, the way a
user's web page would run it: one headless Chromium (the Debian package, driven by Playwright) loads a page
on its own origin, the library publishes the fake camera and microphone (or plays), and the page runs
until the process is told to stop (SIGINT or SIGTERM), when it calls the library's own way of ending.

    python -m tests.clients.browser_client LIBRARY whip|whep URL [TOKEN]

LIBRARY is one of `LIBRARIES`:
- medooze: `whip-whep` 1.2.0 (`whip.js` publish / `whep.js` view, stop() on both), as its README shows;
- cloudflare: Cloudflare Stream's example `WHIPClient.js` / `WHEPClient.js` (pinned in ../shared/peers),
  served unmodified. They take no token (a given token is unused, and said so). WHIPClient ends with
  disconnectStream(); WHEPClient has no way to end, so its page closes;
- eyevinn: `@eyevinn/whip-web-client` 1.1.7 (ingest, destroy()) and `@eyevinn/webrtc-player` 0.13.0
  (load, unload()), as their READMEs and demo show them.

The pages are tests/clients/pages/*.html, the same a user's page would be (and the browser-library tests
use). Nothing leaves loopback: no host name resolves in the browser, and every ICE server a page asks
for is dropped unless every URL of it names a loopback literal address (127.0.0.0/8 or ::1: a scenario's
own STUN or TURN server); the hard-coded public STUN servers of the Cloudflare and Eyevinn clients go that
way. Host candidates are not hidden behind mDNS names (resolving one would send multicast off the machine).

Output: the library's label and version first (the harness reads "version N"), then what the page did;
the exit code is 0 when the library started and ended without an error, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page, async_playwright

from tests.clients.browser_harness import CHROMIUM_FLAGS, chromium, ice_filter_js, serve_folder
from tests.clients.npm_browser_clients import PACKAGES, browser_clients
from tests.interop.peers import peers_dir

PAGES = Path(__file__).resolve().parent / "pages"
CLOUDFLARE_EXAMPLE = "cloudflare-stream-webrtc-example"
READY_TIMEOUT_MS = 15_000
START_TIMEOUT_S = 30  # the library's publish()/view() promise (POST, answer, ICE as the library waits)
STOP_TIMEOUT_S = 10  # the library's own stop (its DELETE)
# Host candidates as addresses, not mDNS names: the server's ICE agent would resolve a `.local` name by
# multicast on the machine's real interfaces.
FLAGS = [*CHROMIUM_FLAGS, "--disable-features=WebRtcHideLocalIpsWithMdns"]

# Every RTCPeerConnection keeps only the ICE servers whose URLs all name a loopback literal address (the
# browser runs on the host, where any other address is a real network's); the rest are dropped and noted.
ICE_FILTER_JS = ice_filter_js(r"(url) => /^(?:stuns?|turns?):(127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?(?:\?.*)?$/i.test(url)")


@dataclass(frozen=True)
class Library:
    """One library's page and the page expressions that start and end a session (`u`, `t`: URL, token)."""

    label: str
    page: str
    ready: str  # true once the page's module has loaded the library
    start: dict[str, str]  # protocol -> expression (a promise) taking [u, t]
    stop: dict[str, str | None]  # protocol -> expression (a promise); None: the library has no way to end
    takes_token: bool = True


LIBRARIES: dict[str, Library] = {
    "medooze": Library(
        f"medooze whip-whep version {PACKAGES['whip-whep']}", "medooze.html", "window.medooze !== undefined",
        start={"whip": "([u, t]) => window.medooze.publish(u, t || undefined)",
               "whep": "([u, t]) => window.medooze.view(u, t || undefined)"},
        stop={"whip": "() => window.medooze.stop('whip')", "whep": "() => window.medooze.stop('whep')"}),
    "cloudflare": Library(
        "Cloudflare Stream example WHIPClient.js/WHEPClient.js (workers-sdk 884e418)", "cloudflare.html",
        "self.harnessReady === true",
        start={"whip": "([u]) => { self.client = new WHIPClient(u, document.getElementById('input-video')); }",
               "whep": "([u]) => { self.client = new WHEPClient(u, document.getElementById('remote-video')); }"},
        # disconnectStream() sends the DELETE and closes; where it throws, a page's next step is close()
        stop={"whip": "() => self.client.disconnectStream().finally(() => self.client.peerConnection.close())",
              "whep": None},
        takes_token=False),
    "eyevinn": Library(
        f"Eyevinn whip-web-client version {PACKAGES['@eyevinn/whip-web-client']} / webrtc-player "
        f"{PACKAGES['@eyevinn/webrtc-player']}", "eyevinn.html", "window.eyevinn !== undefined",
        start={"whip": "([u, t]) => window.eyevinn.publish(u, t || undefined, false)",
               "whep": "([u, t]) => window.eyevinn.play(u, t || undefined)"},
        stop={"whip": "() => window.eyevinn.destroy()", "whep": "() => window.eyevinn.unload()"}),
}


def say(line: str) -> None:
    print(line, flush=True)


def _roots() -> dict[str, Path]:
    roots = {"/lib/": browser_clients(), "/": PAGES}
    example = peers_dir() / CLOUDFLARE_EXAMPLE
    if example.is_dir():
        roots["/example/"] = example
    return roots


def _told_to_stop(which: list[str]) -> asyncio.Future:
    """Done when the outer process passes on a signal (a line naming it) or is gone (end of stdin).
    Read on a daemon thread, so an inner process ending by itself never waits for its input."""
    loop, done = asyncio.get_running_loop(), asyncio.get_running_loop().create_future()

    def read() -> None:
        line = sys.stdin.readline().strip()
        which.append(line or "the outer process ended")
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

    threading.Thread(target=read, name="stop line", daemon=True).start()
    return done


def _watch(page: Page) -> None:
    page.on("console", lambda m: say(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: say(f"pageerror: {e}"))


async def session(library: Library, protocol: str, url: str, token: str) -> int:
    which: list[str] = []
    stopped = _told_to_stop(which)
    say(f"{library.label} ({protocol}) in Chromium")
    if token and not library.takes_token:
        say("this library takes no token: the token is not sent")
    status = 0
    with serve_folder(_roots()) as origin:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium(), args=FLAGS)
            say(f"Chromium version {browser.version}")
            context = await browser.new_context()
            await context.add_init_script(ICE_FILTER_JS)
            page = await context.new_page()
            _watch(page)
            await page.goto(f"{origin}/{library.page}")
            await page.wait_for_function(f"() => {library.ready}", timeout=READY_TIMEOUT_MS)
            start = asyncio.ensure_future(page.evaluate(library.start[protocol], [url, token]))
            await asyncio.wait({start, stopped}, timeout=START_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
            if start.done() and start.exception() is not None:
                say(f"the library's start failed: {start.exception()}")
                status = 1
            elif not start.done() and not stopped.done():
                say(f"the library's start had not returned after {START_TIMEOUT_S} s; the page runs on")
            elif start.done():
                say("started")
            if status == 0:
                await stopped
                say(f"stopping ({which[0]})")
                stop = library.stop[protocol]
                if stop is None:
                    say("the library has no way to end a session: the page closes")
                else:
                    try:
                        await asyncio.wait_for(page.evaluate(stop), STOP_TIMEOUT_S)
                        say("the library's stop returned")
                    except Exception as exc:  # the library's own error, reported as it gave it
                        say(f"the library's stop failed: {exc}")
                        status = 1
            dropped = await page.evaluate("() => window.__harness.dropped")
            if dropped:
                say(f"ICE servers dropped (not on the test network): {dropped}")
            start.cancel()
            await context.close()
            await browser.close()
    say(f"ended (exit {status})")
    return status


def _descendants(root: int) -> list[int]:
    """The processes below `root` (children first found, then theirs), from /proc's parent links."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def outer(argv: list[str], inner_command: list[str] | None = None) -> int:
    """The process the harness starts and signals. The browser runs in a session of its own (`--inner`):
    a signal to this process group (a terminal's Ctrl-C, the harness's SIGINT) would otherwise kill
    Chromium and Playwright's driver before the page could end its session; so a SIGINT or SIGTERM here
    is passed on as a line, and the page ends the library's way within STOP_TIMEOUT_S (+ the browser's
    close). A second signal (the harness's SIGTERM after its grace, a second Ctrl-C) ends the waiting:
    the browser is killed then, not left running on its own after this process is gone. If this process
    dies, the inner one reads end of input and ends the same way.
    `inner_command` replaces the browser session (tests of this relay)."""
    told, done, which = threading.Event(), threading.Event(), []

    def pass_on(signum: int, _frame: object) -> None:
        which.append(signal.Signals(signum).name)
        told.set()
        if len(which) > 1:
            done.set()

    # before the inner process starts, so that no signal is lost: one that comes early waits for it
    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    inner = subprocess.Popen(inner_command or [sys.executable, "-m", "tests.clients.browser_client", "--inner", *argv],
                             stdin=subprocess.PIPE, text=True, start_new_session=True)
    while not told.wait(0.5):  # the inner process may end by itself (its start failed) before any signal
        if inner.poll() is not None:
            return inner.returncode
    try:
        assert inner.stdin is not None
        inner.stdin.write(which[0] + "\n")
        inner.stdin.flush()
    except BrokenPipeError:  # it had ended by itself meanwhile
        pass
    threading.Thread(target=lambda: (inner.wait(), done.set()), name="inner exit", daemon=True).start()
    # the page's deadline runs from the signal, not from whichever poll of the loop above it fell in
    if done.wait(STOP_TIMEOUT_S + 20) and inner.poll() is not None:
        return inner.returncode
    # told twice, or the page did not end within its deadline: the browser goes with it. Playwright starts
    # Chromium detached (a process group of its own), so the inner group alone would leave it running:
    # every descendant of the inner process is killed.
    for pid in [*_descendants(inner.pid), inner.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    say(f"told to stop again ({which[1]}): the browser is killed" if len(which) > 1
        else "the browser did not end in time: killed")
    return inner.wait()


def main(argv: list[str]) -> int:
    inner = argv[:1] == ["--inner"]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("library", choices=sorted(LIBRARIES))
    parser.add_argument("protocol", choices=["whip", "whep"])
    parser.add_argument("url")
    parser.add_argument("token", nargs="?", default="")
    args = parser.parse_args(argv[int(inner):])
    if not inner:
        return outer(argv)
    return asyncio.run(session(LIBRARIES[args.library], args.protocol, args.url, args.token))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
