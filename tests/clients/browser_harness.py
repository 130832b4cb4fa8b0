"""A shared headless Chromium for the browser tests: the browser-library client tests (Eyevinn, medooze,
Cloudflare's example) and tests/test_browser.py (the reference server's demo page).

What it gives a test module:
- `ChromiumHarness` (the module-scoped `harness` fixture: import it into the test module): one Chromium
  (the Debian package, driven by Playwright) per module, on an asyncio loop of its own thread, so a
  module's tests share one browser start and each test's scenario (pages and any aiortc peer) runs as
  one coroutine with a deadline (`harness.run(coro, timeout_s)`);
- nothing leaves loopback, by default: no host name resolves in the browser (`CHROMIUM_FLAGS`), and
  every request a page of `new_page()` makes is observed; `run()` fails the test if one was for a
  non-loopback address. Observed, never routed: once a page or its context has a route
  (`page.route`, `context.route`), Playwright answers every CORS preflight of that page itself
  (204, allowing whatever the request asks for), which hides the browser's real CORS decision — the
  very thing a cross-origin client test judges;
- `serve_folder()`: client pages and scripts on another origin than the server (a socket this process
  binds, served from a thread: the port is known at once), and `serve_on_origin()` for a page that must
  share the server's origin (Playwright answers those paths; the server never sees them). It routes, so
  it is for same-origin pages only, which send no preflight;
- `ICE_OVERRIDE_JS`, run before any page script: it wraps `RTCPeerConnection` so every ICE server list
  a page asks for (constructor and `setConfiguration`) becomes `[]` — the Eyevinn clients hard-code
  Google's STUN server, and no peer may contact a public address — and notes what was asked for;
- `page_report()`: what the override saw (ICE servers asked for, any that survived, non-host
  candidates) and `VIDEO_STATS_JS` helpers reading codec and frame counts from any peer connection.
"""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import mimetypes
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.async_api import Browser, Page, Request, Route, async_playwright

# The last flag: no host name resolves (127.0.0.1, the tests' own loopback, is left alone), so a request
# or a STUN/TURN server by name that slipped past the ICE override below goes nowhere.
CHROMIUM_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--no-sandbox",
                  "--disable-gpu", "--disable-dev-shm-usage", "--allow-loopback-in-peer-connection",
                  "--autoplay-policy=no-user-gesture-required",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
LAUNCH_TIMEOUT_S = 60

def ice_filter_js(keep: str) -> str:
    """Before any page script: every RTCPeerConnection a page makes (constructor and `setConfiguration`)
    keeps only the ICE servers for every URL of which the JS predicate `keep` holds; the others are
    dropped and every one asked for is noted. Each connection is kept in `__harness.pcs` so a test can
    read its stats without reaching into a library's private fields."""
    return r"""
(() => {
  const Native = window.RTCPeerConnection;
  const keep = KEEP;
  const harness = { asked: [], dropped: [], pcs: [] };
  const filter = (config, where) => {
    const copy = Object.assign({}, config || {});
    const kept = [];
    for (const server of copy.iceServers || []) {
      harness.asked.push({ where, urls: server.urls });
      const urls = [].concat(server.urls || server.url || []);
      if (urls.length && urls.every(keep)) kept.push(server); else harness.dropped.push({ where, urls: server.urls });
    }
    copy.iceServers = kept;
    return copy;
  };
  class FilteredPeerConnection extends Native {
    constructor(config, ...rest) { super(filter(config, 'constructor'), ...rest); harness.pcs.push(this); }
    setConfiguration(config) { return super.setConfiguration(filter(config, 'setConfiguration')); }
  }
  window.RTCPeerConnection = FilteredPeerConnection;
  window.webkitRTCPeerConnection = FilteredPeerConnection;
  window.__harness = harness;
})();
""".replace("KEEP", keep)


# Every ICE server list becomes `[]`, whatever the page (or the library in it) asked for: the Eyevinn
# clients hard-code Google's STUN server, and no peer may contact a public address.
ICE_OVERRIDE_JS = ice_filter_js("(url) => false")

# Codec and counters of a peer connection's video, from getStats (`pc` is one of __harness.pcs).
VIDEO_STATS_JS = r"""
async ([index, direction]) => {
  const pc = window.__harness.pcs[index];
  const stats = await pc.getStats();
  let found = null;
  stats.forEach(s => {
    if (s.type === direction && s.kind === 'video') {
      const codec = s.codecId ? stats.get(s.codecId) : null;
      found = { codec: codec ? codec.mimeType : null,
                frames: direction === 'inbound-rtp' ? (s.framesDecoded || 0) : (s.framesEncoded || 0),
                packets: direction === 'inbound-rtp' ? (s.packetsReceived || 0) : (s.packetsSent || 0) };
    }
  });
  return found;
}
"""

# What the ICE override saw on a page: servers asked for, servers any connection still has, candidates
# gathered that are not host candidates (a STUN or TURN server answered).
PAGE_REPORT_JS = r"""
async () => {
  const h = window.__harness;
  const survived = [], nonHost = [];
  for (const pc of h.pcs) {
    if (pc.signalingState !== 'closed') survived.push(...(pc.getConfiguration().iceServers || []));
    try {
      (await pc.getStats()).forEach(s => {
        if (s.type === 'local-candidate' && s.candidateType !== 'host') nonHost.push(s.candidateType);
      });
    } catch (e) { /* a closed connection has no stats left */ }
  }
  return { asked: h.asked, survived, nonHost, pcs: h.pcs.length };
}
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed: `./run tests` installs it (apt-get install chromium) when run as root")
    return path


def leaves_loopback(url: str) -> bool:
    """Whether a request for `url` goes to another machine (data:, blob: and the like go nowhere)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return False
    if parts.hostname == "localhost":
        return False
    try:
        return not ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return True  # a host name: loopback only if it is "localhost"


class ChromiumHarness:
    """One headless Chromium on an asyncio loop in its own thread; scenarios run there with deadlines."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="chromium harness", daemon=True)
        self._thread.start()
        self._pw = None
        self.browser: Browser | None = None
        self.off_loopback: list[str] = []  # requests of the harness's pages for non-loopback addresses
        self.run(self._launch(), LAUNCH_TIMEOUT_S)

    async def _launch(self) -> None:
        self._pw = await async_playwright().start()
        self.browser = await self._pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)

    def run(self, coro: Awaitable[Any], timeout_s: float, what: str = "the scenario") -> Any:
        """Run `coro` on the harness's loop; past `timeout_s` it is cancelled and the test fails, naming `what`."""
        before = len(self.off_loopback)
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout_s), self.loop)
        try:
            result = future.result(timeout_s + 10)
        except (asyncio.TimeoutError, TimeoutError):
            future.cancel()
            pytest.fail(f"{what} did not finish within {timeout_s:g} s (a client waited on something that never came)")
        left = self.off_loopback[before:]
        if left:
            pytest.fail(f"during {what}, the pages sent requests to non-loopback addresses (only loopback is allowed): {left}")
        return result

    async def new_page(self, log: "NetworkLog | None" = None) -> Page:
        """A page in a fresh context (no cache or storage shared with other tests) with the ICE override,
        its requests observed (not routed: see the module's docstring) for any that would leave loopback."""
        assert self.browser is not None
        context = await self.browser.new_context()
        await context.add_init_script(ICE_OVERRIDE_JS)
        context.on("request", self._note_request)
        page = await context.new_page()
        if log is not None:
            log.watch(page)
        return page

    def _note_request(self, request: Request) -> None:
        if leaves_loopback(request.url):
            self.off_loopback.append(f"{request.method} {request.url}")

    def close(self) -> None:
        async def stop() -> None:
            if self.browser is not None:
                await self.browser.close()
            if self._pw is not None:
                await self._pw.stop()
        try:
            self.run(stop(), 30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


@pytest.fixture(scope="module")
def harness() -> Iterator[ChromiumHarness]:
    """One Chromium for the module's tests (import this fixture into the test module)."""
    chromium_harness = ChromiumHarness()
    yield chromium_harness
    chromium_harness.close()


@dataclass
class NetworkLog:
    """The HTTP exchanges pages made (method, URL, status; status None when no response came, e.g. a
    CORS refusal), and page errors and console errors: what the client sent, as the browser saw it."""

    exchanges: list[tuple[str, str, int | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    created: list[tuple[str, str]] = field(default_factory=list)  # (URL POSTed to, Location of its 201)
    failures: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, URL, the browser's reason)
    _answered: set[int] = field(default_factory=set)

    def watch(self, page: Page) -> None:
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        # "Failed to load resource: … status of 404" is the browser's note of an HTTP status, which
        # `exchanges` holds and the tests judge there; any other console error is kept.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console.error: {message.text}")

    def _response(self, response) -> None:
        self._answered.add(id(response.request))
        self.exchanges.append((response.request.method, response.url, response.status))
        location = response.headers.get("location")
        if response.request.method == "POST" and response.status == 201 and location:
            self.created.append((response.url, urljoin(response.url, location)))

    def _failed(self, request) -> None:
        # A request whose response came but whose body was never read (the page closed) also "fails".
        if id(request) not in self._answered:
            self.exchanges.append((request.method, request.url, None))
            self.failures.append((request.method, request.url, request.failure))

    def page_errors(self) -> list[str]:
        """The pages' uncaught errors alone (no console errors: a browser logs a CORS refusal there)."""
        return [error for error in self.errors if error.startswith("pageerror: ")]

    def statuses(self, method: str, url_part: str = "") -> list[int | None]:
        return [status for m, url, status in self.exchanges if m == method and url_part in url]

    def urls(self, method: str) -> list[str]:
        return [url for m, url, _ in self.exchanges if m == method]

    def locations(self, *posted_to: str) -> list[str]:
        """The resources the POSTs to `posted_to` created (their Location, absolute)."""
        return [location for url, location in self.created if url in posted_to]


def answered_2xx(status: int | None) -> bool:
    """A status of `NetworkLog` (None: no response came) that is a success."""
    return status is not None and 200 <= status < 300


async def pc_index(page: Page, expression: str) -> int:
    """Which of the page's peer connections (`__harness.pcs`, the index `video_stats` takes) is the one
    `expression` evaluates to in the page (e.g. a library's `client.peerConnection`); -1 if none."""
    return await page.evaluate(f"() => window.__harness.pcs.indexOf({expression})")


async def page_report(page: Page) -> dict:
    return await page.evaluate(PAGE_REPORT_JS)


async def video_stats(page: Page, direction: str, index: int = 0) -> dict | None:
    """`direction` is 'inbound-rtp' or 'outbound-rtp'; `index` picks the page's peer connection."""
    return await page.evaluate(VIDEO_STATS_JS, [index, direction])


async def wait_video_frames(page: Page, count: int, timeout_s: float, index: int = 0) -> dict | None:
    """Until the page's connection `index` has decoded `count` video frames; its stats at that point
    (or at the deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        stats = await video_stats(page, "inbound-rtp", index) if await page.evaluate(
            "(i) => window.__harness.pcs.length > i", index) else None
        if (stats and stats["frames"] >= count) or loop.time() > deadline:
            return stats
        # The browser's counters change inside its own process: reading them is the only event there is.
        await asyncio.sleep(0.2)


class _Files(http.server.SimpleHTTPRequestHandler):
    """Files from several folders: `/lib/...` from the npm clients' folder, the rest from the pages'."""

    roots: dict[str, Path] = {}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, root in self.roots.items():
            if path.startswith(prefix):
                return str(root / path[len(prefix):].lstrip("/"))
        return str(Path("/nonexistent"))

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def _handler(roots: dict[str, Path]) -> type[_Files]:
    return type("Files", (_Files,), {"roots": dict(sorted(roots.items(), key=lambda kv: -len(kv[0])))})


@contextmanager
def serve_folder(roots: dict[str, Path]) -> Iterator[str]:
    """Serve `roots` (URL prefix -> folder) on 127.0.0.1 from a thread; yields the origin."""
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(roots))
    thread = threading.Thread(target=files.serve_forever, name="client pages", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{files.server_address[1]}"
    finally:
        files.shutdown()
        files.server_close()
        thread.join(10)


async def serve_on_origin(page: Page, origin: str, prefix: str, roots: dict[str, Path]) -> str:
    """Answer `origin + prefix + path` from `roots` inside the browser (Playwright routing): a page
    on the very origin of the server under test, which never sees these requests. Returns the base URL."""
    ordered = sorted(roots.items(), key=lambda kv: -len(kv[0]))

    async def fulfil(route: Route) -> None:
        path = route.request.url[len(origin) + len(prefix):].split("?", 1)[0]
        for url_prefix, root in ordered:
            if path.startswith(url_prefix):
                file = root / path[len(url_prefix):].lstrip("/")
                if file.is_file():
                    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    await route.fulfill(status=200, body=file.read_bytes(), content_type=kind)
                    return
        await route.fulfill(status=404, body=b"not found")

    await page.route(f"{origin}{prefix}/**", fulfil)
    return f"{origin}{prefix}"
