"""An HTTP client that records every exchange of a conformance case, for its wire log.

Failures must show what was sent and received; reports become CI artifacts, so secrets
(Bearer tokens, ICE passwords) are redacted before anything is stored.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import asdict, dataclass, field

from urllib.parse import parse_qsl, urlsplit

import httpx

from whip_whep_conformance.harness.outcome import CaseOutcome
from whip_whep_conformance.verdicts import Verdict

_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
_ICE_PWD = re.compile(r"^(a=ice-pwd:)\S+", re.MULTILINE)
_ICE_PWD_VALUE = re.compile(r"^a=ice-pwd:(\S{8,})", re.MULTILINE)  # ICE passwords are 22+ characters (RFC 8839 §5.4)


def ice_passwords(*texts: str) -> list[str]:
    """The a=ice-pwd values of SDP or sdpfrag bodies: once seen, redacted wherever else they appear
    (a server put `ufrag:pwd` in its ETag, which If-Match then sends back)."""
    return [value for text in texts for value in _ICE_PWD_VALUE.findall(text or "")]
_LINK_CREDENTIAL = re.compile(r'(;\s*credential\s*=\s*)("(?:[^"\\]|\\.)*"|[^;,\s]+)', re.IGNORECASE)
_MAX_BODY = 64 * 1024


def redact_text(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    text = _ICE_PWD.sub(r"\1[redacted]", text)
    text = _LINK_CREDENTIAL.sub(r"\1[redacted]", text)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def redact_document(value, secrets: tuple[str, ...] | list[str]):
    """A document (dicts, lists, strings) with every secret replaced: the last pass over a report
    before it is written, whatever label or message carried a secret past the wire log."""
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {redact_document(k, secrets): redact_document(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_document(v, secrets) for v in value)
    return value


def redact_secrets(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """Only the given secrets replaced (files written by others, e.g. allure's, are not SDP)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


_SECRET_LOOKING = re.compile(r"^[A-Za-z0-9_\-]{16,}$")


def url_secrets(url: str | None, public: tuple[str | None, ...] = ()) -> list[str]:
    """Parts of a URL that look like credentials: long random path segments (Cloudflare's publish
    secret) and query values, unless they also appear in a URL known to be public (the play URL)."""
    if not url:
        return []
    split = urlsplit(url)
    public_text = " ".join(p for p in public if p)
    found = [seg for seg in split.path.split("/") if _SECRET_LOOKING.match(seg) and seg not in public_text]
    found += [value for _, value in parse_qsl(split.query) if len(value) >= 8 and value not in public_text]
    return found


@dataclass
class Exchange:
    """One request and its response (or the error that replaced it)."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str
    status: int | None = None
    reason: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    error: str = ""
    elapsed_ms: float = 0.0

    def summary(self) -> str:
        outcome = f"{self.status} {self.reason}".strip() if self.status else f"no response ({self.error})"
        return f"{self.method} {self.url} -> {outcome}"

    def to_json(self) -> dict:
        return asdict(self)


def _body(content: bytes) -> str:
    text = content[:_MAX_BODY].decode("utf-8", errors="replace")
    return text + ("\n[… truncated]" if len(content) > _MAX_BODY else "")


class WireLog:
    """The exchanges of one case, redacted."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self.exchanges: list[Exchange] = []
        self.secrets: list[str] = [s for s in secrets if s]

    def add_secrets(self, values: list[str]) -> None:
        """Values learnt during the case (a minted publish secret) that must not be reported."""
        new = [v for v in dict.fromkeys(values) if v and v not in self.secrets]
        if not new:
            return
        self.secrets.extend(new)
        for exchange in self.exchanges:  # exchanges that carried it before it was known
            exchange.url = redact_text(exchange.url, self.secrets)
            exchange.response_body = redact_text(exchange.response_body, self.secrets)
            exchange.request_headers = [(k, redact_text(v, self.secrets)) for k, v in exchange.request_headers]
            exchange.response_headers = [(k, redact_text(v, self.secrets)) for k, v in exchange.response_headers]

    def redact(self, text: str) -> str:
        return redact_text(text, self.secrets)

    def _headers(self, headers: httpx.Headers) -> list[tuple[str, str]]:
        return [
            (k, "[redacted]" if k.lower() in _SECRET_HEADERS else redact_text(v, self.secrets))
            for k, v in headers.multi_items()
        ]

    def record(self, request: httpx.Request, response: httpx.Response | None, error: str, started: float,
               body: str | None = None) -> Exchange:
        """`body`: what a streamed response delivered (its content was never read whole)."""
        self.add_secrets(ice_passwords(_body(request.content)))
        exchange = Exchange(
            method=request.method,
            url=redact_text(str(request.url), self.secrets),
            request_headers=self._headers(request.headers),
            request_body=redact_text(_body(request.content), self.secrets),
            error=error,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1),
        )
        if response is not None:
            exchange.status = response.status_code
            exchange.reason = response.reason_phrase
            text = _body(response.content) if body is None else _body(body.encode())
            self.add_secrets(ice_passwords(_body(request.content), text))
            exchange.response_headers = self._headers(response.headers)
            exchange.response_body = redact_text(text, self.secrets)
        self.exchanges.append(exchange)
        return exchange

    def last(self) -> str:
        return self.exchanges[-1].summary() if self.exchanges else "no HTTP exchange"


class RateLimit:
    """At most `rate` requests per second from this process (--max-rate), to be gentle with a
    production target; None means no cap."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self._next = 0.0

    async def wait(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)  # pacing requests, not synchronising with anything


RATE_LIMIT = RateLimit()


class TargetUnreachable(CaseOutcome, Exception):
    """The target did not answer at all (connection refused, DNS failure, timeout): the case is an
    Error, reported with this class's name as any other crash is."""

    verdict = Verdict.ERROR

    def reason(self) -> str:
        return f"{type(self).__name__}: {self}".strip()


@dataclass
class PipelinedReply:
    """The first response of a pipelined pair, read off the wire: its status, and the bytes that came
    between its header section and the second response's status line (content, if any)."""

    status: int
    between: bytes


class WireClient:
    """httpx.AsyncClient with a wire log, deadlines on every request and precise errors."""

    def __init__(self, log: WireLog, timeout_s: float, verify: bool | str = True) -> None:
        self.log = log
        self.timeout_s = timeout_s
        self.verify = verify
        self._client = httpx.AsyncClient(timeout=timeout_s, verify=verify, follow_redirects=False)

    async def pipelined(self, method: str, url: str, **kwargs) -> PipelinedReply:
        """Send a request and, on the same connection before any answer, an OPTIONS with Connection:
        close; read both answers raw. httpx hides what a response carries beyond its framing (a 204's
        stray bytes), which RFC 9110 §15.3.5 checks need to see."""
        request = self._client.build_request(method, url, **kwargs)
        split = urlsplit(url)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
        follow = f"OPTIONS {target} HTTP/1.1\r\nHost: {request.headers['Host']}\r\nConnection: close\r\n\r\n"
        await RATE_LIMIT.wait()
        await RATE_LIMIT.wait()  # two requests
        started = time.monotonic()
        try:
            data = await asyncio.wait_for(self._raw(split, head.encode() + b"\r\n" + request.content + follow.encode()),
                                          self.timeout_s)
        except (asyncio.TimeoutError, OSError) as exc:
            self.log.record(request, None, f"pipelined: {type(exc).__name__}: {exc}", started)
            raise TargetUnreachable(f"{method} {url} (pipelined): {type(exc).__name__}: {exc}") from exc
        first, _, rest = data.partition(b"\r\n\r\n")
        status_line = first.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        between = rest.split(b"HTTP/1.", 1)[0] if b"HTTP/1." in rest else rest
        exchange = self.log.record(request, None, "", started)
        exchange.status, exchange.reason = status, parts[2] if len(parts) > 2 else ""
        exchange.response_body = redact_text(_body(between), self.log.secrets)
        return PipelinedReply(status, between)

    async def _raw(self, split, payload: bytes) -> bytes:
        """Both answers' bytes: read until the second answer's header section is complete (or the
        server closes), so a server that ignores Connection: close does not hold the read open."""
        context: ssl.SSLContext | None = httpx.create_ssl_context(verify=self.verify) if split.scheme == "https" else None
        port = split.port or (443 if split.scheme == "https" else 80)
        reader, writer = await asyncio.open_connection(split.hostname, port, ssl=context)
        data = b""
        try:
            writer.write(payload)
            await writer.drain()
            while chunk := await reader.read(65536):
                data += chunk
                first_end = data.find(b"\r\n\r\n")
                second = data.find(b"HTTP/1.", first_end + 4) if first_end >= 0 else -1
                if second >= 0 and data.find(b"\r\n\r\n", second) >= 0:
                    break
            return data
        finally:
            writer.close()

    async def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        request = self._client.build_request(method, url, **kwargs)
        await RATE_LIMIT.wait()
        started = time.monotonic()
        try:
            # httpx's timeouts bound each read; a server that drips a byte at a time needs a total.
            response = await asyncio.wait_for(self._send(request), self.timeout_s)
        except asyncio.TimeoutError as exc:
            self.log.record(request, None, f"no complete response within {self.timeout_s:g} s", started)
            raise TargetUnreachable(f"{method} {url}: no complete response within {self.timeout_s:g} s") from exc
        except httpx.TimeoutException as exc:
            self.log.record(request, None, f"timed out: {type(exc).__name__}", started)
            raise TargetUnreachable(f"{method} {url} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            self.log.record(request, None, f"{type(exc).__name__}: {exc}", started)
            raise TargetUnreachable(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc
        self.log.record(request, response, "", started)
        return response

    async def open_stream(self, url: str, **kwargs) -> "StreamedResponse":
        """GET a response that arrives over time (text/event-stream); its lines are read with
        deadlines and logged when it is closed."""
        request = self._client.build_request("GET", url, **kwargs)
        await RATE_LIMIT.wait()
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(self._client.send(request, stream=True), self.timeout_s)
        except (asyncio.TimeoutError, httpx.TransportError) as exc:
            self.log.record(request, None, f"{type(exc).__name__}: {exc}", started)
            raise TargetUnreachable(f"GET {url}: no response head within {self.timeout_s:g} s ({type(exc).__name__})") from exc
        return StreamedResponse(self.log, request, response, started)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._client.send(request)
        await response.aread()
        return response

    async def aclose(self) -> None:
        await self._client.aclose()


class StreamedResponse:
    """An open response read line by line (server-sent events), logged on close with what came."""

    def __init__(self, log: WireLog, request: httpx.Request, response: httpx.Response, started: float) -> None:
        self.log, self.request, self.response, self.started = log, request, response, started
        self.lines: list[str] = []
        self._iter = response.aiter_lines()
        self.ended = False

    async def next_line(self, timeout_s: float) -> str | None:
        """The next line; None once the server has ended the response. asyncio.TimeoutError when
        none comes within `timeout_s`."""
        if self.ended:
            return None
        try:
            line = await asyncio.wait_for(self._iter.__anext__(), timeout_s)
        except (StopAsyncIteration, httpx.TransportError):
            self.ended = True
            return None
        self.lines.append(line)
        return line

    async def aclose(self) -> None:
        await self.response.aclose()
        self.log.record(self.request, self.response, "", self.started, body="\n".join(self.lines))
