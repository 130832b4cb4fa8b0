"""An HTTP client that records every exchange of a conformance case, for its wire log.

Failures must show what was sent and received; reports become CI artifacts, so secrets
(Bearer tokens, ICE passwords) are redacted before anything is stored.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

import httpx

_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
_ICE_PWD = re.compile(r"^(a=ice-pwd:)\S+", re.MULTILINE)
_MAX_BODY = 64 * 1024


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    text = _ICE_PWD.sub(r"\1[redacted]", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


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
        self.secrets = tuple(s for s in secrets if s)

    def _headers(self, headers: httpx.Headers) -> list[tuple[str, str]]:
        return [
            (k, "[redacted]" if k.lower() in _SECRET_HEADERS else redact_text(v, self.secrets))
            for k, v in headers.multi_items()
        ]

    def record(self, request: httpx.Request, response: httpx.Response | None, error: str, started: float) -> Exchange:
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
            exchange.response_headers = self._headers(response.headers)
            exchange.response_body = redact_text(_body(response.content), self.secrets)
        self.exchanges.append(exchange)
        return exchange

    def last(self) -> str:
        return self.exchanges[-1].summary() if self.exchanges else "no HTTP exchange"


class TargetUnreachable(Exception):
    """The target did not answer at all (connection refused, DNS failure, timeout)."""


class WireClient:
    """httpx.AsyncClient with a wire log, deadlines on every request and precise errors."""

    def __init__(self, log: WireLog, timeout_s: float, verify: bool | str = True) -> None:
        self.log = log
        self._client = httpx.AsyncClient(timeout=timeout_s, verify=verify, follow_redirects=False)

    async def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        request = self._client.build_request(method, url, **kwargs)
        started = time.monotonic()
        try:
            response = await self._client.send(request)
            await response.aread()
        except httpx.TimeoutException as exc:
            self.log.record(request, None, f"timed out: {type(exc).__name__}", started)
            raise TargetUnreachable(f"{method} {url} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            self.log.record(request, None, f"{type(exc).__name__}: {exc}", started)
            raise TargetUnreachable(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc
        self.log.record(request, response, "", started)
        return response

    async def aclose(self) -> None:
        await self._client.aclose()
